// hot_cluster: three applications embedding shoal::engine with a hot-key
// service (hotkey_app, tests/cluster/hotkey_app.cpp) on loopback, for the
// cluster tests of hot keys.
//
//   hot_cluster c{{{"flush_ms", 5}, {"rules", rule(100, 1500)}}, redis.port()};
//   c.start_all();                          // every node sees every cache and shard
//   c.record("n1", "sku:42", 300);          // through n1's control port
//   c.get("n2", "sku:42")["source"];        // "hot_cache", "loader" or "fallback"
#pragma once

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/support/child_process.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/temp_dir.hpp"

namespace shoal::test {

using nlohmann::json;
using namespace std::chrono;

inline std::string binary(const std::string& rel) {
  auto dir = std::getenv("SHOAL_BINARY_DIR");
  return dir ? std::string{dir} + "/" + rel : rel;
}

/// Three hotkey_app nodes n1..n3 with the `hotkeys` section given; `extra`
/// sections are added to every node's config, and `env` to every node's
/// environment.
class hot_cluster {
public:
  explicit hot_cluster(json hotkeys, uint16_t redis_port = 0, json extra = json::object(),
                       std::vector<std::pair<std::string, std::string>> env = {})
      : dir_("hotkeys"), hotkeys_(std::move(hotkeys)), redis_port_(redis_port),
        extra_(std::move(extra)), env_(std::move(env)) {
    hotkeys_["http_api"] = {{"secret_env", "SHOAL_TEST_HOTKEY_API"}};
    for (auto& n : names) {
      port_[n] = test::free_port();
      http_[n] = test::free_port();
      control_[n] = test::free_port();
    }
    for (auto& n : names)
      write_config(n);
  }

  void write_config(const std::string& n) {
    json peers = json::array();
    for (auto& p : names)
      if (p != n)
        peers.push_back({{"name", p}, {"port", port_[p]}});
    json cfg{{"node", {{"name", n}, {"port", port_[n]}}},
             {"cluster", {{"peers", peers}, {"app_id", "shoal-hotkey-test"}}},
             {"http", {{"port", http_[n]}}},
             {"log", {{"level", "info"}}},
             {"hotkeys", hotkeys_}};
    if (redis_port_)
      cfg["redis"] = {{"port", redis_port_}, {"timeout_ms", 300}};
    cfg.update(extra_);
    std::ofstream{config(n)} << cfg.dump(2);
  }

  std::string config(const std::string& n) const {
    return (dir_ / (n + ".json")).string();
  }

  void start(const std::string& n) {
    // Another test may bind the HTTP or control port (picked at random, free when
    // picked) before the node does: start again on new ones. Peers only know the
    // node port, so it stays.
    for (int attempt = 0;; ++attempt) {
      test::process_options opts;
      opts.program = binary("tests/cluster/hotkey_app");
      opts.args = {"--config", config(n), "--control-port", std::to_string(control_[n])};
      opts.env = env_;
      opts.env.emplace_back("SHOAL_TEST_HOTKEY_API", api_secret);
      opts.name = n;
      opts.output_dir = dir_.path();
      procs_.erase(n);
      auto [it, _] = procs_.emplace(n, test::child_process{opts});
      if (it->second.wait_for_output("ready control=", seconds{15}))
        return;
      auto out = it->second.output();
      bool port_taken = out.find("cannot listen for HTTP") != std::string::npos ||
                        out.find("control port") != std::string::npos;
      if (!port_taken || attempt == 3)
        FAIL() << it->second.output_tail();
      it->second.kill();
      it->second.wait_for_exit(seconds{10});
      http_[n] = test::free_port();
      control_[n] = test::free_port();
      write_config(n);
    }
  }

  /// Starts all nodes and waits until each knows every node's cache and shard.
  void start_all() {
    for (auto& n : names)
      start(n);
    ASSERT_TRUE(eventually(
        [&] {
          for (auto& n : names) {
            auto s = status(n);
            if (!s.is_object() || s["nodes"].size() != 3 || s["shard_nodes"].size() != 3)
              return false;
          }
          return true;
        },
        seconds{20}))
        << dump();
  }

  test::child_process& proc(const std::string& n) { return procs_.at(n); }

  /// The `hotkeys` section of node `n`'s /status (null when it does not answer).
  json status(const std::string& n) { return status_section(n, "hotkeys"); }

  /// Section `section` of node `n`'s /status (null when absent or no answer).
  json status_section(const std::string& n, const std::string& section) {
    httplib::Client c{"127.0.0.1", http_[n]};
    c.set_read_timeout(3, 0);
    auto res = c.Get("/status");
    if (!res || res->status != 200)
      return json{};
    return json::parse(res->body).value(section, json{});
  }

  bool hot_on(const std::string& n, const std::string& key) {
    httplib::Client c{"127.0.0.1", http_[n]};
    c.set_read_timeout(3, 0);
    auto res = c.Get("/hotkeys");
    if (!res || res->status != 200)
      return false;
    auto body = json::parse(res->body);
    for (auto& k : body["hot_keys"])
      if (k["key"] == key)
        return true;
    return false;
  }

  void record(const std::string& n, const std::string& key, int count) {
    httplib::Client c{"127.0.0.1", control_[n]};
    auto res = c.Post(("/record?key=" + key + "&n=" + std::to_string(count)).c_str());
    ASSERT_TRUE(res && res->status == 200);
  }

  /// The bearer secret of hotkeys.http_api on every node.
  static inline const std::string api_secret = "hotkey-api-secret";

  bool admin(const std::string& n, const std::string& path) {
    return admin_status(n, path, "Bearer " + api_secret) == 200;
  }

  /// The status of POST `path` on node `n` with `authorization` (none when empty)
  /// and `body`; 0 when the node did not answer.
  int admin_status(const std::string& n, const std::string& path,
                   const std::string& authorization, const std::string& body = {}) {
    httplib::Client c{"127.0.0.1", http_[n]};
    httplib::Headers headers;
    if (!authorization.empty())
      headers.emplace("Authorization", authorization);
    auto res = c.Post(path.c_str(), headers, body, "text/plain");
    return res ? res->status : 0;
  }

  json get(const std::string& n, const std::string& key) {
    httplib::Client c{"127.0.0.1", control_[n]};
    c.set_read_timeout(10, 0);
    auto res = c.Get(("/get?key=" + key).c_str());
    return res && res->status == 200 ? json::parse(res->body) : json{};
  }

  std::string dump() {
    std::string out;
    for (auto& n : names)
      out += n + ": " + status(n).dump() + "\n" +
             (procs_.count(n) ? procs_.at(n).output_tail(1500) : "") + "\n";
    return out;
  }

  const std::vector<std::string> names{"n1", "n2", "n3"};

private:
  test::temp_dir dir_;
  json hotkeys_;
  uint16_t redis_port_ = 0;
  json extra_;
  std::vector<std::pair<std::string, std::string>> env_;
  std::map<std::string, uint16_t> port_, http_, control_;
  std::map<std::string, test::child_process> procs_;
};

inline json rule(int threshold, int duration_ms) {
  return json::array({{{"key", "*"},
                       {"threshold", threshold},
                       {"window_ms", 2000},
                       {"duration_ms", duration_ms}}});
}

} // namespace shoal::test

// A token-keeper cluster for tests: the stand-in token endpoint in this process, a
// shared Redis, and node processes (token_storm_node) whose threads call get().
//
//   token_cluster c({"n1", "n2", "n3"}, standin_options, 1500);
//   token_cluster m({"n1", "n2"}, redis, upstream, 1500, 8, spec);  // spec.mirror: + MySQL
//   c.start_all();                          // waits for "storm ready" on each
//   c.wait_tokens(9, 60s);                  // the stand-in issued 9 tokens
//   auto r = c.finish("n1");                // SIGTERM, the node's JSON result
//
// A watcher thread records when the stand-in issued each token, so that tests can
// check there was one upstream call per refresh cycle.
//
// By default every node keeps one wechat provider "wx"; a token_cluster_spec
// gives other providers (built from the stand-in's URL), the one the storm
// threads get, and turns the HTTP API on.

#pragma once

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/standins/token_standin.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/mariadb_server.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace shoal::test {

using namespace std::chrono;
using nlohmann::json;

struct token_cluster_spec {
  /// The providers of every node, given the stand-in's base URL; unset: one
  /// wechat provider "wx" (secret in SHOAL_TEST_WX_SECRET, wx-test-secret).
  std::function<json(const std::string& base_url)> providers;
  /// The provider the storm threads get and status() reports.
  std::string provider = "wx";
  /// Turns $.tokens.http_api on, its bearer secret being http_api_secret.
  bool http_api = false;
  /// Turns $.tokens.mirror on, in this server.
  mariadb_server* mirror = nullptr;
};

/// The bearer secret of the HTTP API when token_cluster_spec::http_api is set.
inline const std::string http_api_secret = "token-api-secret";

class token_cluster {
public:
  token_cluster(std::vector<std::string> names, redis_server& redis,
                standins::token_standin_options upstream, int64_t lease_ms = 1500,
                int threads = 32, token_cluster_spec spec = {})
      : dir_("token-cluster"), names_(std::move(names)), redis_(redis),
        standin_(std::move(upstream)), threads_(threads), spec_(std::move(spec)) {
    if (spec_.mirror)
      mysql_password_ = spec_.mirror->password();
    if (standin_.start() == 0)
      throw std::runtime_error("stand-in did not start");
    for (auto& n : names_) {
      ports_[n] = free_port();
      http_ports_[n] = free_port();
    }
    for (auto& n : names_) {
      json peers = json::array();
      for (auto& p : names_)
        if (p != n)
          peers.push_back({{"name", p}, {"port", ports_[p]}});
      json provider{{"name", "wx"},
                    {"kind", "wechat"},
                    {"base_url", standin_.base_url()},
                    {"appid", "wx-test-app"},
                    {"secret_env", "SHOAL_TEST_WX_SECRET"},
                    {"connect_timeout_ms", 500},
                    {"read_timeout_ms", 1500},
                    {"daily_quota", 0},
                    {"refresh", {{"backoff_initial_ms", 50}, {"backoff_max_ms", 400}}}};
      json tokens{{"lease_ms", lease_ms},
                  {"providers", spec_.providers ? spec_.providers(standin_.base_url())
                                                : json::array({provider})}};
      if (spec_.http_api)
        tokens["http_api"] = {{"secret_env", "SHOAL_TEST_TOKEN_API"}};
      json cfg{{"node", {{"name", n}, {"port", ports_[n]}}},
               {"cluster", {{"peers", peers}, {"app_id", "shoal-token-test"}}},
               {"http", {{"port", http_ports_[n]}}},
               {"log", {{"level", "info"}}},
               {"redis", {{"port", redis_.port()}, {"timeout_ms", 1000}}},
               {"tokens", tokens}};
      if (spec_.mirror) {
        cfg["mysql"] = {{"main",
                         {{"port", spec_.mirror->port()},
                          {"password_env", "SHOAL_TEST_MIRROR_PW"},
                          {"connect_timeout_ms", 500},
                          {"read_timeout_ms", 1000}}}};
        cfg["tokens"]["mirror"] = {{"mysql", "main"},
                                   {"table", "shoal_test.token_mirror"}};
      }
      std::ofstream{(dir_.path() / (n + ".json")).string()} << cfg.dump(2);
    }
    watcher_ = std::thread{[this] { watch(); }};
  }

  ~token_cluster() {
    stop_watch_ = true;
    watcher_.join();
    procs_.clear();
    standin_.stop();
  }

  standins::token_standin& upstream() { return standin_; }

  void start(const std::string& n) {
    process_options opts;
    auto dir = std::getenv("SHOAL_BINARY_DIR");
    opts.program = std::string{dir ? dir : "."} + "/tests/cluster/token_storm_node";
    opts.args = {(dir_.path() / (n + ".json")).string(), spec_.provider,
                 std::to_string(threads_), standin_.base_url()};
    opts.env = {{"SHOAL_TEST_WX_SECRET", "wx-test-secret"},
                {"SHOAL_TEST_TOKEN_API", http_api_secret},
                {"SHOAL_TEST_REJECT_FILE", reject_file(n)},
                {"SHOAL_TEST_MIRROR_PW", mysql_password_}};
    opts.name = n;
    opts.output_dir = dir_.path();
    procs_.erase(n);
    auto [it, _] = procs_.emplace(n, child_process{opts});
    ASSERT_TRUE(it->second.wait_for_output("storm ready", seconds{30}))
        << it->second.output_tail();
  }

  void start_all() {
    for (auto& n : names_) {
      start(n);
      if (::testing::Test::HasFatalFailure())
        return;
    }
  }

  child_process& proc(const std::string& n) { return procs_.at(n); }

  /// Where node `n` looks for a rejection to report (see token_storm_node).
  std::string reject_file(const std::string& n) const {
    return (dir_.path() / (n + ".reject")).string();
  }

  /// Makes node `n` report its token of `version` as rejected.
  void reject(const std::string& n, uint64_t version) {
    std::filesystem::remove(reject_file(n) + ".done");
    auto tmp = reject_file(n) + ".tmp";
    std::ofstream{tmp} << version;
    std::filesystem::rename(tmp, reject_file(n));
  }

  /// True once node `n` reported the rejection.
  bool rejected(const std::string& n) {
    return std::filesystem::exists(reject_file(n) + ".done");
  }

  /// SIGTERM to `n` and its result line.
  json finish(const std::string& n) {
    auto& p = procs_.at(n);
    p.terminate();
    auto m = p.wait_for_match(std::regex{"result (\\{.*\\})"}, seconds{20});
    if (!m) {
      ADD_FAILURE() << n << " printed no result: " << p.output_tail();
      return json::object();
    }
    p.wait_for_exit(seconds{10});
    return json::parse(m->at(1));
  }

  /// Node `n`'s HTTP port (/status, and the token API when it is on).
  uint16_t http_port(const std::string& n) const { return http_ports_.at(n); }

  /// The node's /status "tokens.PROVIDER" section, for the spec's provider by
  /// default (empty when unreachable).
  json status(const std::string& n, const std::string& provider = {}) {
    httplib::Client http{"127.0.0.1", http_ports_.at(n)};
    http.set_connection_timeout(1, 0);
    http.set_read_timeout(2, 0);
    auto res = http.Get("/status");
    if (!res || res->status != 200)
      return json::object();
    auto j = json::parse(res->body);
    auto& p = provider.empty() ? spec_.provider : provider;
    return j.contains("tokens") && j["tokens"].contains(p) ? j["tokens"][p]
                                                           : json::object();
  }

  /// The node whose keeper holds the lease, per the nodes' /status.
  std::string keeper() {
    for (auto& n : names_)
      if (procs_.count(n) && status(n).value("keeper_here", false))
        return n;
    return {};
  }

  bool wait_tokens(int64_t issued, milliseconds timeout) {
    return eventually([&] { return standin_.tokens_issued() >= issued; }, timeout);
  }

  /// When the stand-in issued its newest token, once that token is at most `young`
  /// old: when the newest is older (the nodes took long to start, as under a
  /// sanitizer), waits for the next one. A default time_point when none came in
  /// `timeout`. Tests that time an action within a token's life start here.
  steady_clock::time_point young_token(milliseconds young, milliseconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
      auto n = standin_.tokens_issued();
      if (n > 0 && eventually([&] { return issues().size() >= static_cast<size_t>(n); },
                              milliseconds{1000})) {
        auto at = issues().at(static_cast<size_t>(n - 1)).first;
        if (steady_clock::now() - at <= young)
          return at;
      }
      auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
      if (left <= milliseconds{0} || !wait_tokens(n + 1, left))
        break;
    }
    return {};
  }

  /// When the stand-in issued each token, as steps of the issued count.
  std::vector<std::pair<steady_clock::time_point, int64_t>> issues() {
    std::lock_guard<std::mutex> guard(mutex_);
    return issues_;
  }

  /// Checks that the tokens of one stand-in `endpoint` ("gettoken", "getticket"
  /// ...) were issued at least `min_gap` apart: one per refresh cycle.
  void expect_one_issue_per_cycle(const std::string& endpoint, milliseconds min_gap) {
    auto times = standin_.issue_times(endpoint);
    for (size_t i = 1; i < times.size(); ++i)
      EXPECT_GE(duration_cast<milliseconds>(times[i] - times[i - 1]).count(),
                min_gap.count())
          << endpoint << " tokens " << i << " and " << i + 1
          << " were issued in one cycle";
  }

  /// Checks that every upstream call issued one token and calls were at least
  /// `min_gap` apart: one call per refresh cycle, none duplicated. A failure
  /// shows each node's keeper notes (leases taken and lost), which say why.
  void expect_one_call_per_cycle(milliseconds min_gap) {
    auto steps = issues();
    for (size_t i = 0; i < steps.size(); ++i) {
      EXPECT_EQ(steps[i].second, static_cast<int64_t>(i + 1))
          << "two tokens issued within one poll (duplicate refresh) at step " << i
          << keeper_notes();
      if (i > 0) {
        EXPECT_GE(
            duration_cast<milliseconds>(steps[i].first - steps[i - 1].first).count(),
            min_gap.count())
            << "tokens " << i << " and " << i + 1 << " were fetched in one cycle"
            << keeper_notes();
      }
    }
  }

  /// Every node's log lines about its keeper and leases, for failure messages.
  std::string keeper_notes() {
    std::string out;
    for (auto& [n, p] : procs_) {
      out += "\n--- " + n + " keeper notes:";
      std::istringstream lines{p.output()};
      std::string line;
      while (std::getline(lines, line))
        if (line.find("keeper") != std::string::npos ||
            line.find("lease") != std::string::npos)
          out += "\n" + line;
    }
    return out;
  }

private:
  void watch() {
    int64_t last = 0;
    while (!stop_watch_) {
      auto now = standin_.tokens_issued();
      if (now != last) {
        std::lock_guard<std::mutex> guard(mutex_);
        issues_.emplace_back(steady_clock::now(), now);
        last = now;
      }
      std::this_thread::sleep_for(milliseconds{2});
    }
  }

  temp_dir dir_;
  std::vector<std::string> names_;
  redis_server& redis_;
  standins::token_standin standin_;
  int threads_;
  token_cluster_spec spec_;
  std::string mysql_password_;
  std::map<std::string, uint16_t> ports_;
  std::map<std::string, uint16_t> http_ports_;
  std::map<std::string, child_process> procs_;
  std::mutex mutex_;
  std::vector<std::pair<steady_clock::time_point, int64_t>> issues_;
  std::atomic<bool> stop_watch_{false};
  std::thread watcher_;
};

} // namespace shoal::test

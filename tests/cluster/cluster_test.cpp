// Cluster behaviour with real `shoal node` processes on loopback: forming,
// noticing a killed or frozen node within 3 s, taking it back when it returns,
// clean shutdown, and mutual TLS keeping out nodes without the cluster's CA.

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/support/child_process.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/temp_dir.hpp"

namespace shoal {
namespace {

using namespace std::chrono;
using nlohmann::json;

using test::eventually;
using test::shoal_binary;
using test::source_dir;

/// A set of node configs on free ports and the processes running them.
class cluster {
public:
  explicit cluster(std::vector<std::string> names, json extra = json::object())
      : dir_("cluster"), names_(std::move(names)) {
    for (auto& n : names_) {
      ports_[n] = test::free_port();
      http_ports_[n] = test::free_port();
    }
    for (auto& n : names_)
      write_config(n, extra);
  }

  void write_config(const std::string& n, const json& extra) {
    json peers = json::array();
    for (auto& p : names_)
      if (p != n)
        peers.push_back({{"name", p}, {"port", ports_[p]}});
    json cfg{{"node", {{"name", n}, {"port", ports_[n]}}},
             {"cluster", {{"peers", peers}, {"app_id", "shoal-test"}}},
             {"http", {{"port", http_ports_[n]}}},
             {"log", {{"level", "debug"}}}};
    for (auto& [key, value] : extra.items()) {
      if (value.is_object() && cfg.contains(key))
        cfg[key].update(value);
      else
        cfg[key] = value;
    }
    if (cfg.contains("tls") && cfg["tls"].is_object() &&
        cfg["tls"].value("per_node", false)) {
      cfg["tls"].erase("per_node");
      cfg["tls"]["certificate"] = (dir_ / "certs" / (n + ".pem")).string();
      cfg["tls"]["key"] = (dir_ / "certs" / (n + ".key")).string();
      cfg["tls"]["cafile"] = (dir_ / "certs" / "ca.pem").string();
    }
    std::ofstream{config_path(n)} << cfg.dump(2);
  }

  std::string config_path(const std::string& n) const {
    return (dir_ / (n + ".json")).string();
  }

  const test::temp_dir& dir() const { return dir_; }

  void start(const std::string& n) {
    test::process_options opts;
    opts.program = shoal_binary();
    opts.args = {"node", "--config", config_path(n)};
    opts.name = n;
    opts.output_dir = dir_.path();
    procs_.erase(n);
    auto [it, _] = procs_.emplace(n, test::child_process{opts});
    ASSERT_TRUE(it->second.wait_for_output("ready node=" + n, seconds{15}))
        << it->second.output_tail();
  }

  void start_all() {
    for (auto& n : names_)
      start(n);
  }

  test::child_process& proc(const std::string& n) { return procs_.at(n); }

  /// The peer states `n` reports on /status ("up"/"down"), empty if unreachable.
  std::map<std::string, std::string> peers_of(const std::string& n) {
    httplib::Client http{"127.0.0.1", http_ports_[n]};
    http.set_connection_timeout(1, 0);
    http.set_read_timeout(3, 0);
    auto res = http.Get("/status");
    std::map<std::string, std::string> result;
    if (!res || res->status != 200)
      return result;
    auto status = json::parse(res->body);
    for (auto& p : status.at("peers"))
      result[p.at("name").get<std::string>()] = p.at("state").get<std::string>();
    return result;
  }

  bool sees(const std::string& observer, const std::string& peer,
            const std::string& state) {
    auto view = peers_of(observer);
    auto i = view.find(peer);
    return i != view.end() && i->second == state;
  }

  bool all_up() {
    for (auto& a : names_)
      for (auto& b : names_)
        if (a != b && !sees(a, b, "up"))
          return false;
    return true;
  }

  std::string dump() {
    std::string out;
    for (auto& n : names_) {
      out += n + ": ";
      for (auto& [p, s] : peers_of(n))
        out += p + "=" + s + " ";
      out += "\n";
      if (procs_.count(n))
        out += procs_.at(n).output_tail(1500) + "\n";
    }
    return out;
  }

  uint16_t http_port(const std::string& n) { return http_ports_[n]; }

private:
  test::temp_dir dir_;
  std::vector<std::string> names_;
  std::map<std::string, uint16_t> ports_;
  std::map<std::string, uint16_t> http_ports_;
  std::map<std::string, test::child_process> procs_;
};

TEST(cluster, three_nodes_form_a_cluster) {
  cluster c{{"n1", "n2", "n3"}};
  c.start_all();
  EXPECT_TRUE(eventually([&] { return c.all_up(); }, seconds{10})) << c.dump();
}

TEST(cluster, a_node_started_before_its_peers_keeps_trying) {
  cluster c{{"n1", "n2"}};
  c.start("n1");
  // n1 has been refused at least a few times before n2 exists.
  ASSERT_TRUE(c.proc("n1").wait_for_output("cannot reach peer n2", seconds{5}))
      << c.proc("n1").output_tail();
  c.start("n2");
  EXPECT_TRUE(eventually([&] { return c.all_up(); }, seconds{10})) << c.dump();
}

TEST(cluster, killed_node_is_seen_down_within_3s_and_up_again_after_restart) {
  cluster c{{"n1", "n2", "n3"}};
  c.start_all();
  ASSERT_TRUE(eventually([&] { return c.all_up(); }, seconds{10})) << c.dump();
  auto t0 = steady_clock::now();
  c.proc("n3").kill();
  EXPECT_TRUE(
      eventually([&] { return c.sees("n1", "n3", "down") && c.sees("n2", "n3", "down"); },
                 seconds{3}))
      << "not seen down within 3 s\n"
      << c.dump();
  auto detected = duration_cast<milliseconds>(steady_clock::now() - t0).count();
  RecordProperty("kill_detection_ms", static_cast<int>(detected));
  EXPECT_TRUE(c.sees("n1", "n2", "up")) << "survivors stay connected\n" << c.dump();
  c.start("n3");
  EXPECT_TRUE(eventually([&] { return c.all_up(); }, seconds{10})) << c.dump();
}

TEST(cluster, frozen_node_is_seen_down_within_3s_and_up_again_when_resumed) {
  cluster c{{"n1", "n2", "n3"}};
  c.start_all();
  ASSERT_TRUE(eventually([&] { return c.all_up(); }, seconds{10})) << c.dump();
  c.proc("n2").stop();
  EXPECT_TRUE(
      eventually([&] { return c.sees("n1", "n2", "down") && c.sees("n3", "n2", "down"); },
                 seconds{3}))
      << "not seen down within 3 s\n"
      << c.dump();
  c.proc("n2").resume();
  EXPECT_TRUE(eventually([&] { return c.all_up(); }, seconds{10})) << c.dump();
}

TEST(cluster, sigterm_and_sigint_stop_a_node_cleanly_within_5s) {
  cluster c{{"n1", "n2"}};
  c.start_all();
  ASSERT_TRUE(eventually([&] { return c.all_up(); }, seconds{10})) << c.dump();
  for (auto sig : {SIGTERM, SIGINT}) {
    auto t0 = steady_clock::now();
    c.proc("n1").signal(sig);
    auto status = c.proc("n1").wait_for_exit(seconds{5});
    ASSERT_TRUE(status.has_value()) << "still running 5 s after signal " << sig;
    EXPECT_TRUE(status->success()) << status->to_string();
    EXPECT_LT(steady_clock::now() - t0, seconds{5});
    c.start("n1");
  }
}

TEST(cluster, nodes_with_another_app_id_cannot_join) {
  cluster c{{"n1", "n2"}};
  c.write_config("n2", json{{"cluster", {{"app_id", "someone-else"}}}});
  c.start_all();
  // Each node tries every reconnect_max_ms at least; after several rounds of
  // refused handshakes neither side has let the other in.
  ASSERT_TRUE(c.proc("n1").wait_for_output("cannot reach peer n2", seconds{5}));
  auto mark = c.proc("n2").mark();
  ASSERT_TRUE(c.proc("n2").wait_for_output("cannot reach peer n1", seconds{10},
                                           test::output_stream::both, mark));
  EXPECT_TRUE(c.sees("n1", "n2", "down")) << c.dump();
  EXPECT_TRUE(c.sees("n2", "n1", "down")) << c.dump();
}

class tls_cluster : public ::testing::Test {
protected:
  static void make_certs(const std::filesystem::path& dir,
                         std::vector<std::string> nodes) {
    std::string cmd = source_dir() + "/scripts/make-certs " + dir.string();
    for (auto& n : nodes)
      cmd += " " + n;
    cmd += " >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
};

TEST_F(tls_cluster, nodes_with_the_cluster_certificates_join_and_others_are_refused) {
  cluster c{{"n1", "n2"}, json{{"tls", {{"per_node", true}}}}};
  make_certs(c.dir() / "certs", {"n1", "n2"});
  c.start_all();
  ASSERT_TRUE(eventually([&] { return c.all_up(); }, seconds{10})) << c.dump();
  auto status =
      json::parse(httplib::Client{"127.0.0.1", c.http_port("n1")}.Get("/status")->body);
  EXPECT_EQ(status.at("tls"), true);

  // n2 comes back with a certificate from another CA: refused.
  c.proc("n2").terminate();
  ASSERT_TRUE(c.proc("n2").wait_for_exit(seconds{5}));
  make_certs(c.dir() / "rogue", {"n2"});
  c.write_config("n2", json{{"tls",
                             {{"certificate", (c.dir() / "rogue" / "n2.pem").string()},
                              {"key", (c.dir() / "rogue" / "n2.key").string()},
                              {"cafile", (c.dir() / "rogue" / "ca.pem").string()}}}});
  ASSERT_TRUE(eventually([&] { return c.sees("n1", "n2", "down"); }, seconds{3}))
      << c.dump();
  c.start("n2");
  auto mark1 = c.proc("n2").mark();
  ASSERT_TRUE(c.proc("n2").wait_for_output("cannot reach peer n1", seconds{5},
                                           test::output_stream::both, mark1));
  ASSERT_TRUE(c.proc("n2").wait_for_output("cannot reach peer n1", seconds{10},
                                           test::output_stream::both,
                                           c.proc("n2").mark()));
  EXPECT_TRUE(c.sees("n1", "n2", "down")) << c.dump();
  EXPECT_TRUE(c.sees("n2", "n1", "down")) << c.dump();

  // And without any certificate (plain TCP) it cannot join either.
  c.proc("n2").terminate();
  ASSERT_TRUE(c.proc("n2").wait_for_exit(seconds{5}));
  {
    std::ifstream in{c.config_path("n2")};
    auto cfg = json::parse(in);
    cfg.erase("tls");
    std::ofstream{c.config_path("n2")} << cfg.dump(2);
  }
  c.start("n2");
  ASSERT_TRUE(c.proc("n2").wait_for_output("cannot reach peer n1", seconds{5}));
  ASSERT_TRUE(c.proc("n2").wait_for_output("cannot reach peer n1", seconds{10},
                                           test::output_stream::both,
                                           c.proc("n2").mark()));
  EXPECT_TRUE(c.sees("n1", "n2", "down")) << c.dump();
  EXPECT_TRUE(c.sees("n2", "n1", "down")) << c.dump();
}

TEST(cli, check_exits_0_on_valid_and_2_on_invalid_configs) {
  test::temp_dir dir{"check"};
  std::ofstream{dir / "good.json"} << R"({"node": {"name": "n1", "port": 7101}})";
  std::ofstream{dir / "bad.json"}
      << R"({"node": {"name": "n1", "port": "abc"}, "nodes": 1})";
  auto run = [&](const std::string& file) {
    test::process_options opts;
    opts.program = shoal_binary();
    opts.args = {"check", "--config", (dir / file).string()};
    opts.output_dir = dir.path();
    opts.name = file;
    test::child_process p{opts};
    auto status = p.wait_for_exit(seconds{10});
    EXPECT_TRUE(status.has_value());
    return std::make_pair(status ? status->code : -1, p.output());
  };
  auto [good_code, good_out] = run("good.json");
  EXPECT_EQ(good_code, 0) << good_out;
  auto [bad_code, bad_out] = run("bad.json");
  EXPECT_EQ(bad_code, 2) << bad_out;
  EXPECT_NE(
      bad_out.find("config error at $.node.port: expected integer 0..65535, got \"abc\""),
      std::string::npos)
      << bad_out;
  EXPECT_NE(bad_out.find("config error at $.nodes: unknown key"), std::string::npos)
      << bad_out;
}

} // namespace
} // namespace shoal

// What a monitoring system sees of a `shoal node`: GET /readyz, GET /healthz and
// GET /metrics. Readiness waits for a valid token and a reachable peer; health
// fails with the reason when a sync pipeline has stopped on an error; the metrics
// follow Prometheus' conventions, checked by promtool where Debian provides it.
// With http.tls, the same port serves HTTPS (and asks for a client certificate
// when client_cafile is set).

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/standins/token_standin.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/pipeline_config.hpp"
#include "tests/support/shared_servers.hpp"
#include "tests/support/temp_dir.hpp"

namespace shoal::test {
namespace {

using namespace std::chrono;
using nlohmann::json;

class node_health : public server_test {
protected:
  /// Starts `shoal node` with `cfg` written to DIR/NAME.json.
  child_process start_node(const std::string& name, const json& cfg,
                           std::vector<std::pair<std::string, std::string>> env = {}) {
    auto path = (dir_.path() / (name + ".json")).string();
    std::ofstream{path} << cfg.dump(2);
    process_options o;
    o.program = shoal_binary();
    o.args = {"node", "--config", path};
    o.env = std::move(env);
    o.output_dir = dir_.path();
    o.name = name;
    return child_process{o};
  }

  /// GET `path`: status and parsed JSON body (null when not JSON).
  static std::pair<int, json> get(uint16_t port, const std::string& path) {
    httplib::Client http{"127.0.0.1", port};
    http.set_read_timeout(5, 0);
    auto r = http.Get(path.c_str());
    if (!r)
      return {0, nullptr};
    return {r->status, json::parse(r->body, nullptr, false)};
  }

  static std::string reasons(const json& body) {
    return body.is_object() && body.contains("reasons") ? body["reasons"].dump() : "";
  }

  /// Runs `shoal sync ACTION --config DIR/NAME.json PIPELINE` to its end.
  std::pair<exit_status, std::string>
  shoal_sync(const std::string& action, const std::string& config_name,
             const std::string& pipeline,
             std::vector<std::pair<std::string, std::string>> env = {}) {
    process_options o;
    o.program = shoal_binary();
    o.args = {"sync", action, "--config",
              (dir_.path() / (config_name + ".json")).string(), pipeline};
    o.env = std::move(env);
    o.output_dir = dir_.path();
    o.name = "sync-" + action + "-" + std::to_string(++cli_runs_);
    child_process cli{o};
    auto status = cli.wait_for_exit(seconds{90});
    return {status.value_or(exit_status{}), cli.output()};
  }

  /// POST `path` with `secret` as bearer (none when empty): status and body.
  static std::pair<int, json> post(uint16_t port, const std::string& path,
                                   const std::string& secret) {
    httplib::Client http{"127.0.0.1", port};
    http.set_read_timeout(60, 0);
    httplib::Headers headers;
    if (!secret.empty())
      headers.emplace("Authorization", "Bearer " + secret);
    auto r = http.Post(path.c_str(), headers, "", "text/plain");
    if (!r)
      return {0, nullptr};
    return {r->status, json::parse(r->body, nullptr, false)};
  }

  /// The number of rows of `table` on `conn`, or -1 when it cannot be read.
  static int64_t count(mysql_connection& conn, const std::string& table) {
    auto r = conn.query("SELECT COUNT(*) FROM " + table);
    if (!r || r->rows.empty())
      return -1;
    return std::stoll(r->rows[0][0].value_or("-1"));
  }

  temp_dir dir_{"node-health"};
  int cli_runs_ = 0;
};

TEST_F(node_health, readyz_waits_for_a_valid_token_and_a_reachable_peer) {
  standins::token_standin_options up_options;
  up_options.error_rate = 1;
  up_options.errors = {"5xx"};
  standins::token_standin up{up_options};
  ASSERT_GT(up.start(), 0);
  auto port1 = free_port(), port2 = free_port();
  auto http1 = free_port(), http2 = free_port();
  auto cfg = [&](const std::string& self, uint16_t port, uint16_t http,
                 const std::string& peer, uint16_t peer_port) {
    return json{
        {"node", {{"name", self}, {"port", port}}},
        {"http", {{"port", http}}},
        {"cluster",
         {{"peers",
           json::array({{{"name", peer}, {"host", "127.0.0.1"}, {"port", peer_port}}})}}},
        {"redis", {{"port", redis().port()}}},
        {"tokens",
         {{"providers", json::array({{{"name", "wx"},
                                      {"kind", "wechat"},
                                      {"base_url", up.base_url()},
                                      {"appid", "wx-test-app"},
                                      {"secret_env", "SHOAL_TEST_WX_SECRET"}}})}}}};
  };
  std::vector<std::pair<std::string, std::string>> env{
      {"SHOAL_TEST_WX_SECRET", "wx-test-secret"}};
  auto n1 = start_node("n1", cfg("n1", port1, http1, "n2", port2), env);
  ASSERT_TRUE(n1.wait_for_output("ready node=n1", seconds{15})) << n1.output_tail();

  // The upstream fails and the peer is down: alive, not ready, and it says why.
  auto [health, health_body] = get(http1, "/healthz");
  EXPECT_EQ(health, 200) << health_body.dump();
  EXPECT_EQ(health_body["status"], "ok");
  auto [ready, ready_body] = get(http1, "/readyz");
  EXPECT_EQ(ready, 503);
  EXPECT_EQ(ready_body["status"], "not_ready");
  EXPECT_NE(reasons(ready_body).find("token wx"), std::string::npos) << ready_body.dump();
  EXPECT_NE(reasons(ready_body).find("cluster"), std::string::npos) << ready_body.dump();

  // The upstream answers: only the peer is missing.
  ASSERT_EQ(up.control({{"error_rate", 0}}), "");
  json body;
  ASSERT_TRUE(eventually(
      [&] {
        body = get(http1, "/readyz").second;
        return reasons(body).find("token wx") == std::string::npos;
      },
      seconds{15}))
      << body.dump();
  EXPECT_NE(reasons(body).find("cluster"), std::string::npos) << body.dump();

  // The peer comes: both nodes are ready.
  auto n2 = start_node("n2", cfg("n2", port2, http2, "n1", port1), env);
  ASSERT_TRUE(n2.wait_for_output("ready node=n2", seconds{15})) << n2.output_tail();
  for (auto http : {http1, http2}) {
    std::pair<int, json> r;
    EXPECT_TRUE(eventually(
        [&] {
          r = get(http, "/readyz");
          return r.first == 200;
        },
        seconds{15}))
        << http << ": " << r.second.dump();
    EXPECT_EQ(r.second, (json{{"status", "ok"}}));
  }

  // Kill the peer: n1 is no longer ready, and still alive.
  n2.kill();
  EXPECT_TRUE(
      eventually([&] { return get(http1, "/readyz").first == 503; }, seconds{15}));
  EXPECT_EQ(get(http1, "/healthz").first, 200);
}

TEST_F(node_health,
       healthz_fails_naming_the_pipeline_that_stopped_and_resume_restarts_it) {
  auto src = source().connect();
  auto dst = target().connect();
  for (auto* c : {&src, &dst}) {
    ASSERT_TRUE(c->exec("DROP DATABASE IF EXISTS hz"));
  }
  ASSERT_TRUE(src.exec("CREATE DATABASE hz"));
  ASSERT_TRUE(src.exec("CREATE TABLE hz.a (id INT PRIMARY KEY)"));
  auto http = free_port();
  json cfg{{"node", {{"name", "n1"}, {"port", free_port()}}},
           {"http", {{"port", http}}},
           {"sync",
            {{"http_api", {{"secret_env", "SHOAL_TEST_SYNC_SECRET"}}},
             {"pipelines", json::array({pipeline_json("hz", 778, source(), target(),
                                                      {{"include", json::array({"hz.*"})},
                                                       {"partitions", 2},
                                                       {"start", "snapshot"}})})}}}};
  auto node = start_node("n1", cfg,
                         {{"SHOAL_TEST_MYSQL_PW", source().password()},
                          {"SHOAL_TEST_SYNC_SECRET", "ops-secret"}});
  ASSERT_TRUE(node.wait_for_output("ready node=n1", seconds{15})) << node.output_tail();
  std::pair<int, json> r;
  ASSERT_TRUE(eventually(
      [&] {
        r = get(http, "/readyz");
        return r.first == 200;
      },
      seconds{30}))
      << r.second.dump();
  EXPECT_EQ(get(http, "/healthz").first, 200);
  ASSERT_TRUE(eventually(
      [&] {
        auto t = dst.query("SELECT COUNT(*) FROM information_schema.tables WHERE "
                           "table_schema = 'hz' AND table_name = 'a'");
        return t && !t->rows.empty() && t->rows[0][0].value_or("0") == "1";
      },
      seconds{30}));

  // A DDL the target rejects stops the pipeline: a person has to act.
  ASSERT_TRUE(dst.exec("DROP TABLE hz.a"));
  ASSERT_TRUE(src.exec("ALTER TABLE hz.a ADD COLUMN v INT"));
  ASSERT_TRUE(eventually(
      [&] {
        r = get(http, "/healthz");
        return r.first == 503;
      },
      seconds{30}))
      << r.second.dump();
  EXPECT_EQ(r.second["status"], "unhealthy");
  EXPECT_NE(reasons(r.second).find("sync pipeline hz failed"), std::string::npos)
      << r.second.dump();
  EXPECT_NE(reasons(r.second).find("ALTER TABLE hz.a ADD COLUMN v INT"),
            std::string::npos)
      << r.second.dump();
  EXPECT_EQ(get(http, "/readyz").first, 503);

  // The documented way back: apply the DDL's effect on the target by hand, then
  // resume. The pipeline reads again from its checkpoint; the DDL it recorded
  // finds the table changed since, so it is not run twice, and what came after
  // it follows. Resuming before the fix fails again at the same place.
  ASSERT_TRUE(src.exec("INSERT INTO hz.a VALUES (1, 10)"));
  EXPECT_EQ(post(http, "/sync/hz/resume", "").first, 401)
      << "the bearer secret is required";
  auto failed_epoch = get(http, "/sync/hz").second["epoch"].get<int64_t>();
  auto too_soon = post(http, "/sync/hz/resume", "ops-secret");
  ASSERT_EQ(too_soon.first, 200) << too_soon.second.dump();
  ASSERT_TRUE(eventually(
      [&] {
        auto st = get(http, "/sync/hz").second;
        r = get(http, "/healthz");
        return r.first == 503 && st["state"] == "failed" &&
               st["epoch"].get<int64_t>() > failed_epoch;
      },
      seconds{30}))
      << r.second.dump();
  EXPECT_NE(reasons(r.second).find("ALTER TABLE hz.a ADD COLUMN v INT"),
            std::string::npos)
      << r.second.dump();
  ASSERT_TRUE(dst.exec("CREATE TABLE hz.a (id INT PRIMARY KEY, v INT)"));
  auto resumed = post(http, "/sync/hz/resume", "ops-secret");
  ASSERT_EQ(resumed.first, 200) << resumed.second.dump();
  EXPECT_NE(resumed.second["message"].get<std::string>().find("restarted"),
            std::string::npos)
      << resumed.second.dump();
  ASSERT_TRUE(eventually(
      [&] {
        auto v = dst.query("SELECT v FROM hz.a WHERE id = 1");
        return v && !v->rows.empty() && v->rows[0][0] == std::optional<std::string>{"10"};
      },
      seconds{30}))
      << get(http, "/sync/hz").second.dump();
  ASSERT_TRUE(eventually([&] { return get(http, "/healthz").first == 200; }, seconds{10}))
      << get(http, "/healthz").second.dump();
  auto after = get(http, "/sync/hz").second;
  EXPECT_EQ(after["state"], "running");
  EXPECT_EQ(after["snapshot"]["rows"], 0)
      << "resumed from its checkpoint, not a new snapshot";
}

// pause stops the pipeline at a clean point and holds changes back (its binlog
// connection to the source is gone) until resume; both through `shoal sync`,
// which finds the node from its config and sends the bearer secret. A paused
// pipeline is not ready but not unhealthy: a person chose it.
TEST_F(node_health, shoal_sync_pauses_and_resumes_a_pipeline) {
  auto src = source().connect();
  auto dst = target().connect();
  for (auto* c : {&src, &dst})
    ASSERT_TRUE(c->exec("DROP DATABASE IF EXISTS ops"));
  ASSERT_TRUE(src.exec("CREATE DATABASE ops"));
  ASSERT_TRUE(src.exec("CREATE TABLE ops.t (id INT PRIMARY KEY)"));
  auto http = free_port();
  json cfg{
      {"node", {{"name", "n1"}, {"port", free_port()}}},
      {"http", {{"port", http}}},
      {"sync",
       {{"http_api", {{"secret_env", "SHOAL_TEST_SYNC_SECRET"}}},
        {"pipelines", json::array({pipeline_json("ops", 779, source(), target(),
                                                 {{"include", json::array({"ops.*"})},
                                                  {"partitions", 2},
                                                  {"start", "snapshot"}})})}}}};
  std::vector<std::pair<std::string, std::string>> env{
      {"SHOAL_TEST_MYSQL_PW", source().password()}, {"SHOAL_TEST_SYNC_SECRET", "s3cret"}};
  auto node = start_node("n1", cfg, env);
  ASSERT_TRUE(node.wait_for_output("ready node=n1", seconds{15})) << node.output_tail();
  ASSERT_TRUE(eventually([&] { return get(http, "/readyz").first == 200; }, seconds{30}))
      << get(http, "/readyz").second.dump();
  ASSERT_TRUE(src.exec("INSERT INTO ops.t VALUES (1)"));
  ASSERT_TRUE(eventually([&] { return count(dst, "ops.t") == 1; }, seconds{30}));

  // Bad requests say what is wrong.
  auto unknown = shoal_sync("pause", "n1", "nope", env);
  EXPECT_EQ(unknown.first.code, 2) << unknown.second;
  EXPECT_NE(unknown.second.find("no pipeline \"nope\""), std::string::npos)
      << unknown.second;
  auto no_secret = shoal_sync("pause", "n1", "ops", {{"SHOAL_TEST_SYNC_SECRET", ""}});
  EXPECT_FALSE(no_secret.first.success()) << no_secret.second;
  EXPECT_EQ(post(http, "/sync/ops/pause", "wrong").first, 401);

  auto paused = shoal_sync("pause", "n1", "ops", env);
  ASSERT_TRUE(paused.first.success()) << paused.second;
  EXPECT_NE(paused.second.find("paused"), std::string::npos) << paused.second;
  EXPECT_EQ(get(http, "/sync/ops").second["state"], "paused");
  // No reader left: the source has no binlog dump thread for it.
  ASSERT_TRUE(eventually(
      [&] {
        auto dumps = src.query("SELECT COUNT(*) FROM information_schema.processlist "
                               "WHERE command LIKE 'Binlog Dump%'");
        return dumps && !dumps->rows.empty() &&
               dumps->rows[0][0] == std::optional<std::string>{"0"};
      },
      seconds{10}));
  ASSERT_TRUE(src.exec("INSERT INTO ops.t VALUES (2)"));
  auto ready = get(http, "/readyz");
  EXPECT_EQ(ready.first, 503);
  EXPECT_NE(reasons(ready.second).find("sync pipeline ops is paused"), std::string::npos)
      << ready.second.dump();
  EXPECT_EQ(get(http, "/healthz").first, 200);
  EXPECT_EQ(count(dst, "ops.t"), 1);
  auto again = shoal_sync("pause", "n1", "ops", env);
  EXPECT_TRUE(again.first.success()) << again.second;
  EXPECT_NE(again.second.find("already paused"), std::string::npos) << again.second;

  auto resumed = shoal_sync("resume", "n1", "ops", env);
  ASSERT_TRUE(resumed.first.success()) << resumed.second;
  ASSERT_TRUE(eventually([&] { return count(dst, "ops.t") == 2; }, seconds{30}))
      << get(http, "/sync/ops").second.dump();
  ASSERT_TRUE(eventually([&] { return get(http, "/readyz").first == 200; }, seconds{30}));
  auto status = shoal_sync("status", "n1", "ops", env);
  ASSERT_TRUE(status.first.success()) << status.second;
  EXPECT_EQ(get(http, "/sync/ops").second["snapshot"]["rows"], 0)
      << "resumed from its checkpoint, not a new snapshot";
  EXPECT_NE(status.second.find("\"state\": \"running\""), std::string::npos)
      << status.second;
}

// max_lag_seconds: /healthz fails, naming the pipeline and the bound, while the
// target holds the pipeline back, and recovers once it catches up.
TEST_F(node_health, healthz_fails_while_a_pipeline_lags_beyond_its_bound) {
  auto src = source().connect();
  auto dst = target().connect();
  for (auto* c : {&src, &dst})
    ASSERT_TRUE(c->exec("DROP DATABASE IF EXISTS lg"));
  ASSERT_TRUE(src.exec("CREATE DATABASE lg"));
  ASSERT_TRUE(src.exec("CREATE TABLE lg.t (id INT PRIMARY KEY)"));
  auto http = free_port();
  json cfg{{"node", {{"name", "n1"}, {"port", free_port()}}},
           {"http", {{"port", http}}},
           {"sync",
            {{"pipelines", json::array({pipeline_json("lg", 780, source(), target(),
                                                      {{"include", json::array({"lg.*"})},
                                                       {"partitions", 1},
                                                       {"max_lag_seconds", 1},
                                                       {"start", "snapshot"}})})}}}};
  auto node = start_node("n1", cfg, {{"SHOAL_TEST_MYSQL_PW", source().password()}});
  ASSERT_TRUE(node.wait_for_output("ready node=n1", seconds{15})) << node.output_tail();
  ASSERT_TRUE(eventually([&] { return get(http, "/readyz").first == 200; }, seconds{30}));
  ASSERT_TRUE(eventually([&] { return count(dst, "lg.t") == 0; }, seconds{30}));
  EXPECT_EQ(get(http, "/healthz").first, 200);

  auto locker = target().connect();
  ASSERT_TRUE(locker.exec("LOCK TABLES lg.t WRITE"));
  ASSERT_TRUE(src.exec("INSERT INTO lg.t VALUES (1)"));
  std::pair<int, json> r;
  ASSERT_TRUE(eventually(
      [&] {
        r = get(http, "/healthz");
        return r.first == 503;
      },
      seconds{30}))
      << r.second.dump();
  EXPECT_NE(reasons(r.second).find("sync pipeline lg lags"), std::string::npos)
      << r.second.dump();
  EXPECT_NE(reasons(r.second).find("max_lag_seconds 1"), std::string::npos)
      << r.second.dump();
  ASSERT_TRUE(locker.exec("UNLOCK TABLES"));
  ASSERT_TRUE(eventually([&] { return count(dst, "lg.t") == 1; }, seconds{30}));
  ASSERT_TRUE(eventually([&] { return get(http, "/healthz").first == 200; }, seconds{10}))
      << get(http, "/healthz").second.dump();
}

/// The metric families of a Prometheus text page: name -> type.
std::map<std::string, std::string> families_of(const std::string& page) {
  std::map<std::string, std::string> out;
  std::regex type_line{R"(^# TYPE (\S+) (\S+)$)"};
  std::istringstream in{page};
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_match(line, m, type_line))
      out[m[1]] = m[2];
  return out;
}

/// The value of the first sample line starting with `prefix`; NaN when none.
double sample(const std::string& page, const std::string& prefix) {
  std::istringstream in{page};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0)
      return std::stod(line.substr(line.rfind(' ') + 1));
  return std::nan("");
}

TEST_F(node_health, metrics_follow_the_prometheus_conventions) {
  standins::token_standin up{standins::token_standin_options{}};
  ASSERT_GT(up.start(), 0);
  auto http = free_port();
  json cfg{{"node", {{"name", "n1"}, {"port", free_port()}}},
           {"http", {{"port", http}}},
           {"cluster",
            {{"peers", json::array({{{"name", "n\"2\\"},
                                     {"host", "127.0.0.1"},
                                     {"port", free_port()}}})}}},
           {"redis", {{"port", redis().port()}}},
           {"tokens",
            {{"providers", json::array({{{"name", "wx"},
                                         {"kind", "wechat"},
                                         {"base_url", up.base_url()},
                                         {"appid", "wx-test-app"},
                                         {"secret_env", "SHOAL_TEST_WX_SECRET"}}})}}},
           {"hotkeys", {{"flush_ms", 5}}},
           {"sync",
            {{"pipelines", json::array({pipeline_json("mx", 779, source(), target(),
                                                      {{"include", json::array({"mx.*"})},
                                                       {"partitions", 2}})})}}}};
  auto node = start_node("n1", cfg,
                         {{"SHOAL_TEST_WX_SECRET", "wx-test-secret"},
                          {"SHOAL_TEST_MYSQL_PW", source().password()}});
  ASSERT_TRUE(node.wait_for_output("ready node=n1", seconds{15})) << node.output_tail();
  std::string page;
  ASSERT_TRUE(eventually(
      [&] {
        httplib::Client c{"127.0.0.1", http};
        auto r = c.Get("/metrics");
        if (!r || r->status != 200)
          return false;
        page = r->body;
        return sample(page, "shoal_token_version{provider=\"wx\"}") == 1 &&
               sample(page,
                      "shoal_sync_pipeline_state{pipeline=\"mx\",state=\"running\"}") ==
                   1;
      },
      seconds{15}))
      << page;

  auto families = families_of(page);
  ASSERT_FALSE(families.empty()) << page;
  for (auto& [name, type] : families) {
    bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
    if (type == "counter")
      EXPECT_TRUE(total) << name << " is a counter without _total";
    else
      EXPECT_FALSE(total) << name << " is a " << type << " named _total";
    EXPECT_TRUE(name.rfind("shoal_", 0) == 0 || name.rfind("process_", 0) == 0) << name;
  }
  for (auto name :
       {"shoal_build_info", "shoal_peer_up", "shoal_token_expiry_timestamp_seconds",
        "shoal_token_version", "shoal_token_keeper", "shoal_token_quota_used",
        "shoal_hotkeys_breaker_state", "process_cpu_seconds_total",
        "process_resident_memory_bytes", "process_start_time_seconds",
        "process_open_fds"})
    EXPECT_TRUE(families.count(name)) << name << " missing from\n" << page;
  EXPECT_EQ(families.count("shoal_token"), 0u) << "one quantity per metric";
  EXPECT_EQ(families.count("shoal_hotkeys_cache_hit_ratio"), 0u)
      << "no precomputed rates";

  EXPECT_EQ(sample(page, "shoal_token_keeper{provider=\"wx\"}"), 1);
  auto expiry = sample(page, "shoal_token_expiry_timestamp_seconds{provider=\"wx\"}");
  auto now = duration<double>(system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(expiry, now + 7200, 120) << "the standin's tokens live 2 h";
  EXPECT_EQ(sample(page, "shoal_hotkeys_breaker_state{state=\"closed\"}"), 1);
  EXPECT_EQ(sample(page, "shoal_hotkeys_breaker_state{state=\"open\"}"), 0);
  EXPECT_GT(sample(page, "process_resident_memory_bytes"), 1e6);
  EXPECT_NEAR(sample(page, "process_start_time_seconds"), now, 120);
  EXPECT_NE(page.find("shoal_build_info{caf_version=\"0.17.6\",node=\"n1\",version=\"" +
                      std::string{SHOAL_VERSION} + "\"} 1"),
            std::string::npos)
      << page;
  // The peer's name holds a quote and a backslash: escaped, not breaking the page.
  EXPECT_NE(page.find(R"(shoal_peer_up{peer="n\"2\\"} 0)"), std::string::npos) << page;

  EXPECT_EQ(sample(page, "shoal_sync_pipeline_state{pipeline=\"mx\",state=\"failed\"}"),
            0);

  // Every shoal metric the shipped alerts and dashboard use is one the node exports.
  for (auto file :
       {"contrib/prometheus/alerts.yml", "contrib/grafana/shoal-dashboard.json"}) {
    std::ifstream in{std::filesystem::path{std::getenv("SHOAL_SOURCE_DIR")} / file};
    std::string text{std::istreambuf_iterator<char>{in}, {}};
    ASSERT_FALSE(text.empty()) << file;
    std::regex name{R"((shoal|process)_[a-z_]+)"};
    std::set<std::string> used;
    for (auto i = std::sregex_iterator{text.begin(), text.end(), name};
         i != std::sregex_iterator{}; ++i)
      used.insert(std::regex_replace(i->str(), std::regex{"_bucket$"}, ""));
    EXPECT_GT(used.size(), 5u) << file;
    for (auto& n : used)
      EXPECT_TRUE(families.count(n)) << file << " uses " << n << ", which /metrics lacks";
  }

  // promtool, Prometheus' own checker, reads the page as a server would.
  if (std::system("command -v promtool > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool is not installed (Debian package prometheus)";
  auto file = dir_.path() / "metrics.txt";
  std::ofstream{file} << page;
  auto out = dir_.path() / "promtool.txt";
  auto rc = std::system(
      ("promtool check metrics < " + file.string() + " > " + out.string() + " 2>&1")
          .c_str());
  std::ifstream in{out};
  std::string report{std::istreambuf_iterator<char>{in}, {}};
  EXPECT_EQ(rc, 0) << report;
  EXPECT_EQ(report, "") << report;
}

TEST_F(node_health, the_http_port_serves_https_with_the_configured_certificate) {
  auto certs = dir_.path() / "certs";
  auto cmd =
      source_dir() + "/scripts/make-certs " + certs.string() + " n1 client >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto cert = [&](const std::string& f) { return (certs / f).string(); };
  auto http = free_port();
  json cfg{{"node", {{"name", "n1"}, {"port", free_port()}}},
           {"http",
            {{"port", http},
             {"tls",
              {{"certificate", cert("n1.pem")},
               {"key", cert("n1.key")},
               {"client_cafile", cert("ca.pem")}}}}}};
  auto node = start_node("n1", cfg);
  ASSERT_TRUE(node.wait_for_output("ready node=n1", seconds{15})) << node.output_tail();
  EXPECT_TRUE(
      node.wait_for_output("https on 127.0.0.1:" + std::to_string(http), seconds{1}))
      << node.output_tail();

  // A client that checks the server's certificate (and host name) and shows its own.
  httplib::SSLClient good{"127.0.0.1", http, cert("client.pem"), cert("client.key")};
  good.set_ca_cert_path(cert("ca.pem").c_str());
  good.enable_server_certificate_verification(true);
  good.set_read_timeout(5, 0);
  auto r = good.Get("/healthz");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["status"], "ok");

  // Without a client certificate the handshake is refused; plain HTTP gets nothing.
  httplib::SSLClient anonymous{"127.0.0.1", http};
  anonymous.set_ca_cert_path(cert("ca.pem").c_str());
  anonymous.enable_server_certificate_verification(true);
  anonymous.set_read_timeout(5, 0);
  EXPECT_FALSE(anonymous.Get("/healthz"));
  EXPECT_EQ(get(http, "/healthz").first, 0);
  node.terminate();
  ASSERT_TRUE(node.wait_for_exit(seconds{10})) << node.output_tail();

  // A key under a passphrase: the right one from the environment serves, a wrong
  // one stops the node with an error that names the files and the variable.
  auto enc = "openssl pkey -in " + cert("n1.key") +
             " -aes256 -passout pass:right-pass -out " + cert("n1-enc.key");
  ASSERT_EQ(std::system(enc.c_str()), 0) << enc;
  auto http2 = free_port();
  json enc_cfg{{"node", {{"name", "n2"}, {"port", free_port()}}},
               {"http",
                {{"port", http2},
                 {"tls",
                  {{"certificate", cert("n1.pem")},
                   {"key", cert("n1-enc.key")},
                   {"passphrase_env", "SHOAL_TEST_HTTP_KEY_PASS"}}}}}};
  auto n2 = start_node("n2", enc_cfg, {{"SHOAL_TEST_HTTP_KEY_PASS", "right-pass"}});
  ASSERT_TRUE(n2.wait_for_output("ready node=n2", seconds{15})) << n2.output_tail();
  httplib::SSLClient checked{"127.0.0.1", http2};
  checked.set_ca_cert_path(cert("ca.pem").c_str());
  checked.enable_server_certificate_verification(true);
  checked.set_read_timeout(5, 0);
  auto r2 = checked.Get("/readyz");
  ASSERT_TRUE(r2) << httplib::to_string(r2.error());
  EXPECT_EQ(r2->status, 200) << r2->body;
  n2.terminate();
  ASSERT_TRUE(n2.wait_for_exit(seconds{10})) << n2.output_tail();
  EXPECT_EQ(n2.output().find("right-pass"), std::string::npos);

  auto n3 = start_node("n3", enc_cfg, {{"SHOAL_TEST_HTTP_KEY_PASS", "wrong-pass"}});
  auto status = n3.wait_for_exit(seconds{15});
  ASSERT_TRUE(status) << n3.output_tail();
  EXPECT_FALSE(status->success());
  EXPECT_NE(n3.output().find("cannot serve HTTPS on 127.0.0.1:" + std::to_string(http2)),
            std::string::npos)
      << n3.output_tail();
  EXPECT_NE(n3.output().find("SHOAL_TEST_HTTP_KEY_PASS"), std::string::npos)
      << n3.output_tail();
  EXPECT_EQ(n3.output().find("wrong-pass"), std::string::npos);
}

} // namespace
} // namespace shoal::test

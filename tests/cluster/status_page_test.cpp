// The status page of a real `shoal node`, rendered by headless Chromium: the node
// runs all three services (tokens against the stand-in and Redis, hot keys, a binlog
// pipeline between the shared MariaDB servers) and has one peer that never comes up.
// Chromium loads http://127.0.0.1:PORT/ with virtual time, so that a few seconds of
// polling take a fraction of that; the page reports what its charts drew in
// <ul id="render-state">, and the test reads it from the dumped DOM. Screenshots of
// what was checked are left in the test's build folder (tests/cluster/*.png).

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

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
using attributes = std::map<std::string, std::string>;

std::string build_dir() {
  auto dir = std::getenv("SHOAL_BINARY_DIR");
  return dir ? dir : ".";
}

/// Chromium from PATH; empty if it is not installed.
std::string chromium_path() {
  auto path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t at = 0; at <= dirs.size();) {
    auto end = std::min(dirs.find(':', at), dirs.size());
    auto candidate = std::filesystem::path{dirs.substr(at, end - at)} / "chromium";
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate.string();
    at = end + 1;
  }
  return {};
}

/// Processes of process group `pgid` that are still alive (zombies do not count).
std::vector<pid_t> live_members(pid_t pgid) {
  std::vector<pid_t> out;
  for (auto& entry : std::filesystem::directory_iterator{"/proc"}) {
    auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    std::ifstream in{entry.path() / "stat"};
    std::string stat;
    std::getline(in, stat);
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so read after ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos)
      continue;
    std::istringstream rest{stat.substr(close + 1)};
    char state = 0;
    pid_t ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != 'Z')
      out.push_back(std::stoi(name));
  }
  return out;
}

/// One headless Chromium run on `url` until its virtual time budget is spent.
/// Chromium and every process it started share one process group, which is
/// killed afterwards (and on any early return), so no browser outlives the run.
class chromium_run {
public:
  chromium_run(const std::string& url, std::vector<std::string> output,
               milliseconds budget)
      : dir_("chromium") {
    process_options o;
    o.program = chromium_path();
    o.args = {"--headless=new",
              "--no-sandbox", // needed as root
              "--disable-gpu",
              "--no-first-run",
              "--no-default-browser-check",
              "--disable-extensions",
              "--hide-scrollbars",
              "--user-data-dir=" + (dir_ / "profile").string(),
              "--virtual-time-budget=" + std::to_string(budget.count())};
    o.args.insert(o.args.end(), output.begin(), output.end());
    o.args.push_back(url);
    o.output_dir = dir_.path();
    o.name = "chromium";
    proc_.emplace(o);
    pgid_ = proc_->pid();
  }

  ~chromium_run() {
    if (pgid_ > 0)
      ::kill(-pgid_, SIGKILL);
    proc_.reset();
  }

  /// Waits for Chromium to exit, then makes sure its whole process group is gone.
  /// Returns its stdout, or nullopt (with a failure) if it hung or lingered.
  std::optional<std::string> finish(milliseconds timeout) {
    auto status = proc_->wait_for_exit(timeout);
    ::kill(-pgid_, SIGKILL);
    if (!status) {
      ADD_FAILURE() << "chromium did not exit within " << timeout.count() << " ms\n"
                    << proc_->output_tail();
      return std::nullopt;
    }
    EXPECT_TRUE(eventually([&] { return live_members(pgid_).empty(); }, seconds{10}))
        << "chromium processes left behind: " << live_members(pgid_).size();
    if (!status->success()) {
      ADD_FAILURE() << "chromium: " << status->to_string() << "\n"
                    << proc_->output_tail();
      return std::nullopt;
    }
    return proc_->output(output_stream::out);
  }

private:
  temp_dir dir_;
  std::optional<child_process> proc_;
  pid_t pgid_ = -1;
};

/// The data-* attributes of every `<tag ...>` in `html` that has any.
std::vector<attributes> elements(const std::string& html, const std::string& tag) {
  static const std::regex attribute{R"re(data-([a-z-]+)="([^"]*)")re"};
  std::vector<attributes> out;
  std::regex open{"<" + tag + R"(\b([^>]*)>)"};
  for (std::sregex_iterator i{html.begin(), html.end(), open}, end; i != end; ++i) {
    attributes a;
    auto inner = (*i)[1].str();
    for (std::sregex_iterator j{inner.begin(), inner.end(), attribute}; j != end; ++j)
      a[(*j)[1]] = (*j)[2];
    if (!a.empty())
      out.push_back(std::move(a));
  }
  return out;
}

/// The text between `<section id="ID"` and its `</section>`.
std::string section(const std::string& html, const std::string& id) {
  auto begin = html.find("<section id=\"" + id + "\"");
  if (begin == std::string::npos)
    return {};
  return html.substr(begin, html.find("</section>", begin) - begin);
}

/// Points drawn per chart id, from the page's render state.
std::map<std::string, int> points_per_chart(const std::string& dom) {
  std::map<std::string, int> out;
  for (auto& li : elements(dom, "li"))
    if (li.count("chart") && li.count("points"))
      out[li["chart"]] = std::stoi(li["points"]);
  return out;
}

class status_page : public server_test {
protected:
  void SetUp() override {
    server_test::SetUp();
    ASSERT_FALSE(chromium_path().empty())
        << "chromium is not installed: scripts/setup installs it";
  }

  /// Starts `shoal node` on `cfg` (its http port is set here) and waits until it
  /// serves /status.
  void start_node(json cfg, std::vector<std::pair<std::string, std::string>> env = {}) {
    http_port_ = free_port();
    cfg["http"] = {{"port", http_port_}};
    auto path = (dir_ / "n1.json").string();
    std::ofstream{path} << cfg.dump(2);
    process_options o;
    o.program = build_dir() + "/runtime/shoal";
    o.args = {"node", "--config", path};
    o.env = std::move(env);
    o.output_dir = dir_.path();
    o.name = "n1";
    node_.emplace(o);
    ASSERT_TRUE(node_->wait_for_output("ready node=n1", seconds{20}))
        << node_->output_tail();
    ASSERT_TRUE(eventually([&] { return !status().empty(); }, seconds{10}));
  }

  json status() {
    httplib::Client http{"127.0.0.1", http_port_};
    http.set_read_timeout(3, 0);
    auto res = http.Get("/status");
    return res && res->status == 200 ? json::parse(res->body) : json{};
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(http_port_) + "/";
  }

  /// Where a test leaves its screenshot: the test's build folder, kept after it.
  static std::filesystem::path screenshot(const std::string& name) {
    auto path = std::filesystem::path{build_dir()} / "tests" / "cluster" / name;
    std::filesystem::remove(path);
    return path;
  }

  /// Loads `page` for 8 s of virtual time and returns the DOM then, with a
  /// screenshot of the same moment in `shot`.
  static std::optional<std::string> load(const std::string& page,
                                         const std::filesystem::path& shot) {
    chromium_run run{
        page,
        {"--dump-dom", "--screenshot=" + shot.string(), "--window-size=1280,1600"},
        milliseconds{8000}};
    return run.finish(seconds{60});
  }

  /// Loads the page until `done(dom)` holds or `timeout` passes; returns the last DOM.
  template <class Predicate>
  std::string load_until(const std::filesystem::path& shot, Predicate done,
                         milliseconds timeout) {
    std::string dom;
    auto deadline = steady_clock::now() + timeout;
    do {
      auto out = load(url(), shot);
      if (!out)
        return dom;
      dom = *out;
    } while (!done(dom) && steady_clock::now() < deadline);
    return dom;
  }

  static void expect_picture(const std::filesystem::path& shot) {
    ASSERT_TRUE(std::filesystem::exists(shot)) << shot;
    EXPECT_GT(std::filesystem::file_size(shot), 20000u) << shot;
  }

  temp_dir dir_{"status-page"};
  uint16_t http_port_ = 0;
  std::optional<child_process> node_;
};

TEST_F(status_page, charts_every_service_and_lists_the_cluster) {
  standins::token_standin_options upstream_options;
  upstream_options.expiry = seconds{20};
  standins::token_standin upstream{upstream_options};
  ASSERT_GT(upstream.start(), 0);
  for (auto* server : {&source(), &target()}) {
    auto conn = server->connect();
    ASSERT_TRUE(conn.exec("CREATE DATABASE shop"));
    ASSERT_TRUE(conn.exec("CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, "
                          "sku VARCHAR(32) NOT NULL, qty INT NOT NULL)"));
  }
  json mysql_login{{"password_env", "SHOAL_TEST_MYSQL_PW"}};
  json cfg{
      {"node", {{"name", "n1"}, {"port", free_port()}}},
      {"cluster", {{"peers", json::array({{{"name", "n2"}, {"port", free_port()}}})}}},
      {"redis", {{"port", redis().port()}}},
      {"tokens",
       {{"http_api", {{"secret_env", "SHOAL_TEST_TOKEN_API"}}},
        {"providers", json::array({{{"name", "wx"},
                                    {"kind", "wechat"},
                                    {"base_url", upstream.base_url()},
                                    {"appid", "wx-test-app"},
                                    {"secret_env", "SHOAL_TEST_WX_SECRET"}}})}}},
      {"hotkeys",
       {{"http_api", {{"secret_env", "SHOAL_TEST_TOKEN_API"}}},
        {"shard_nodes", json::array({"n1"})},
        {"rules", json::array({{{"key", "*"},
                                {"threshold", 100},
                                {"window_ms", 2000},
                                {"duration_ms", 60000}}})}}},
      {"sync",
       {{"pipelines",
         json::array({pipeline_json("shop", 901, source(), target(),
                                    {{"partitions", 2}, {"start", "current"}})})}}}};
  start_node(cfg, {{"SHOAL_TEST_WX_SECRET", "wx-test-secret"},
                   {"SHOAL_TEST_TOKEN_API", "api-secret"},
                   {"SHOAL_TEST_MYSQL_PW", source().password()}});
  if (HasFatalFailure())
    return;

  // Something to draw: a hot key, a refreshed token and rows flowing through sync.
  httplib::Client http{"127.0.0.1", http_port_};
  http.set_read_timeout(10, 0);
  httplib::Headers auth{{"Authorization", "Bearer api-secret"}};
  auto manual = http.Post("/hotkeys/manual?key=sku:42", auth, "", "text/plain");
  ASSERT_TRUE(manual && manual->status == 200);
  auto got = http.Get("/token/wx", auth);
  ASSERT_TRUE(got && got->status == 200) << (got ? got->body : "no answer");
  auto token = json::parse(got->body)["access_token"].get<std::string>();
  auto rejected = http.Post("/token/wx/rejected", auth,
                            json{{"access_token", token}}.dump(), "application/json");
  ASSERT_TRUE(rejected && rejected->status == 202);
  std::atomic<bool> writing{true};
  std::atomic<int> inserts{0};
  std::thread writer{[&] {
    try {
      auto conn = source().connect("shop");
      for (int i = 0; writing; ++i) {
        std::string sql = "INSERT INTO orders (sku, qty) VALUES ";
        for (int r = 0; r < 20; ++r)
          sql += (r ? ",('sku:" : "('sku:") + std::to_string(r) + "', " +
                 std::to_string(i) + ")";
        if (conn.exec(sql))
          ++inserts;
        std::this_thread::sleep_for(milliseconds{10});
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "writer: " << e.what();
    }
  }};
  struct stop_writer {
    std::atomic<bool>& writing;
    std::thread& writer;
    ~stop_writer() {
      writing = false;
      writer.join();
    }
  } stop{writing, writer};

  ASSERT_TRUE(eventually(
      [&] {
        auto s = status();
        return s.is_object() && s["tokens"]["wx"]["version"] >= 2 &&
               !s["hotkeys"]["hot_keys"].empty() && s["sync"]["shop"]["rows_applied"] > 0;
      },
      seconds{30}))
      << status().dump(2) << node_->output_tail();

  const std::vector<std::string> charts{"chart-sync-rows", "chart-sync-lag",
                                        "chart-token-wx", "chart-hot-keys",
                                        "chart-hit-ratio"};
  auto drawn = [&](const std::string& dom) {
    auto points = points_per_chart(dom);
    for (auto& c : charts)
      if (points[c] <= 0)
        return false;
    return true;
  };
  auto shot = screenshot("status_page.png");
  auto dom = load_until(shot, drawn, seconds{60});
  ASSERT_TRUE(drawn(dom)) << dom;
  auto points = points_per_chart(dom);
  for (auto& c : charts)
    EXPECT_GT(points[c], 0) << c;

  auto state = elements(dom, "ul");
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0]["reachable"], "true");
  EXPECT_GT(std::stoi(state[0]["polls"]), 1);
  EXPECT_EQ(state[0]["failures"], "0");

  std::map<std::string, std::string> nodes;
  std::string version, hot_key, pipeline;
  for (auto& tr : elements(dom, "tr")) {
    if (tr.count("node"))
      nodes[tr["node"]] = tr["state"];
    if (tr.count("provider"))
      version = tr["version"];
    if (tr.count("key"))
      hot_key = tr["key"];
    if (tr.count("pipeline"))
      pipeline = tr["pipeline"];
  }
  EXPECT_EQ(nodes, (std::map<std::string, std::string>{{"n1", "up"}, {"n2", "down"}}));
  ASSERT_FALSE(version.empty());
  EXPECT_GE(std::stoi(version), 2);
  EXPECT_EQ(hot_key, "sku:42");
  EXPECT_EQ(pipeline, "shop");
  for (auto& id : {"sync", "tokens", "hotkeys"})
    EXPECT_EQ(section(dom, id).find("Not configured"), std::string::npos) << id;
  EXPECT_NE(dom.find("<div id=\"unreachable\" class=\"banner\" hidden=\"\">"),
            std::string::npos);
  expect_picture(shot);
  EXPECT_GT(inserts.load(), 0);

  node_->terminate();
  EXPECT_TRUE(node_->wait_for_exit(seconds{15}));
}

TEST_F(status_page, says_the_node_is_unreachable_when_polls_fail) {
  start_node({{"node", {{"name", "n1"}, {"port", free_port()}}}});
  if (HasFatalFailure())
    return;
  // Chromium talks to the node through this proxy, which stops listening after it
  // passed three answers of /status on: later polls find no server, as if the node
  // had died under the open page.
  httplib::Server proxy;
  std::atomic<int> answered{0};
  proxy.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    httplib::Client node{"127.0.0.1", http_port_};
    node.set_read_timeout(5, 0);
    auto r = node.Get(req.path.c_str());
    if (!r) {
      res.status = 502;
      return;
    }
    res.status = r->status;
    res.set_content(r->body, r->get_header_value("Content-Type").c_str());
    res.set_header("Connection", "close");
    if (req.path == "/status" && ++answered == 3)
      proxy.stop();
  });
  auto proxy_port = proxy.bind_to_any_port("127.0.0.1");
  ASSERT_GT(proxy_port, 0);
  std::thread serving{[&] { proxy.listen_after_bind(); }};
  struct stop_proxy {
    httplib::Server& proxy;
    std::thread& serving;
    ~stop_proxy() {
      proxy.stop();
      serving.join();
    }
  } stop{proxy, serving};
  ASSERT_TRUE(eventually([&] { return proxy.is_running(); }, seconds{5}));

  auto shot = screenshot("status_page_unreachable.png");
  auto dom = load("http://127.0.0.1:" + std::to_string(proxy_port) + "/", shot);
  ASSERT_TRUE(dom);
  expect_picture(shot);
  EXPECT_EQ(answered.load(), 3);
  auto state = elements(*dom, "ul");
  ASSERT_EQ(state.size(), 1u) << *dom;
  EXPECT_EQ(state[0]["reachable"], "false") << *dom;
  EXPECT_EQ(state[0]["polls"], "3");
  EXPECT_GT(std::stoi(state[0]["failures"]), 0);
  EXPECT_NE(dom->find("<div id=\"unreachable\" class=\"banner\">"), std::string::npos)
      << *dom;
  EXPECT_NE(dom->find("cannot connect"), std::string::npos);
  std::map<std::string, std::string> nodes;
  for (auto& tr : elements(*dom, "tr"))
    if (tr.count("node"))
      nodes[tr["node"]] = tr["state"];
  EXPECT_EQ(nodes, (std::map<std::string, std::string>{{"n1", "unreachable"}}));
  // Services this node does not run say so instead of drawing empty charts.
  for (auto& id : {"sync", "tokens", "hotkeys"})
    EXPECT_NE(section(*dom, id).find("Not configured on this node."), std::string::npos)
        << id;
}

} // namespace
} // namespace shoal::test

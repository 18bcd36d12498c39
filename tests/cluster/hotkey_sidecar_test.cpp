// The hot-key sidecar on a real `shoal node`: POST /hotkeys/record, the UDP line
// protocol, GET /hotkeys/stream, the Redis events channel, GET /cache/KEY, and the
// Python reference client (clients/python) run against the node.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/support/child_process.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/shared_servers.hpp"
#include "tests/support/temp_dir.hpp"

namespace shoal::test {
namespace {

using namespace std::chrono;
using nlohmann::json;

const std::string secret = "sidecar-secret";
const std::string udp_secret = "udp-secret";

/// A stand-in backend for the HTTP loader: GET /items/KEY answers "value-of-KEY",
/// 404 for keys starting with "missing", 500 for keys starting with "broken".
class item_server {
public:
  item_server() {
    server_.Get(R"(/items/(.+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  std::string key = req.matches[1];
                  calls_.fetch_add(1);
                  if (key.rfind("missing", 0) == 0)
                    res.status = 404;
                  else if (key.rfind("broken", 0) == 0)
                    res.status = 500;
                  else
                    res.set_content("value-of-" + key, "text/plain");
                });
    port_ = static_cast<uint16_t>(server_.bind_to_any_port("127.0.0.1"));
    thread_ = std::thread{[this] { server_.listen_after_bind(); }};
    while (!server_.is_running())
      std::this_thread::yield();
  }
  ~item_server() {
    server_.stop();
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int calls() const { return calls_.load(); }

private:
  httplib::Server server_;
  uint16_t port_ = 0;
  std::atomic<int> calls_{0};
  std::thread thread_;
};

/// One `shoal node` with a hot-key rule for every key (threshold 50 in 2 s, hot for
/// a minute), the sidecar's HTTP routes, UDP on a free port and the HTTP loader.
class sidecar_node {
public:
  explicit sidecar_node(uint16_t items_port, json extra = json::object(),
                        uint16_t redis_port = 0)
      : dir_("sidecar") {
    json hotkeys{
        {"flush_ms", 5},
        {"rules", json::array({{{"key", "*"},
                                {"threshold", 50},
                                {"window_ms", 2000},
                                {"duration_ms", 60000}}})},
        {"http_api", {{"secret_env", "SHOAL_TEST_SIDECAR_SECRET"}}},
        {"udp", {{"listen", "127.0.0.1:0"}, {"secret_env", "SHOAL_TEST_UDP"}}},
        {"loader",
         {{"http", "http://127.0.0.1:" + std::to_string(items_port) + "/items/{key}"}}}};
    hotkeys.update(extra);
    cfg_ = {{"node", {{"name", "n1"}, {"port", free_port()}}},
            {"http", {{"port", 0}}},
            {"log", {{"level", "info"}}},
            {"hotkeys", hotkeys}};
    if (redis_port)
      cfg_["redis"] = {{"port", redis_port}, {"timeout_ms", 500}};
  }

  std::string config_path() const { return (dir_.path() / "n1.json").string(); }

  /// Starts the node and learns its HTTP and UDP ports from its log.
  void start() {
    std::ofstream{config_path()} << cfg_.dump(2);
    process_options o;
    o.program = shoal_binary();
    o.args = {"node", "--config", config_path()};
    o.env = {{"SHOAL_TEST_SIDECAR_SECRET", secret}, {"SHOAL_TEST_UDP", udp_secret}};
    o.output_dir = dir_.path();
    o.name = "n1";
    proc_.emplace(o);
    auto http = proc_->wait_for_match(
        std::regex{"ready node=n1 port=[0-9]+ http=([0-9]+)"}, seconds{15});
    ASSERT_TRUE(http) << proc_->output_tail();
    http_port_ = static_cast<uint16_t>(std::stoi((*http)[1]));
    auto udp =
        proc_->wait_for_match(std::regex{"udp on 127\\.0\\.0\\.1:([0-9]+)"}, seconds{5});
    ASSERT_TRUE(udp) << proc_->output_tail();
    udp_port_ = static_cast<uint16_t>(std::stoi((*udp)[1]));
  }

  httplib::Client client() const {
    httplib::Client c{"127.0.0.1", http_port_};
    c.set_read_timeout(10, 0);
    return c;
  }

  static httplib::Headers auth() { return {{"Authorization", "Bearer " + secret}}; }

  /// POST path with the secret; the status, 0 when the node did not answer.
  int post(const std::string& path, const std::string& body = {}) {
    auto c = client();
    auto res = c.Post(path.c_str(), auth(), body, "application/json");
    return res ? res->status : 0;
  }

  json status() {
    auto c = client();
    auto res = c.Get("/status");
    return res && res->status == 200 ? json::parse(res->body)["hotkeys"] : json{};
  }

  bool hot(const std::string& key) {
    for (auto& k : status().value("hot_keys", json::array()))
      if (k["key"] == key)
        return true;
    return false;
  }

  void send_udp(const std::string& datagram) {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(udp_port_);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto sent = ::sendto(fd, datagram.data(), datagram.size(), 0,
                         reinterpret_cast<sockaddr*>(&to), sizeof to);
    ::close(fd);
    ASSERT_EQ(sent, static_cast<ssize_t>(datagram.size()));
  }

  uint16_t http_port() const { return http_port_; }
  uint16_t udp_port() const { return udp_port_; }
  child_process& proc() { return *proc_; }
  const temp_dir& dir() const { return dir_; }

private:
  temp_dir dir_;
  json cfg_;
  std::optional<child_process> proc_;
  uint16_t http_port_ = 0;
  uint16_t udp_port_ = 0;
};

/// A subscriber of GET /hotkeys/stream on its own thread; events() is what arrived.
class stream_reader {
public:
  explicit stream_reader(uint16_t port) : client_("127.0.0.1", port) {
    client_.set_read_timeout(30, 0);
    thread_ = std::thread{[this] {
      auto res = client_.Get(
          "/hotkeys/stream", sidecar_node::auth(),
          [this](const httplib::Response& r) {
            std::lock_guard<std::mutex> guard{lock_};
            status_ = r.status;
            return true;
          },
          [this](const char* data, size_t n) {
            std::lock_guard<std::mutex> guard{lock_};
            text_.append(data, n);
            return !stop_.load();
          });
      std::lock_guard<std::mutex> guard{lock_};
      if (res && status_ == 0)
        status_ = res->status;
      ended_ = true;
    }};
  }
  ~stream_reader() {
    stop_ = true;
    client_.stop();
    thread_.join();
  }

  std::string text() const {
    std::lock_guard<std::mutex> guard{lock_};
    return text_;
  }
  int status() const {
    std::lock_guard<std::mutex> guard{lock_};
    return status_;
  }
  bool ended() const {
    std::lock_guard<std::mutex> guard{lock_};
    return ended_;
  }

  /// The data of every message of `event` for `key` that arrived so far.
  std::vector<json> events(const std::string& event, const std::string& key) const {
    std::vector<json> out;
    auto all = text();
    size_t at = 0;
    while ((at = all.find("event: " + event + "\ndata: ", at)) != std::string::npos) {
      auto start = all.find("data: ", at) + 6;
      auto end = all.find('\n', start);
      if (end == std::string::npos)
        break;
      auto doc = json::parse(all.substr(start, end - start));
      if (key.empty() || doc.value("key", "") == key)
        out.push_back(doc);
      at = end;
    }
    return out;
  }

private:
  httplib::Client client_;
  mutable std::mutex lock_;
  std::string text_;
  int status_ = 0;
  bool ended_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

json record_body(const std::string& key, int n) {
  return {{"counts", {{key, n}}}};
}

TEST(hotkey_sidecar, record_needs_the_secret_and_a_valid_body) {
  item_server items;
  sidecar_node node{items.port()};
  node.start();
  auto c = node.client();
  auto body = record_body("sku:rec", 80).dump();
  auto anon = c.Post("/hotkeys/record", body, "application/json");
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->status, 401);
  EXPECT_EQ(json::parse(anon->body)["error"], "unauthorized");
  httplib::Headers wrong{{"Authorization", "Bearer not-" + secret}};
  EXPECT_EQ(c.Post("/hotkeys/record", wrong, body, "application/json")->status, 401);
  EXPECT_FALSE(node.hot("sku:rec")) << "a refused batch counts nothing";

  auto bad_json =
      c.Post("/hotkeys/record", sidecar_node::auth(), "{\"counts\":", "application/json");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_EQ(json::parse(bad_json->body)["error"], "bad_request");
  auto bad_count = c.Post("/hotkeys/record", sidecar_node::auth(),
                          record_body("sku:rec", -3).dump(), "application/json");
  ASSERT_TRUE(bad_count);
  EXPECT_EQ(bad_count->status, 400);
  EXPECT_NE(json::parse(bad_count->body)["message"].get<std::string>().find(
                "$.counts[\"sku:rec\"]"),
            std::string::npos)
      << bad_count->body;
  EXPECT_EQ(node.post("/hotkeys/record", R"({"keys": ["a"]})"), 400);
  EXPECT_EQ(node.post("/hotkeys/record", R"({"counts": {"": 1}})"), 400);

  auto ok = c.Post("/hotkeys/record", sidecar_node::auth(), body, "application/json");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(json::parse(ok->body), (json{{"keys", 1}, {"accesses", 80}}));
  EXPECT_TRUE(eventually([&] { return node.hot("sku:rec"); }, seconds{10}))
      << node.status().dump();
  EXPECT_EQ(node.status()["sidecar"]["http_refused"], 4);
}

TEST(hotkey_sidecar, udp_lines_count_and_bad_lines_are_counted_not_fatal) {
  item_server items;
  sidecar_node node{items.port()};
  node.start();
  // No secret line: refused whole, even though the lines are good.
  node.send_udp("sku:udp 80\n");
  ASSERT_TRUE(eventually([&] { return node.status()["sidecar"]["udp"]["refused"] == 1; },
                         seconds{10}))
      << node.status().dump();
  EXPECT_FALSE(node.hot("sku:udp"));
  // Good lines among bad ones: the good ones count, the bad ones are counted.
  node.send_udp("#" + udp_secret + "\nsku:udp 30\n\nsku:udp x\nsku:udp 0\n" +
                std::string(2000, 'k') + "\nsku:udp\r\nsku:udp 49\n" +
                std::string("sku:\x01 2\n"));
  ASSERT_TRUE(eventually(
      [&] { return node.status()["sidecar"]["udp"]["bad_lines"] == 4; }, seconds{10}))
      << node.status().dump();
  EXPECT_EQ(node.status()["sidecar"]["udp"]["lines"], 3);
  EXPECT_TRUE(eventually([&] { return node.hot("sku:udp"); }, seconds{10}))
      << "30 + 1 + 49 accesses pass the threshold of 50";
  // Logged at most once per 10 s: the refused datagram's line, not the bad lines'.
  EXPECT_TRUE(node.proc().wait_for_output("without the right #secret", seconds{5}))
      << node.proc().output_tail();
  EXPECT_EQ(node.proc().output().find("bad line(s)"), std::string::npos)
      << "the second problem within 10 s is not logged";
  EXPECT_TRUE(node.proc().signal(SIGTERM));
  auto exit = node.proc().wait_for_exit(seconds{10});
  ASSERT_TRUE(exit) << "the node stops with its UDP thread";
  EXPECT_TRUE(exit->success()) << exit->to_string();
}

TEST(hotkey_sidecar, stream_sends_the_hot_set_then_hot_invalidate_and_cold_events) {
  item_server items;
  sidecar_node node{items.port()};
  node.start();
  ASSERT_EQ(node.post("/hotkeys/manual?key=sku:before&hot=1"), 200);
  ASSERT_TRUE(eventually([&] { return node.hot("sku:before"); }, seconds{10}));

  auto anon = node.client().Get("/hotkeys/stream");
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->status, 401);

  stream_reader stream{node.http_port()};
  ASSERT_TRUE(
      eventually([&] { return !stream.events("synced", "").empty(); }, seconds{10}))
      << stream.text();
  EXPECT_EQ(stream.status(), 200);
  auto before = stream.events("hot", "sku:before");
  ASSERT_EQ(before.size(), 1u) << "the hot set comes first: " << stream.text();
  EXPECT_EQ(before[0]["manual"], true);
  EXPECT_EQ(before[0]["ttl_ms"], 0);

  ASSERT_EQ(node.post("/hotkeys/record", record_body("sku:live", 80).dump()), 200);
  ASSERT_TRUE(
      eventually([&] { return !stream.events("hot", "sku:live").empty(); }, seconds{10}))
      << stream.text();
  auto hot = stream.events("hot", "sku:live")[0];
  EXPECT_EQ(hot["state"], "hot");
  EXPECT_EQ(hot["node"], "n1");
  EXPECT_GE(hot["count"].get<int>(), 50);
  EXPECT_GT(hot["ttl_ms"].get<int64_t>(), 50000);
  auto wall = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(static_cast<double>(hot["until_ms"].get<int64_t>()),
              static_cast<double>(wall + 60000), 10000.0);
  EXPECT_GT(hot["seq"].get<uint64_t>(), stream.events("synced", "")[0]["seq"]);

  ASSERT_EQ(node.post("/hotkeys/invalidate?key=sku:live"), 200);
  EXPECT_TRUE(eventually([&] { return !stream.events("invalidate", "sku:live").empty(); },
                         seconds{10}))
      << stream.text();
  ASSERT_EQ(node.post("/hotkeys/manual?key=sku:live&hot=0"), 200);
  EXPECT_TRUE(
      eventually([&] { return !stream.events("cold", "sku:live").empty(); }, seconds{10}))
      << stream.text();
  EXPECT_EQ(node.status()["sidecar"]["stream_subscribers"], 1);

  // The node stops while the subscriber is connected: the stream ends and the node
  // exits cleanly.
  EXPECT_TRUE(node.proc().signal(SIGTERM));
  auto exit = node.proc().wait_for_exit(seconds{15});
  ASSERT_TRUE(exit) << "the node did not stop with a subscriber connected";
  EXPECT_TRUE(exit->success()) << exit->to_string();
  EXPECT_TRUE(eventually([&] { return stream.ended(); }, seconds{5}));
}

TEST(hotkey_sidecar, stream_refuses_subscribers_past_the_limit) {
  item_server items;
  sidecar_node node{items.port(), {{"stream", {{"max_subscribers", 1}}}}};
  node.start();
  stream_reader first{node.http_port()};
  ASSERT_TRUE(
      eventually([&] { return !first.events("synced", "").empty(); }, seconds{10}));
  auto second = node.client().Get("/hotkeys/stream", sidecar_node::auth());
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 503);
  EXPECT_EQ(json::parse(second->body)["error"], "too_many_subscribers");
}

TEST(hotkey_sidecar, cache_serves_hits_absent_keys_and_limits) {
  item_server items;
  sidecar_node node{items.port(),
                    {{"limits", {{"per_key", {{"rate", 0.01}, {"burst", 2}}}}}}};
  node.start();
  auto c = node.client();
  EXPECT_EQ(c.Get("/cache/sku:1")->status, 401);

  // Hot key: the first read loads, the next ones come from the hot cache.
  ASSERT_EQ(node.post("/hotkeys/record", record_body("sku:1", 80).dump()), 200);
  ASSERT_TRUE(eventually([&] { return node.hot("sku:1"); }, seconds{10}));
  auto first = c.Get("/cache/sku:1", sidecar_node::auth());
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  EXPECT_EQ(first->body, "value-of-sku:1");
  EXPECT_EQ(first->get_header_value("X-Shoal-Source"), "loader");
  EXPECT_EQ(first->get_header_value("X-Shoal-Hot"), "1");
  auto calls = items.calls();
  for (int i = 0; i < 5; ++i) {
    auto hit = c.Get("/cache/sku:1", sidecar_node::auth());
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->status, 200);
    EXPECT_EQ(hit->body, "value-of-sku:1");
    EXPECT_EQ(hit->get_header_value("X-Shoal-Source"), "hot_cache");
  }
  EXPECT_EQ(items.calls(), calls) << "hits never reach the backend";

  // Absent: 404 with a JSON error.
  auto absent = c.Get("/cache/missing:1", sidecar_node::auth());
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->status, 404);
  EXPECT_EQ(json::parse(absent->body)["error"], "not_found");
  EXPECT_EQ(json::parse(absent->body)["key"], "missing:1");

  // A cold key is read through the loader each time: the per-key bucket (burst 2,
  // refilled every 100 s) lets two reads through, then limits.
  EXPECT_EQ(c.Get("/cache/sku:cold", sidecar_node::auth())->status, 200);
  EXPECT_EQ(c.Get("/cache/sku:cold", sidecar_node::auth())->status, 200);
  auto limited = c.Get("/cache/sku:cold", sidecar_node::auth());
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(json::parse(limited->body)["error"], "rate_limited");
}

TEST(hotkey_sidecar, cache_answers_503_while_the_breaker_is_open) {
  item_server items;
  sidecar_node node{items.port(),
                    {{"breaker", {{"minimum_calls", 2}, {"open_ms", 60000}}}}};
  node.start();
  auto c = node.client();
  int failed = 0;
  for (int i = 0; i < 2; ++i) {
    auto r = c.Get(("/cache/broken:" + std::to_string(i)).c_str(), sidecar_node::auth());
    ASSERT_TRUE(r);
    failed += r->status == 502;
  }
  EXPECT_EQ(failed, 2);
  auto open = c.Get("/cache/sku:any", sidecar_node::auth());
  ASSERT_TRUE(open);
  EXPECT_EQ(open->status, 503) << open->body;
  EXPECT_EQ(json::parse(open->body)["error"], "breaker_open");
}

class hotkey_sidecar_redis : public server_test {};

TEST_F(hotkey_sidecar_redis, events_go_out_on_the_redis_channel) {
  item_server items;
  sidecar_node node{items.port(),
                    {{"stream", {{"redis_channel", "test:hotkey:events"}}}},
                    redis().port()};
  node.start();
  auto sub = redis().connect();
  ASSERT_TRUE(sub.command({"SUBSCRIBE", "test:hotkey:events"}));
  ASSERT_EQ(node.post("/hotkeys/record", record_body("sku:pub", 80).dump()), 200);
  std::vector<json> got;
  auto deadline = steady_clock::now() + seconds{10};
  auto seen = [&](const std::string& state) {
    for (auto& e : got)
      if (e["key"] == "sku:pub" && e["state"] == state)
        return true;
    return false;
  };
  auto read_until = [&](const std::string& state) {
    while (!seen(state) && steady_clock::now() < deadline) {
      auto m = sub.next_message(milliseconds{200});
      ASSERT_TRUE(m) << m.error().to_string();
      if (*m && (*m)->elements.size() == 3 && (*m)->elements[0].str == "message")
        got.push_back(json::parse((*m)->elements[2].str));
    }
  };
  read_until("hot");
  ASSERT_TRUE(seen("hot")) << json(got).dump();
  ASSERT_EQ(node.post("/hotkeys/invalidate?key=sku:pub"), 200);
  deadline = steady_clock::now() + seconds{10};
  read_until("invalidate");
  EXPECT_TRUE(seen("invalidate")) << json(got).dump();
  int invalidations = 0;
  for (auto& e : got)
    invalidations += e["state"] == "invalidate";
  EXPECT_EQ(invalidations, 1) << "published once: " << json(got).dump();
  for (size_t i = 1; i < got.size(); ++i)
    EXPECT_EQ(got[i]["seq"].get<uint64_t>(), got[i - 1]["seq"].get<uint64_t>() + 1);
}

TEST_F(hotkey_sidecar_redis, cache_loads_through_a_redis_get_template) {
  item_server items;
  sidecar_node node{
      items.port(), {{"loader", {{"redis_get", "item:{key}"}}}}, redis().port()};
  node.start();
  auto conn = redis().connect();
  ASSERT_TRUE(conn.command({"SET", "item:sku:r", "from-redis"}));
  auto c = node.client();
  auto hit = c.Get("/cache/sku:r", sidecar_node::auth());
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->status, 200) << hit->body;
  EXPECT_EQ(hit->body, "from-redis");
  auto absent = c.Get("/cache/sku:none", sidecar_node::auth());
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->status, 404) << absent->body;
  EXPECT_EQ(items.calls(), 0) << "the HTTP loader was replaced";
}

TEST(hotkey_sidecar, python_client_records_follows_serves_and_drops) {
  item_server items;
  sidecar_node node{items.port()};
  node.start();
  auto source = std::getenv("SHOAL_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  process_options o;
  o.program = "python3";
  o.args = {std::string{source} + "/tests/cluster/sidecar_client_check.py",
            "--url",
            "http://127.0.0.1:" + std::to_string(node.http_port()),
            "--secret",
            secret,
            "--udp",
            "127.0.0.1:" + std::to_string(node.udp_port()),
            "--udp-secret",
            udp_secret};
  o.env = {{"PYTHONPATH", std::string{source} + "/clients/python"}};
  o.output_dir = node.dir().path();
  o.name = "python-client";
  child_process py{o};
  auto exit = py.wait_for_exit(seconds{60});
  ASSERT_TRUE(exit) << py.output_tail();
  EXPECT_TRUE(exit->success()) << exit->to_string() << "\n"
                               << py.output_tail() << "\n"
                               << node.proc().output_tail();
  EXPECT_NE(py.output().find("python client: all checks passed"), std::string::npos)
      << py.output_tail();
}

} // namespace
} // namespace shoal::test

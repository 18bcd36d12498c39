// engine.cache()'s protections against a real Redis loader: single-flight on a burst
// of misses while Redis is frozen (SIGSTOP), per-key and per-rule token buckets, and
// the circuit breaker on slow (a Lua busy loop) and unreachable (frozen) Redis.
// Every loader call runs a Lua script that counts itself in Redis, so the number of
// calls that reached Redis is read from Redis itself.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <thread>
#include <vector>

#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "actors/hotkey/actors/cache_reader.hpp"
#include "actors/hotkey/core/single_flight.hpp"
#include "tests/support/shared_servers.hpp"

namespace shoal::hotkey {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// GET the key and count the call under calls:<key>. ARGV[1]: milliseconds to spin
// first (a slow Redis).
constexpr const char* counted_get = R"(
redis.call('INCR', 'calls:' .. KEYS[1])
local spin = tonumber(ARGV[1])
if spin > 0 then
  local t = redis.call('TIME')
  local start = t[1] * 1000 + math.floor(t[2] / 1000)
  repeat
    t = redis.call('TIME')
  until t[1] * 1000 + math.floor(t[2] / 1000) - start >= spin
end
return redis.call('GET', KEYS[1])
)";

template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit = 10s) {
  std::mutex m;
  std::condition_variable cv;
  std::unique_lock<std::mutex> guard{m};
  auto until = steady::now() + limit;
  while (!done()) {
    if (steady::now() >= until)
      return done();
    cv.wait_for(guard, 1ms);
  }
  return true;
}

// State letter of thread `tid` of this process ('S' while blocked).
char thread_state(pid_t tid) {
  std::ifstream in{"/proc/self/task/" + std::to_string(tid) + "/stat"};
  std::string line;
  std::getline(in, line);
  auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() ? '?' : line[close + 2];
}

class cache_reader_redis_test : public test::server_test {
protected:
  void SetUp() override {
    test::server_test::SetUp();
    auto conn = redis().connect();
    for (int i = 0; i < 20; ++i)
      conn.command({"SET", "sku:" + std::to_string(i), "v" + std::to_string(i)});
    conn.command({"SET", "item:1", "i1"});
  }

  std::shared_ptr<node_context> make_context() {
    hotkey_rule sku;
    sku.kind = match_kind::prefix;
    sku.pattern = "sku:";
    auto p = std::make_shared<node_context>();
    p->rules = std::make_shared<rule_book>(
        std::make_shared<rule_set>(0, std::vector<hotkey_rule>{sku}, "[]"));
    p->view = std::make_shared<hot_view>(cache_limits{1000, 1 << 20, 1});
    return p;
  }

  /// A loader: one connection per call (as many threads call it), `spin_ms` of
  /// server-side work, `timeout` for the command; throws on a transport error.
  cache_reader::loader redis_loader(int spin_ms = 0,
                                    std::chrono::milliseconds timeout = 10s) {
    auto cfg = redis().connection_config();
    cfg.command_timeout = timeout;
    return [cfg, spin_ms](const std::string& key) {
      auto conn = redis_connection::connect(cfg);
      if (!conn)
        throw std::runtime_error(conn.error().to_string());
      auto spin = std::to_string(spin_ms);
      auto reply = conn->eval(counted_get, {key}, {spin});
      if (!reply)
        throw std::runtime_error(reply.error().to_string());
      if (reply->is_error())
        throw std::runtime_error(reply->str);
      return reply->str;
    };
  }

  long long redis_calls(const std::string& key) {
    auto reply = redis().connect().command({"GET", "calls:" + key});
    return reply && !reply->is_nil() ? std::stoll(reply->str) : 0;
  }
};

TEST_F(cache_reader_redis_test, single_flight_burst_on_a_frozen_redis_makes_one_call) {
  constexpr int burst = 32;
  single_flight<std::string> flights;
  auto load = redis_loader();
  std::atomic<int> leaders{0};
  std::vector<single_flight<std::string>::outcome> outs(burst);
  redis().freeze();
  std::vector<std::thread> pool;
  for (int i = 0; i < burst; ++i)
    pool.emplace_back([&, i] {
      outs[i] = flights.load(
          "sku:1",
          [&] {
            leaders.fetch_add(1);
            return load("sku:1");
          },
          steady::now() + 20s);
    });
  // Everyone is inside the flight: one leader stuck on frozen Redis, the rest waiting.
  ASSERT_TRUE(eventually([&] { return flights.waiting("sku:1") == burst - 1; }));
  EXPECT_EQ(leaders.load(), 1);
  redis().thaw();
  for (auto& t : pool)
    t.join();
  int shared = 0;
  for (auto& out : outs) {
    ASSERT_EQ(out.status, load_status::loaded);
    EXPECT_EQ(*out.value, "v1");
    shared += out.shared;
  }
  EXPECT_EQ(shared, burst - 1);
  EXPECT_EQ(redis_calls("sku:1"), 1) << "one Redis call for the whole burst";
}

TEST_F(cache_reader_redis_test, burst_of_misses_through_the_cache_reader_makes_one_call) {
  constexpr int burst = 24;
  auto p = make_context();
  protection_config pc;
  pc.wait_ms = 20000;
  cache_reader reader{pc, p};
  auto load = redis_loader();
  std::mutex tids_lock;
  std::vector<pid_t> tids;
  std::vector<cache_read> reads(burst);
  redis().freeze();
  std::vector<std::thread> pool;
  for (int i = 0; i < burst; ++i)
    pool.emplace_back([&, i] {
      {
        std::lock_guard<std::mutex> guard{tids_lock};
        tids.push_back(static_cast<pid_t>(syscall(SYS_gettid)));
      }
      reads[i] = reader.get("sku:2", load);
    });
  // The leader is blocked in Redis (loader_calls counts it before the call); every
  // thread is blocked (on Redis or on the leader's flight).
  ASSERT_TRUE(eventually([&] {
    if (p->stats->loader_calls.load() != 1)
      return false;
    std::lock_guard<std::mutex> guard{tids_lock};
    if (tids.size() != burst)
      return false;
    for (auto tid : tids)
      if (thread_state(tid) != 'S')
        return false;
    return true;
  }));
  redis().thaw();
  for (auto& t : pool)
    t.join();
  for (auto& r : reads) {
    EXPECT_EQ(r.source, read_source::loader);
    EXPECT_EQ(r.value, std::optional<std::string>{"v2"});
  }
  EXPECT_EQ(p->stats->loader_calls.load(), 1u);
  EXPECT_EQ(p->stats->loads_shared.load(), uint64_t{burst - 1});
  EXPECT_EQ(redis_calls("sku:2"), 1);
}

TEST_F(cache_reader_redis_test, hot_key_with_a_cached_value_never_reaches_redis) {
  auto p = make_context();
  cache_reader reader{protection_config{}, p};
  auto load = redis_loader();
  p->view->mark("sku:3", 1000, 60000, false, p->clock->now_ms());
  EXPECT_EQ(reader.get("sku:3", load).source, read_source::loader) << "first read loads";
  for (int i = 0; i < 100; ++i) {
    auto r = reader.get("sku:3", load);
    ASSERT_EQ(r.source, read_source::hot_cache);
    ASSERT_EQ(r.value, std::optional<std::string>{"v3"});
  }
  EXPECT_EQ(redis_calls("sku:3"), 1);
}

// A write lands while a hot key's value is being read: its invalidation arrives
// during the load, so the value read (from before the write) must not be
// cached, or the cache would serve it until its TTL.
TEST_F(cache_reader_redis_test, a_load_overtaken_by_an_invalidation_is_not_cached) {
  auto p = make_context();
  cache_reader reader{protection_config{}, p};
  auto read = redis_loader();
  auto writer = redis().connect();
  p->view->mark("sku:7", 1000, 60000, false, p->clock->now_ms());
  cache_reader::loader overtaken = [&](const std::string& key) {
    auto value = read(key);
    EXPECT_TRUE(writer.command({"SET", key, "new"}));
    p->view->erase_value(key); // what the cache actor does on msg::invalidate_keys
    return value;
  };
  auto first = reader.get("sku:7", overtaken);
  EXPECT_EQ(first.source, read_source::loader);
  EXPECT_EQ(first.value, std::optional<std::string>{"v7"}) << "the caller gets its read";
  auto second = reader.get("sku:7", read);
  EXPECT_EQ(second.source, read_source::loader) << "the value from before was cached";
  EXPECT_EQ(second.value, std::optional<std::string>{"new"});
  auto third = reader.get("sku:7", read);
  EXPECT_EQ(third.source, read_source::hot_cache) << "a load not overtaken is cached";
  EXPECT_EQ(third.value, std::optional<std::string>{"new"});
}

TEST_F(cache_reader_redis_test, per_key_limit_answers_the_fallback_past_its_burst) {
  auto p = make_context();
  protection_config pc;
  pc.per_key = rate_limit{0.001, 3};
  pc.fallback = "busy";
  cache_reader reader{pc, p};
  auto load = redis_loader();
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(reader.get("sku:4", load).value, std::optional<std::string>{"v4"});
  for (int i = 0; i < 5; ++i) {
    auto r = reader.get("sku:4", load);
    EXPECT_EQ(r.source, read_source::fallback);
    EXPECT_EQ(r.reason, fallback_reason::rate_limited);
    EXPECT_EQ(r.value, std::optional<std::string>{"busy"});
  }
  EXPECT_EQ(reader.get("sku:5", load).value, std::optional<std::string>{"v5"})
      << "another key has its own bucket";
  EXPECT_EQ(redis_calls("sku:4"), 3);
  EXPECT_EQ(p->stats->limiter_rejections.load(), 5u);
}

TEST_F(cache_reader_redis_test, per_rule_limit_is_shared_by_the_rules_keys) {
  auto p = make_context();
  protection_config pc;
  pc.per_rule = rate_limit{0.001, 5};
  cache_reader reader{pc, p};
  auto load = redis_loader();
  int loaded = 0, limited = 0;
  for (int i = 0; i < 12; ++i) {
    auto r = reader.get("sku:" + std::to_string(i), load);
    if (r.source == read_source::loader)
      ++loaded;
    else if (r.reason == fallback_reason::rate_limited && !r.value)
      ++limited;
  }
  EXPECT_EQ(loaded, 5);
  EXPECT_EQ(limited, 7) << "no fallback value configured: the read has no value";
  long long calls = 0;
  for (int i = 0; i < 12; ++i)
    calls += redis_calls("sku:" + std::to_string(i));
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(reader.get("item:1", load).value, std::optional<std::string>{"i1"})
      << "a key of no rule is not limited by the rule's bucket";
}

TEST_F(cache_reader_redis_test, breaker_opens_on_slow_redis_calls) {
  auto p = make_context();
  protection_config pc;
  pc.breaker.slow_call_ms = 80;
  pc.breaker.slow_call_ratio = 0.5;
  pc.breaker.error_ratio = 2; // never on errors
  pc.breaker.minimum_calls = 4;
  pc.breaker.window = window_shape{60000, 6};
  pc.breaker.open_ms = 60000;
  pc.fallback = "degraded";
  cache_reader reader{pc, p};
  auto slow = redis_loader(120);
  for (int i = 0; i < 4; ++i) {
    auto r = reader.get("sku:6", slow);
    ASSERT_EQ(r.source, read_source::loader) << "slow but successful";
    EXPECT_EQ(r.value, std::optional<std::string>{"v6"});
  }
  EXPECT_EQ(reader.breaker(), breaker_state::open);
  auto fast = redis_loader(0);
  for (int i = 0; i < 10; ++i) {
    auto r = reader.get("sku:7", fast);
    EXPECT_EQ(r.reason, fallback_reason::breaker_open);
    EXPECT_EQ(r.value, std::optional<std::string>{"degraded"});
  }
  EXPECT_EQ(redis_calls("sku:6"), 4);
  EXPECT_EQ(redis_calls("sku:7"), 0) << "an open breaker keeps reads off Redis";
}

TEST_F(cache_reader_redis_test, breaker_opens_on_a_frozen_redis_and_recovers_after_thaw) {
  auto p = make_context();
  protection_config pc;
  pc.breaker.error_ratio = 0.5;
  pc.breaker.minimum_calls = 3;
  pc.breaker.open_ms = 300;
  pc.breaker.half_open_probes = 1;
  pc.fallback = "degraded";
  cache_reader reader{pc, p};
  auto load = redis_loader(0, 150ms);
  redis().freeze();
  for (int i = 0; i < 3; ++i) {
    auto r = reader.get("sku:8", load);
    EXPECT_EQ(r.reason, fallback_reason::load_failed);
    EXPECT_EQ(r.value, std::optional<std::string>{"degraded"});
  }
  EXPECT_EQ(reader.breaker(), breaker_state::open);
  auto r = reader.get("sku:8", load);
  EXPECT_EQ(r.reason, fallback_reason::breaker_open)
      << "refused without waiting on Redis";
  redis().thaw();
  // After open_ms a probe goes through and closes the breaker again.
  ASSERT_TRUE(eventually(
      [&] { return reader.get("sku:8", load).source == read_source::loader; }));
  EXPECT_EQ(reader.breaker(), breaker_state::closed);
  EXPECT_EQ(reader.get("sku:8", load).value, std::optional<std::string>{"v8"});
}

} // namespace
} // namespace shoal::hotkey

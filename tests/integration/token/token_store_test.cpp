// The keeper's Redis store against a real Redis: the lease is exclusive and
// expires, and the token record is written only by the lease holder with the
// version it last saw, so a stale keeper (lease lost, then resumed) cannot
// overwrite a newer token.

#include <thread>

#include <gtest/gtest.h>

#include "actors/token/actors/token_store.hpp"
#include "tests/support/shared_servers.hpp"

namespace shoal::token {
namespace {

using namespace std::chrono;

class token_store_test : public test::server_test {
protected:
  token_store make(const std::string& owner, milliseconds lease = milliseconds{300}) {
    return token_store{redis().connection_config(), "wx", owner, lease};
  }

  static token_record record(const std::string& token, uint64_t version) {
    auto now = clock::now();
    return {token, time_point{duration_cast<milliseconds>(now.time_since_epoch())},
            time_point{duration_cast<milliseconds>((now + hours{2}).time_since_epoch())},
            version};
  }
};

TEST_F(token_store_test, the_lease_is_exclusive_until_it_expires) {
  auto a = make("a");
  auto b = make("b");
  ASSERT_TRUE(*a.acquire_lease());
  EXPECT_FALSE(*b.acquire_lease());
  EXPECT_TRUE(*a.renew_lease());
  EXPECT_FALSE(*b.renew_lease());
  auto deadline = steady_clock::now() + seconds{5};
  bool taken = false;
  while (!taken && steady_clock::now() < deadline) {
    taken = *b.acquire_lease();
    std::this_thread::sleep_for(milliseconds{20});
  }
  EXPECT_TRUE(taken);
  EXPECT_FALSE(*a.renew_lease());
  EXPECT_TRUE(*b.release_lease());
  EXPECT_TRUE(*a.acquire_lease());
}

TEST_F(token_store_test, a_stale_keeper_cannot_overwrite_the_newer_token) {
  auto a = make("a");
  auto b = make("b");
  ASSERT_TRUE(*a.acquire_lease());
  ASSERT_EQ(*a.write(record("t1", 1), 0), cas_outcome::written);
  // a freezes; its lease runs out and b takes over, from the stored token.
  auto deadline = steady_clock::now() + seconds{5};
  while (!*b.acquire_lease() && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds{20});
  auto stored = b.read();
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->token, "t1");
  EXPECT_EQ((*stored)->version, 1u);
  ASSERT_EQ(*b.write(record("t2", 2), 1), cas_outcome::written);
  // a wakes up with the token it fetched before freezing: refused.
  EXPECT_EQ(*a.write(record("t2-stale", 2), 1), cas_outcome::not_owner);
  EXPECT_FALSE(*a.renew_lease());
  // Even the holder cannot write over a version it has not seen, nor go back.
  EXPECT_EQ(*b.write(record("t3", 2), 1), cas_outcome::version_conflict);
  EXPECT_EQ(*b.write(record("t0", 1), 2), cas_outcome::version_conflict);
  auto now = b.read();
  ASSERT_TRUE(now && *now);
  EXPECT_EQ((*now)->token, "t2");
  EXPECT_EQ((*now)->version, 2u);
}

TEST_F(token_store_test, every_keeper_counts_against_one_daily_quota) {
  auto a = make("a");
  auto b = make("b");
  int64_t day = 20'000;
  EXPECT_EQ(*a.consume_quota(day, 3), 1);
  EXPECT_EQ(*b.consume_quota(day, 3), 2);
  EXPECT_EQ(*a.consume_quota(day, 3), 3);
  // Used up for the whole cluster: refused and not counted further.
  EXPECT_EQ(*b.consume_quota(day, 3), -3);
  EXPECT_EQ(*a.consume_quota(day, 3), -3);
  // The next day starts from zero.
  EXPECT_EQ(*b.consume_quota(day + 1, 3), 1);
  // The platform said 45009 before the count reached the limit.
  EXPECT_TRUE(*a.exhaust_quota(day + 1, 3));
  EXPECT_EQ(*b.consume_quota(day + 1, 3), -3);
  // No limit: still counted, never refused.
  for (int i = 1; i <= 5; ++i)
    EXPECT_EQ(*a.consume_quota(day + 2, 0), i);
}

TEST_F(token_store_test, redis_down_is_an_error_value_and_the_store_reconnects) {
  auto a = make("a", seconds{5});
  ASSERT_TRUE(*a.acquire_lease());
  redis().kill();
  auto r = a.renew_lease();
  EXPECT_FALSE(r.has_value());
  redis().start();
  // The restarted server lost everything: the lease is free again.
  auto again = a.acquire_lease();
  ASSERT_TRUE(again.has_value()) << again.error().to_string();
  EXPECT_TRUE(*again);
  auto empty = a.read();
  ASSERT_TRUE(empty.has_value());
  EXPECT_FALSE(*empty);
}

TEST_F(token_store_test, the_newest_verify_ticket_is_kept_for_any_keeper) {
  // Pushes arrive at any node (no lease needed); a delayed older one does not
  // replace a newer; every keeper reads the same newest ticket.
  token_store http{redis().connection_config(), "cmp-vt", "n1/http", milliseconds{300}};
  token_store keeper{redis().connection_config(), "cmp-vt", "n2/x", milliseconds{300}};
  EXPECT_EQ(*keeper.read_verify_ticket(), "");
  EXPECT_TRUE(*http.put_verify_ticket("ticket@@@1", 1000));
  EXPECT_EQ(*keeper.read_verify_ticket(), "ticket@@@1");
  EXPECT_TRUE(*http.put_verify_ticket("ticket@@@2", 2000));
  EXPECT_FALSE(*http.put_verify_ticket("ticket@@@1", 1000));
  EXPECT_EQ(*keeper.read_verify_ticket(), "ticket@@@2");
  // Another provider's ticket is its own.
  token_store other{redis().connection_config(), "cmp-other", "n2/x", milliseconds{300}};
  EXPECT_EQ(*other.read_verify_ticket(), "");
}

TEST_F(token_store_test, the_plain_key_follows_the_record_and_is_fenced) {
  // The WxJava-style key: the bare token, expiring the margin before the token.
  const std::string key = "wx:access_token:wx-plain";
  auto make_plain = [&](const std::string& owner) {
    return token_store{redis().connection_config(), "wx-plain", owner,
                       milliseconds{300},           key,        seconds{200}};
  };
  auto a = make_plain("a");
  auto b = make_plain("b");
  auto conn = redis_connection::connect(redis().connection_config());
  ASSERT_TRUE(conn) << conn.error().to_string();
  auto get = [&] { return conn->command({"GET", key}); };
  auto pttl = [&] { return conn->command({"PTTL", key}); };

  ASSERT_TRUE(*a.acquire_lease());
  ASSERT_EQ(*a.write(record("t1", 1), 0), cas_outcome::written);
  auto v = get();
  ASSERT_TRUE(v);
  EXPECT_EQ(v->str, "t1");
  // Two hours minus the 200 s margin, give or take the test's own time.
  auto ttl = pttl();
  ASSERT_TRUE(ttl);
  EXPECT_LE(ttl->integer, (7200 - 200) * 1000);
  EXPECT_GT(ttl->integer, (7200 - 200 - 60) * 1000);

  // A stale keeper's write touches neither the record nor the plain key.
  auto deadline = steady_clock::now() + seconds{5};
  while (!*b.acquire_lease() && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds{20});
  ASSERT_EQ(*b.write(record("t2", 2), 1), cas_outcome::written);
  EXPECT_EQ(*a.write(record("t2-stale", 2), 1), cas_outcome::not_owner);
  EXPECT_EQ(get()->str, "t2");

  // A token that expires within the margin is not offered there at all.
  auto nearly = record("t3", 3);
  nearly.expires_at = nearly.obtained_at + seconds{100};
  ASSERT_EQ(*b.write(nearly, 2), cas_outcome::written);
  EXPECT_TRUE(get()->is_nil());

  // Without a plain key configured, nothing is written outside shoal's keys
  // (the one above is gone: its last token was within the margin).
  token_store c{redis().connection_config(), "wx-noplain", "c", milliseconds{300}};
  ASSERT_TRUE(*c.acquire_lease());
  ASSERT_EQ(*c.write(record("t9", 1), 0), cas_outcome::written);
  auto keys = conn->command({"KEYS", "*"});
  ASSERT_TRUE(keys);
  EXPECT_FALSE(keys->elements.empty());
  for (auto& k : keys->elements)
    EXPECT_EQ(k.str.rfind("shoal:", 0), 0u) << k.str;
}

} // namespace
} // namespace shoal::token

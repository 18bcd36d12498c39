// When a jsapi_ticket refresh may use its base provider's access token.

#include "actors/token/core/fetch_input.hpp"

#include <gtest/gtest.h>

namespace shoal::token {
namespace {

using namespace std::chrono_literals;

const time_point t0 = time_point(std::chrono::seconds(1709294400));

// A 2 h base token obtained at t0: mandatory window from 1:55, margin from 1:59:30.
token_snapshot base_token() {
  token_snapshot s;
  s.provider = "wx";
  s.token = "AT1";
  s.obtained_at = t0;
  s.expires_at = t0 + 2h;
  s.stale_after = t0 + 2h - 5min;
  s.usable_until = t0 + 2h - 30s;
  s.version = 4;
  return s;
}

TEST(fetch_input, a_base_token_before_its_mandatory_window_is_used) {
  auto b = base_token();
  auto c = choose_base_token(&b, t0 + 1h, 7s, false, {});
  EXPECT_TRUE(c.ready) << c.why;
  EXPECT_EQ(c.token, "AT1");
  // Also inside its advisory window: it stays valid until well after the call.
  EXPECT_TRUE(choose_base_token(&b, t0 + 2h - 6min, 7s, false, {}).ready);
}

TEST(fetch_input, no_base_token_waits) {
  auto c = choose_base_token(nullptr, t0, 7s, true, {});
  EXPECT_FALSE(c.ready);
  EXPECT_EQ(c.why, "no access token of the base provider yet");
}

TEST(fetch_input, a_base_token_due_for_replacement_waits_unless_the_ticket_is_urgent) {
  auto b = base_token();
  auto c = choose_base_token(&b, t0 + 2h - 4min, 7s, false, {});
  EXPECT_FALSE(c.ready);
  EXPECT_NE(c.why.find("refreshed after it"), std::string::npos) << c.why;
  EXPECT_TRUE(choose_base_token(&b, t0 + 2h - 4min, 7s, true, {}).ready);
}

TEST(fetch_input, a_base_token_in_its_last_moments_is_never_used) {
  auto b = base_token();
  // The call (7 s) would end inside the base token's hand-out margin.
  for (bool urgent : {false, true}) {
    auto c = choose_base_token(&b, t0 + 2h - 37s, 7s, urgent, {});
    EXPECT_FALSE(c.ready);
    EXPECT_NE(c.why.find("last moments"), std::string::npos) << c.why;
    EXPECT_FALSE(choose_base_token(&b, t0 + 2h + 1s, 7s, urgent, {}).ready);
  }
  EXPECT_TRUE(choose_base_token(&b, t0 + 2h - 38s, 7s, true, {}).ready);
}

TEST(fetch_input, a_base_token_getticket_refused_is_not_used_again) {
  auto b = base_token();
  auto c = choose_base_token(&b, t0 + 1h, 7s, true, "AT1");
  EXPECT_FALSE(c.ready);
  EXPECT_NE(c.why.find("refused"), std::string::npos) << c.why;
  b.token = "AT2";
  EXPECT_TRUE(choose_base_token(&b, t0 + 1h, 7s, true, "AT1").ready);
}

} // namespace
} // namespace shoal::token

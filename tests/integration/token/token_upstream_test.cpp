// The token providers over the real HTTP client against the in-process stand-in.

#include <chrono>
#include <functional>
#include <thread>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "actors/token/core/provider.hpp"
#include "runtime/adapters/http_client.hpp"
#include "tests/standins/token_standin.hpp"

namespace shoal::token {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using standins::token_standin;
using standins::token_standin_options;

const std::string app_id = "wx-it-app";
const std::string app_secret = "SUPER-SECRET-42";

// Polls `condition` until it holds or `deadline` passes; returns whether it held.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition())
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

class token_upstream : public ::testing::Test {
protected:
  void start(token_standin_options options = {}) {
    options.apps = {{app_id, app_secret}};
    if (options.expiry == std::chrono::hours(2))
      options.expiry = 60s;
    standin_ = std::make_unique<token_standin>(options);
    ASSERT_NE(standin_->start(), 0);
  }

  provider make(provider_kind kind, std::string secret = app_secret,
                std::string id = app_id) {
    provider_config c;
    c.name = "p";
    c.kind = kind;
    c.base_url = standin_->base_url();
    c.token_path = kind == provider_kind::wechat          ? "/cgi-bin/token"
                   : kind == provider_kind::wechat_stable ? "/cgi-bin/stable_token"
                                                          : "/oauth2/token";
    c.client_id = std::move(id);
    c.secret = std::move(secret);
    c.secret_env = "UNUSED";
    c.read_timeout = 2s;
    return provider(c);
  }

  // What the fetcher actor will do: build, send, classify.
  expected<fetched_token, upstream_error> fetch(const provider& p, bool force = false,
                                                std::chrono::milliseconds timeout = 2s) {
    http_client_options o;
    o.connect_timeout = 1s;
    o.read_timeout = timeout;
    http_client client(p.config().base_url, o);
    auto req = p.build_request(force);
    auto reply =
        client.send({req.method, req.target, req.headers, req.body, req.content_type});
    if (auto* err = std::get_if<http_error>(&reply)) {
      EXPECT_EQ(err->message.find(app_secret), std::string::npos) << err->message;
      return fail(provider::transport_failure(err->kind == http_error_kind::timeout,
                                              err->message));
    }
    auto& r = std::get<http_response>(reply);
    auto parsed = p.parse_reply(r.status, r.body, force);
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().message.find(app_secret), std::string::npos)
          << parsed.error().message;
    }
    return parsed;
  }

  std::string fetch_token(provider_kind kind, bool force = false) {
    auto r = fetch(make(kind), force);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value().access_token : "";
  }

  json control(const json& changes) {
    http_client client(standin_->base_url(), {});
    auto reply =
        client.send({"POST", "/control", {}, changes.dump(), "application/json"});
    auto& r = std::get<http_response>(reply);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }

  std::unique_ptr<token_standin> standin_;
};

TEST_F(token_upstream, every_kind_fetches_a_valid_token) {
  start();
  for (auto kind :
       {provider_kind::wechat, provider_kind::wechat_stable, provider_kind::oauth2}) {
    auto r = fetch(make(kind));
    ASSERT_TRUE(r.ok()) << to_string(kind) << ": " << r.error().message;
    EXPECT_EQ(r.value().expires_in, 60s);
    EXPECT_EQ(standin_->check(r.value().access_token), 0) << to_string(kind);
  }
  EXPECT_EQ(standin_->count("token", "ok"), 1);
  EXPECT_EQ(standin_->count("stable_token", "ok"), 1);
  EXPECT_EQ(standin_->count("oauth2", "ok"), 1);
  EXPECT_EQ(standin_->tokens_issued(), 3);
}

TEST_F(token_upstream, check_and_stats_over_http) {
  start();
  auto token = fetch_token(provider_kind::wechat);
  http_client client(standin_->base_url(), {});
  auto check = [&](const std::string& t) {
    auto reply = client.send({"GET", "/check?access_token=" + url_encode(t), {}, "", ""});
    return json::parse(std::get<http_response>(reply).body).at("errcode").get<int>();
  };
  EXPECT_EQ(check(token), 0);
  EXPECT_EQ(check("never-issued"), 40001);
  auto reply = client.send({"GET", "/stats", {}, "", ""});
  auto stats = json::parse(std::get<http_response>(reply).body);
  EXPECT_EQ(stats["calls"]["token"]["ok"], 1);
  EXPECT_EQ(stats["calls"]["check"]["valid"], 1);
  EXPECT_EQ(stats["calls"]["check"]["errcode_40001"], 1);
  EXPECT_EQ(stats["tokens_issued"], 1);
}

TEST_F(token_upstream, the_old_token_lives_for_the_grace_period_only) {
  token_standin_options o;
  o.grace = 800ms;
  start(o);
  auto first = fetch_token(provider_kind::wechat);
  auto second = fetch_token(provider_kind::wechat);
  auto replaced_at = std::chrono::steady_clock::now();
  ASSERT_NE(first, second);
  EXPECT_EQ(standin_->check(first), 0);
  EXPECT_EQ(standin_->check(second), 0);
  ASSERT_TRUE(eventually([&] { return standin_->check(first) == 40001; }, 3s));
  EXPECT_GE(std::chrono::steady_clock::now() - replaced_at, 700ms);
  EXPECT_EQ(standin_->check(second), 0);
}

TEST_F(token_upstream, tokens_expire) {
  token_standin_options o;
  o.expiry = 1s;
  start(o);
  auto r = fetch(make(provider_kind::oauth2));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().expires_in, 1s);
  EXPECT_EQ(standin_->check(r.value().access_token), 0);
  ASSERT_TRUE(
      eventually([&] { return standin_->check(r.value().access_token) == 42001; }, 3s));
}

TEST_F(token_upstream, quota_exhaustion_and_reset) {
  token_standin_options o;
  o.daily_quota = 3;
  start(o);
  for (int i = 0; i < 3; ++i)
    fetch_token(provider_kind::wechat);
  auto r = fetch(make(provider_kind::wechat));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, error_class::quota_exhausted);
  EXPECT_EQ(r.error().code, 45009);
  auto oauth = make(provider_kind::oauth2);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(fetch(oauth).ok());
  auto limited = fetch(oauth);
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().kind, error_class::rate_limited);
  EXPECT_EQ(standin_->count("token", "errcode_45009"), 1);
  EXPECT_EQ(standin_->count("token", "ok"), 3);
  control({{"reset_quota", true}});
  EXPECT_TRUE(fetch(make(provider_kind::wechat)).ok());
}

TEST_F(token_upstream, stable_token_is_stable_and_force_refresh_is_limited) {
  token_standin_options o;
  o.force_refresh_daily_limit = 2;
  o.force_refresh_min_interval = 60s;
  start(o);
  auto a = fetch_token(provider_kind::wechat_stable);
  EXPECT_EQ(fetch_token(provider_kind::wechat_stable), a);
  EXPECT_EQ(standin_->count("stable_token", "same"), 1);

  auto b = fetch_token(provider_kind::wechat_stable, true);
  EXPECT_NE(b, a);
  EXPECT_EQ(standin_->check(a), 40001) << "force_refresh kills the old token at once";
  EXPECT_EQ(standin_->check(b), 0);

  // Within the minimum interval the platform keeps the token instead of refreshing.
  EXPECT_EQ(fetch_token(provider_kind::wechat_stable, true), b);
  EXPECT_EQ(standin_->count("stable_token", "force_ignored"), 1);

  control({{"force_refresh_min_interval_ms", 0}});
  auto c = fetch_token(provider_kind::wechat_stable, true);
  EXPECT_NE(c, b);
  auto limited = fetch(make(provider_kind::wechat_stable), true);
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().kind, error_class::refresh_limited);
  EXPECT_EQ(limited.error().code, 45009);
  // Normal mode still works and returns the current token.
  EXPECT_EQ(fetch_token(provider_kind::wechat_stable), c);
}

TEST_F(token_upstream, wrong_credentials_are_config_errors) {
  start();
  for (auto kind : {provider_kind::wechat, provider_kind::wechat_stable}) {
    auto bad_secret = fetch(make(kind, "wrong-" + app_secret));
    ASSERT_FALSE(bad_secret.ok());
    EXPECT_EQ(bad_secret.error().kind, error_class::config);
    EXPECT_EQ(bad_secret.error().code, 40125);
    auto bad_app = fetch(make(kind, app_secret, "nope"));
    ASSERT_FALSE(bad_app.ok());
    EXPECT_EQ(bad_app.error().kind, error_class::config);
    EXPECT_EQ(bad_app.error().code, 40013);
    EXPECT_FALSE(is_retryable(bad_app.error().kind));
  }
  auto oauth = fetch(make(provider_kind::oauth2, "wrong"));
  ASSERT_FALSE(oauth.ok());
  EXPECT_EQ(oauth.error().kind, error_class::config);
  EXPECT_EQ(oauth.error().message, "invalid_client");
  EXPECT_EQ(standin_->tokens_issued(), 0);
}

TEST_F(token_upstream, injected_timeouts_end_within_the_deadline) {
  token_standin_options o;
  o.timeout_rate = 1;
  o.hang = 5s;
  start(o);
  for (auto kind : {provider_kind::wechat, provider_kind::wechat_stable}) {
    auto started = std::chrono::steady_clock::now();
    auto r = fetch(make(kind), false, 300ms);
    auto took = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, error_class::timeout) << r.error().message;
    EXPECT_GE(took, 300ms);
    EXPECT_LT(took, 1500ms);
    EXPECT_NE(r.error().message.find("/cgi-bin/"), std::string::npos)
        << r.error().message;
    EXPECT_EQ(r.error().message.find("secret"), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(standin_->tokens_issued(), 0);
  standin_->stop(); // cuts the hangs short
}

TEST_F(token_upstream, injected_errors_are_classified) {
  start();
  struct expectation {
    const char* fault;
    error_class kind;
  };
  for (auto e : {expectation{"5xx", error_class::server_error},
                 {"busy", error_class::busy},
                 {"malformed", error_class::malformed}}) {
    control({{"error_rate", 1.0}, {"errors", {e.fault}}});
    for (auto kind : {provider_kind::wechat, provider_kind::wechat_stable}) {
      auto r = fetch(make(kind));
      ASSERT_FALSE(r.ok()) << e.fault;
      EXPECT_EQ(r.error().kind, e.kind) << e.fault << ": " << r.error().message;
      EXPECT_TRUE(is_retryable(r.error().kind));
    }
    EXPECT_EQ(standin_->count("token", std::string("fault_") + e.fault), 1);
  }
  control({{"error_rate", 0.0}});
  EXPECT_TRUE(fetch(make(provider_kind::wechat)).ok());
  EXPECT_EQ(standin_->tokens_issued(), 1);
}

TEST_F(token_upstream, partial_error_rate_is_seeded) {
  token_standin_options o;
  o.error_rate = 0.5;
  o.seed = 99;
  start(o);
  int ok = 0;
  for (int i = 0; i < 40; ++i)
    ok += fetch(make(provider_kind::wechat)).ok() ? 1 : 0;
  EXPECT_GT(ok, 5);
  EXPECT_LT(ok, 35);
  EXPECT_EQ(standin_->count("token", "ok"), ok);
}

TEST_F(token_upstream, latency_is_injected) {
  token_standin_options o;
  o.latency = 200ms;
  start(o);
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(fetch(make(provider_kind::oauth2)).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 200ms);
}

TEST_F(token_upstream, control_rejects_bad_changes) {
  start();
  EXPECT_NE(standin_->control({{"error_rate", 2}}), "");
  EXPECT_NE(standin_->control({{"surprise", 1}}), "");
  EXPECT_NE(standin_->control({{"errors", {"meteor"}}}), "");
  EXPECT_EQ(standin_->control({{"latency_ms", 0}, {"grace_ms", 10}}), "");
}

TEST_F(token_upstream, transport_errors_omit_the_secret) {
  start();
  auto p = make(provider_kind::wechat);
  standin_->stop();
  auto r = fetch(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, error_class::transport) << r.error().message;
  EXPECT_EQ(r.error().message.find(app_secret), std::string::npos);
  EXPECT_EQ(r.error().message.find("grant_type"), std::string::npos);

  http_client bad("ftp://host", {});
  auto reply = bad.send({"GET", "/x?secret=" + app_secret, {}, "", ""});
  auto* err = std::get_if<http_error>(&reply);
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->kind, http_error_kind::invalid_request);
  EXPECT_EQ(err->message.find(app_secret), std::string::npos);
}

} // namespace
} // namespace shoal::token

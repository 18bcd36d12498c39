#include "actors/token/core/provider_config.hpp"

#include <map>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace shoal::token {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

env_lookup fake_env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto i = vars.find(name);
    if (i == vars.end())
      return std::nullopt;
    return i->second;
  };
}

const auto env = fake_env({{"WX_SECRET", "wx-secret-value"},
                           {"IDP_SECRET", "idp-secret"},
                           {"CORP_SECRET", "corp-secret"},
                           {"CMP_SECRET", "cmp-secret"}});

json valid_providers() {
  return json::parse(R"([
    {"name": "wx", "kind": "wechat", "appid": "wx123", "secret_env": "WX_SECRET"},
    {"name": "wx-stable", "kind": "wechat_stable", "appid": "wx123",
     "secret_env": "WX_SECRET", "base_url": "http://127.0.0.1:8080",
     "connect_timeout_ms": 100, "read_timeout_ms": 300, "daily_quota": 50,
     "refresh": {"advisory_from_s": 20, "advisory_until_s": 10,
                 "backoff_initial_ms": 50, "backoff_max_ms": 800}},
    {"name": "idp", "kind": "oauth2", "token_url": "https://idp.example.com:8443/oauth2/token",
     "client_id": "svc", "secret_env": "IDP_SECRET", "scope": "read"}
  ])");
}

// Expects parsing `providers` to fail with exactly `message`.
void expect_error(const json& providers, const std::string& message) {
  auto r = parse_providers(providers, "$.tokens.providers", env);
  ASSERT_FALSE(r.ok()) << providers.dump();
  EXPECT_EQ(r.error(), message);
}

TEST(provider_config, forced_refresh_limits_can_be_set) {
  auto j = valid_providers();
  j[0]["refresh"] = {{"forced_min_interval_ms", 5000}, {"forced_max_per_day", 0}};
  auto r = parse_providers(j, "$.tokens.providers", env);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value()[0].refresh.forced_min_interval, 5000ms);
  EXPECT_EQ(r.value()[0].refresh.forced_max_per_day, 0);
  j[0]["refresh"] = {{"forced_max_per_day", -1}};
  auto bad = parse_providers(j, "$.tokens.providers", env);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("$.tokens.providers[0].refresh.forced_max_per_day"),
            std::string::npos)
      << bad.error();
}

TEST(provider_config, the_handout_margin_can_be_set_within_the_mandatory_window) {
  auto j = valid_providers();
  auto r = parse_providers(j, "$.tokens.providers", env);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value()[0].refresh.handout_margin, 30s);
  j[0]["refresh"] = {{"handout_margin_ms", 2000}};
  r = parse_providers(j, "$.tokens.providers", env);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value()[0].refresh.handout_margin, 2000ms);
  // advisory_until_s 10: the keeper's half of the mandatory window is 5 s.
  j[0]["refresh"] = {
      {"advisory_from_s", 20}, {"advisory_until_s", 10}, {"handout_margin_ms", 6000}};
  expect_error(j, "$.tokens.providers[0].refresh.handout_margin_ms: must be at most half "
                  "of advisory_until_s: the keeper needs the first half of the mandatory "
                  "window to refresh before callers wait");
  // Not set, the default is capped where the windows are computed: no error.
  j[0]["refresh"] = {{"advisory_from_s", 20}, {"advisory_until_s", 10}};
  EXPECT_TRUE(parse_providers(j, "$.tokens.providers", env).ok());
}

TEST(provider_config, parses_all_kinds) {
  auto r = parse_providers(valid_providers(), "$.tokens.providers", env);
  ASSERT_TRUE(r.ok()) << r.error();
  auto& p = r.value();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].kind, provider_kind::wechat);
  EXPECT_EQ(p[0].base_url, "https://api.weixin.qq.com");
  EXPECT_EQ(p[0].token_path, "/cgi-bin/token");
  EXPECT_EQ(p[0].client_id, "wx123");
  EXPECT_EQ(p[0].secret, "wx-secret-value");
  EXPECT_EQ(p[0].secret_env, "WX_SECRET");
  EXPECT_EQ(p[0].daily_quota, 2000);
  EXPECT_EQ(p[1].kind, provider_kind::wechat_stable);
  EXPECT_EQ(p[1].base_url, "http://127.0.0.1:8080");
  EXPECT_EQ(p[1].token_path, "/cgi-bin/stable_token");
  EXPECT_EQ(p[1].connect_timeout, 100ms);
  EXPECT_EQ(p[1].read_timeout, 300ms);
  EXPECT_EQ(p[1].daily_quota, 50);
  EXPECT_EQ(p[1].refresh.advisory_from, 20s);
  EXPECT_EQ(p[1].refresh.advisory_until, 10s);
  EXPECT_EQ(p[1].refresh.backoff_initial, 50ms);
  EXPECT_EQ(p[1].refresh.backoff_max, 800ms);
  // Forced refreshes: once a minute, a tenth of the daily quota, unless set.
  EXPECT_EQ(p[0].refresh.forced_min_interval, 60s);
  EXPECT_EQ(p[0].refresh.forced_max_per_day, 200);
  EXPECT_EQ(p[1].refresh.forced_max_per_day, 5);
  EXPECT_EQ(p[2].kind, provider_kind::oauth2);
  EXPECT_EQ(p[2].base_url, "https://idp.example.com:8443");
  EXPECT_EQ(p[2].token_path, "/oauth2/token");
  EXPECT_EQ(p[2].client_id, "svc");
  EXPECT_EQ(p[2].scope, "read");
  EXPECT_EQ(p[2].secret, "idp-secret");
}

TEST(provider_config, errors_name_the_json_path) {
  auto j = valid_providers();
  j[1]["kind"] = "x";
  expect_error(j, "$.tokens.providers[1].kind: expected one of wechat, wechat_stable, "
                  "oauth2, wecom, jsapi_ticket, component, got \"x\"");

  j = valid_providers();
  j[0]["colour"] = "blue";
  expect_error(j, "$.tokens.providers[0].colour: unknown key");

  j = valid_providers();
  j[1]["refresh"]["jitter"] = 1;
  expect_error(j, "$.tokens.providers[1].refresh.jitter: unknown key");

  j = valid_providers();
  j[2].erase("client_id");
  expect_error(j, "$.tokens.providers[2].client_id: required");

  j = valid_providers();
  j[0]["appid"] = 12;
  expect_error(j, "$.tokens.providers[0].appid: expected string, got integer");

  j = valid_providers();
  j[1]["read_timeout_ms"] = "300";
  expect_error(j, "$.tokens.providers[1].read_timeout_ms: expected integer, got string");

  j = valid_providers();
  j[1]["read_timeout_ms"] = 0;
  expect_error(j, "$.tokens.providers[1].read_timeout_ms: expected integer in [1, "
                  "600000], got 0");

  j = valid_providers();
  j[1]["refresh"]["advisory_until_s"] = 30;
  expect_error(j, "$.tokens.providers[1].refresh.advisory_until_s: must be less than "
                  "advisory_from_s");

  j = valid_providers();
  j[2]["token_url"] = "ftp://idp/token";
  expect_error(j, "$.tokens.providers[2].token_url: expected scheme http or https, got "
                  "\"ftp\"");

  j = valid_providers();
  j[1]["base_url"] = "http://127.0.0.1:8080/cgi-bin";
  expect_error(j, "$.tokens.providers[1].base_url: expected scheme://host[:port] "
                  "without a path");

  j = valid_providers();
  j[2]["name"] = "wx";
  expect_error(j, "$.tokens.providers[2].name: duplicate provider name \"wx\"");

  j = valid_providers();
  j[0]["name"] = "Wx Prod";
  expect_error(j, "$.tokens.providers[0].name: expected lowercase letters, digits, '_' "
                  "or '-', got \"Wx Prod\"");

  j = valid_providers();
  j[0] = 5;
  expect_error(j, "$.tokens.providers[0]: expected object, got integer");

  expect_error(json::object(), "$.tokens.providers: expected array, got object");
}

TEST(provider_config, secrets_come_from_the_environment_only) {
  auto j = valid_providers();
  j[0]["secret"] = "inline";
  expect_error(j, "$.tokens.providers[0].secret: secrets are not written in the config; "
                  "name an environment variable in secret_env");

  j = valid_providers();
  j[2]["client_secret"] = "inline";
  auto r = parse_providers(j, "$.tokens.providers", env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rfind("$.tokens.providers[2].client_secret:", 0), 0u) << r.error();

  j = valid_providers();
  j[0]["secret_env"] = "MISSING_VAR";
  expect_error(j, "$.tokens.providers[0].secret_env: environment variable MISSING_VAR "
                  "is not set or empty");

  j = valid_providers();
  j[0].erase("secret_env");
  expect_error(j, "$.tokens.providers[0].secret_env: required");
}

TEST(provider_config, secret_values_never_appear_in_errors) {
  auto j = valid_providers();
  j[0]["daily_quota"] = -1;
  auto r = parse_providers(j, "$.tokens.providers", env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().find("wx-secret-value"), std::string::npos);
}

// -- wecom, jsapi_ticket, component -------------------------------------------

json platform_providers() {
  auto j = valid_providers();
  j.push_back(json::parse(
      R"({"name": "corp", "kind": "wecom", "corpid": "ww1", "secret_env": "CORP_SECRET"})"));
  j.push_back(json::parse(R"({"name": "js", "kind": "jsapi_ticket", "base": "wx"})"));
  j.push_back(json::parse(R"({"name": "cmp", "kind": "component",
      "component_appid": "wxc", "secret_env": "CMP_SECRET",
      "base_url": "http://127.0.0.1:9000"})"));
  return j;
}

TEST(provider_config, wecom_jsapi_ticket_and_component_parse) {
  auto r = parse_providers(platform_providers(), "$.tokens.providers", env);
  ASSERT_TRUE(r.ok()) << r.error();
  auto& corp = r.value()[3];
  EXPECT_EQ(corp.kind, provider_kind::wecom);
  EXPECT_EQ(corp.base_url, "https://qyapi.weixin.qq.com");
  EXPECT_EQ(corp.token_path, "/cgi-bin/gettoken");
  EXPECT_EQ(corp.client_id, "ww1");
  EXPECT_EQ(corp.secret, "corp-secret");
  EXPECT_TRUE(corp.refresh.refresh_at_expiry);
  EXPECT_FALSE(r.value()[0].refresh.refresh_at_expiry);
  auto& js = r.value()[4];
  EXPECT_EQ(js.kind, provider_kind::jsapi_ticket);
  EXPECT_EQ(js.base, "wx");
  EXPECT_EQ(js.base_url, "https://api.weixin.qq.com");
  EXPECT_EQ(js.token_path, "/cgi-bin/ticket/getticket");
  EXPECT_TRUE(js.secret.empty());
  auto& cmp = r.value()[5];
  EXPECT_EQ(cmp.kind, provider_kind::component);
  EXPECT_EQ(cmp.base_url, "http://127.0.0.1:9000");
  EXPECT_EQ(cmp.token_path, "/cgi-bin/component/api_component_token");
  EXPECT_EQ(cmp.client_id, "wxc");
  EXPECT_EQ(cmp.secret, "cmp-secret");
  EXPECT_STREQ(to_string(provider_kind::wecom), "wecom");
  EXPECT_STREQ(to_string(provider_kind::jsapi_ticket), "jsapi_ticket");
  EXPECT_STREQ(to_string(provider_kind::component), "component");
}

TEST(provider_config, the_new_kinds_name_the_path_of_their_errors) {
  auto j = platform_providers();
  j[3].erase("corpid");
  expect_error(j, "$.tokens.providers[3].corpid: required");
  j = platform_providers();
  j[3]["corpsecret"] = "x";
  expect_error(j, "$.tokens.providers[3].corpsecret: secrets are not written in the "
                  "config; name an environment variable in secret_env");
  j = platform_providers();
  j[5].erase("component_appid");
  expect_error(j, "$.tokens.providers[5].component_appid: required");
  j = platform_providers();
  j[5]["secret_env"] = "NOPE";
  expect_error(j, "$.tokens.providers[5].secret_env: environment variable NOPE is not "
                  "set or empty");
  j = platform_providers();
  j[4].erase("base");
  expect_error(j, "$.tokens.providers[4].base: required");
  j = platform_providers();
  j[4]["secret_env"] = "WX_SECRET";
  expect_error(j, "$.tokens.providers[4].secret_env: a jsapi_ticket has no secret: it is "
                  "fetched with the access token of its base provider");
  j = platform_providers();
  j[4]["appid"] = "wx1";
  expect_error(j, "$.tokens.providers[4].appid: unknown key");
  j = platform_providers();
  j[0]["kind"] = "wework";
  expect_error(j, "$.tokens.providers[0].kind: expected one of wechat, wechat_stable, "
                  "oauth2, wecom, jsapi_ticket, component, got \"wework\"");
}

TEST(provider_config, a_jsapi_ticket_needs_a_wechat_base_in_the_same_config) {
  auto j = platform_providers();
  j[4]["base"] = "nope";
  expect_error(j,
               "$.tokens.providers[4].base: no provider \"nope\" in $.tokens.providers");
  for (std::string wrong : {"idp", "corp", "cmp", "js"}) {
    j[4]["base"] = wrong;
    auto r = parse_providers(j, "$.tokens.providers", env);
    ASSERT_FALSE(r.ok()) << wrong;
    EXPECT_EQ(r.error().rfind("$.tokens.providers[4].base: provider \"" + wrong +
                                  "\" is of kind ",
                              0),
              0u)
        << r.error();
    EXPECT_NE(r.error().find("needs the access token of a wechat or wechat_stable"),
              std::string::npos)
        << r.error();
  }
  // The base may come after the ticket, and be a stable_token provider.
  j[4]["base"] = "wx-stable";
  std::swap(j[1], j[4]);
  auto r = parse_providers(j, "$.tokens.providers", env);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value()[1].base, "wx-stable");
}

TEST(provider_config, the_plain_key_is_resolved_from_its_template) {
  auto j = valid_providers();
  auto plain = parse_providers(j, "$.tokens.providers", env);
  ASSERT_TRUE(plain.ok()) << plain.error();
  EXPECT_EQ(plain.value()[0].plain_key, "");

  j[0]["plain_key"] = "wx:access_token:{appid}";
  j[2]["plain_key"] = "oauth:{name}:{appid}";
  j[2]["plain_key_margin_ms"] = 0;
  auto r = parse_providers(j, "$.tokens.providers", env);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value()[0].plain_key, "wx:access_token:wx123");
  EXPECT_EQ(r.value()[0].plain_key_margin, 200'000ms);
  EXPECT_EQ(r.value()[2].plain_key, "oauth:idp:svc");
  EXPECT_EQ(r.value()[2].plain_key_margin, 0ms);
}

TEST(provider_config, a_bad_plain_key_names_its_path) {
  auto j = valid_providers();
  j[0]["plain_key"] = "wx:{app}";
  expect_error(j, "$.tokens.providers[0].plain_key: unknown placeholder {app} "
                  "(expected {appid} or {name})");

  j = valid_providers();
  j[0]["plain_key"] = "wx:{appid";
  expect_error(j, "$.tokens.providers[0].plain_key: unclosed '{' at offset 3 of "
                  "\"wx:{appid\"");

  j = valid_providers();
  j[0]["plain_key"] = "wx access";
  expect_error(j, "$.tokens.providers[0].plain_key: unexpected character at offset 2 "
                  "of \"wx access\" (printable ASCII without spaces or braces, "
                  "placeholders {appid} and {name})");

  j = valid_providers();
  j[0]["plain_key"] = "shoal:token:{appid}";
  expect_error(j, "$.tokens.providers[0].plain_key: \"shoal:token:wx123\" is in "
                  "shoal's own key namespace (shoal:...); pick another key");

  j = valid_providers();
  j[0]["plain_key"] = "";
  expect_error(j, "$.tokens.providers[0].plain_key: must not be empty");

  j = valid_providers();
  j[0]["plain_key_margin_ms"] = 1000;
  expect_error(j, "$.tokens.providers[0].plain_key_margin_ms: needs plain_key");

  j = valid_providers();
  j[0]["plain_key"] = "wx:access_token:{appid}";
  j[0]["plain_key_margin_ms"] = -1;
  expect_error(j, "$.tokens.providers[0].plain_key_margin_ms: expected integer in "
                  "[0, 3600000], got -1");

  // wx-stable's advisory window ends 10 s before expiry: a 200 s margin would
  // empty the key long before the next token arrives.
  j = valid_providers();
  j[1]["plain_key"] = "wx:stable:{appid}";
  expect_error(j, "$.tokens.providers[1].plain_key: the plain key's margin (200000 ms) "
                  "must be less than refresh.advisory_until_s (10 s), or readers of the "
                  "key find it gone before the next token is written");
  j[1]["plain_key_margin_ms"] = 5000;
  EXPECT_TRUE(parse_providers(j, "$.tokens.providers", env).ok());

  // wx and wx-stable share an appid: one key for both would mix their tokens.
  j = valid_providers();
  j[0]["plain_key"] = "wx:access_token:{appid}";
  j[1]["plain_key"] = "wx:access_token:{appid}";
  j[1]["plain_key_margin_ms"] = 5000;
  expect_error(j, "$.tokens.providers[1].plain_key: \"wx:access_token:wx123\" is also "
                  "the plain key of provider \"wx\"");

  j = json::array({json::parse(R"({"name": "wx", "kind": "wechat", "appid": "wx1",
      "secret_env": "WX_SECRET"})"),
                   json::parse(R"({"name": "t", "kind": "jsapi_ticket", "base": "wx",
      "plain_key": "ticket:{appid}"})")});
  expect_error(j, "$.tokens.providers[1].plain_key: {appid} is empty for a provider of "
                  "kind jsapi_ticket; use {name} or a fixed key");
}

} // namespace
} // namespace shoal::token

#include "actors/token/core/provider.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace shoal::token {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string secret = "s3cr&t=+/ value";

provider make(provider_kind kind) {
  provider_config c;
  c.name = "p";
  c.kind = kind;
  c.base_url = "https://api.example.com";
  c.token_path = kind == provider_kind::wechat          ? "/cgi-bin/token"
                 : kind == provider_kind::wechat_stable ? "/cgi-bin/stable_token"
                 : kind == provider_kind::wecom         ? "/cgi-bin/gettoken"
                 : kind == provider_kind::jsapi_ticket  ? "/cgi-bin/ticket/getticket"
                 : kind == provider_kind::component
                     ? "/cgi-bin/component/api_component_token"
                     : "/oauth2/token";
  c.client_id = "app id";
  c.secret = secret;
  c.secret_env = "SECRET";
  if (kind == provider_kind::oauth2)
    c.scope = "read write";
  return provider(c);
}

// Parses a wechat-kind reply and expects an error of `kind` and `code`.
void expect_error(const provider& p, int status, std::string_view body, error_class kind,
                  int code, bool force = false) {
  auto r = p.parse_reply(status, body, force);
  ASSERT_FALSE(r.ok()) << body;
  EXPECT_EQ(r.error().kind, kind) << body << " -> " << r.error().message;
  EXPECT_EQ(r.error().code, code) << body;
  EXPECT_EQ(r.error().message.find(secret), std::string::npos);
}

TEST(provider, wechat_request_is_a_get_with_encoded_query) {
  auto req = make(provider_kind::wechat).build_request();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/cgi-bin/token?grant_type=client_credential&appid=app%20id"
                        "&secret=s3cr%26t%3D%2B%2F%20value");
  EXPECT_TRUE(req.body.empty());
  EXPECT_EQ(req.describe(), "GET /cgi-bin/token");
}

TEST(provider, stable_token_request_is_a_json_post) {
  auto p = make(provider_kind::wechat_stable);
  for (bool force : {false, true}) {
    auto req = p.build_request(force);
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.target, "/cgi-bin/stable_token");
    EXPECT_EQ(req.content_type, "application/json");
    auto body = json::parse(req.body);
    EXPECT_EQ(body, (json{{"grant_type", "client_credential"},
                          {"appid", "app id"},
                          {"secret", secret},
                          {"force_refresh", force}}));
    EXPECT_EQ(req.describe(), "POST /cgi-bin/stable_token");
  }
}

TEST(provider, oauth2_request_is_a_form_post) {
  auto req = make(provider_kind::oauth2).build_request();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/oauth2/token");
  EXPECT_EQ(req.content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(req.body, "grant_type=client_credentials&client_id=app%20id"
                      "&client_secret=s3cr%26t%3D%2B%2F%20value&scope=read%20write");
}

TEST(provider, wechat_success_replies) {
  auto p = make(provider_kind::wechat);
  auto r = p.parse_reply(200, R"({"access_token":"T1","expires_in":7200})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().access_token, "T1");
  EXPECT_EQ(r.value().expires_in, 7200s);
  auto with_zero =
      p.parse_reply(200, R"({"errcode":0,"access_token":"T2","expires_in":5})");
  ASSERT_TRUE(with_zero.ok());
  EXPECT_EQ(with_zero.value().access_token, "T2");
}

TEST(provider, wechat_errcodes_are_classified) {
  auto p = make(provider_kind::wechat);
  struct expectation {
    int code;
    error_class kind;
  };
  for (auto e : {expectation{-1, error_class::busy},
                 {40001, error_class::rejected_token},
                 {40014, error_class::rejected_token},
                 {42001, error_class::rejected_token},
                 {40013, error_class::config},
                 {40125, error_class::config},
                 {40164, error_class::config},
                 {40002, error_class::config},
                 {89503, error_class::config},
                 {45009, error_class::quota_exhausted},
                 {45011, error_class::rate_limited},
                 {45999, error_class::rate_limited},
                 {42999, error_class::rejected_token},
                 {48001, error_class::config},
                 {61000, error_class::unknown}}) {
    auto body = json{{"errcode", e.code}, {"errmsg", "msg " + std::to_string(e.code)}};
    expect_error(p, 200, body.dump(), e.kind, e.code);
    auto r = p.parse_reply(200, body.dump());
    EXPECT_NE(r.error().message.find("msg " + std::to_string(e.code)), std::string::npos);
  }
}

TEST(provider, retryable_and_stopping_classes) {
  for (auto kind :
       {error_class::timeout, error_class::transport, error_class::server_error,
        error_class::busy, error_class::malformed, error_class::rate_limited,
        error_class::refresh_limited, error_class::unknown})
    EXPECT_TRUE(is_retryable(kind)) << to_string(kind);
  for (auto kind :
       {error_class::config, error_class::rejected_token, error_class::quota_exhausted})
    EXPECT_FALSE(is_retryable(kind)) << to_string(kind);
  EXPECT_TRUE(is_rejected_token_code(40001));
  EXPECT_TRUE(is_rejected_token_code(42001));
  EXPECT_FALSE(is_rejected_token_code(40013));
}

TEST(provider, stable_token_force_refresh_limits) {
  auto p = make(provider_kind::wechat_stable);
  expect_error(p, 200, R"({"errcode":45009,"errmsg":"reach max api daily quota limit"})",
               error_class::refresh_limited, 45009, true);
  expect_error(p, 200, R"({"errcode":45011,"errmsg":"api minute-quota reach limit"})",
               error_class::refresh_limited, 45011, true);
  // Without force_refresh, the same codes are the ordinary limits.
  expect_error(p, 200, R"({"errcode":45009,"errmsg":"x"})", error_class::quota_exhausted,
               45009, false);
  // The classic endpoint has no force_refresh.
  expect_error(make(provider_kind::wechat), 200, R"({"errcode":45009})",
               error_class::quota_exhausted, 45009, true);
}

TEST(provider, http_failures) {
  auto p = make(provider_kind::wechat);
  expect_error(p, 500, "oops", error_class::server_error, 500);
  expect_error(p, 503, "", error_class::server_error, 503);
  expect_error(p, 429, "", error_class::rate_limited, 429);
  expect_error(p, 404, "", error_class::unknown, 404);
  auto t = provider::transport_failure(true, "GET x: no reply within 500 ms");
  EXPECT_EQ(t.kind, error_class::timeout);
  EXPECT_EQ(provider::transport_failure(false, "refused").kind, error_class::transport);
}

TEST(provider, malformed_replies_name_the_field) {
  auto p = make(provider_kind::wechat);
  struct expectation {
    const char* body;
    const char* says;
  };
  for (auto e : {expectation{"{\"access_token\": \"trunc", "not JSON"},
                 {"", "not JSON"},
                 {"<html>502</html>", "not JSON"},
                 {"[1,2]", "expected a JSON object, got array"},
                 {R"({"expires_in":7200})", "access_token: missing"},
                 {R"({"access_token":7,"expires_in":7200})",
                  "access_token: expected string, got integer"},
                 {R"({"access_token":"","expires_in":7200})", "access_token: empty"},
                 {R"({"access_token":"T"})", "expires_in: missing"},
                 {R"({"access_token":"T","expires_in":"7200"})",
                  "expires_in: expected integer, got string"},
                 {R"({"access_token":"T","expires_in":7200.5})",
                  "expires_in: expected integer, got number"},
                 {R"({"access_token":"T","expires_in":0})", "expires_in: out of range"},
                 {R"({"access_token":"T","expires_in":-5})", "expires_in: out of range"},
                 {R"({"errcode":"40013"})", "errcode: expected integer, got string"}}) {
    auto r = p.parse_reply(200, e.body);
    ASSERT_FALSE(r.ok()) << e.body;
    EXPECT_EQ(r.error().kind, error_class::malformed) << e.body;
    EXPECT_NE(r.error().message.find(e.says), std::string::npos)
        << e.body << " -> " << r.error().message;
  }
}

TEST(provider, oauth2_replies) {
  auto p = make(provider_kind::oauth2);
  auto ok = p.parse_reply(
      200, R"({"access_token":"A","token_type":"Bearer","expires_in":3600})");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok.value().access_token, "A");
  EXPECT_EQ(ok.value().expires_in, 3600s);
  auto no_type = p.parse_reply(200, R"({"access_token":"A","expires_in":3600})");
  ASSERT_FALSE(no_type.ok());
  EXPECT_EQ(no_type.error().message, "malformed reply: token_type: missing");
  auto bad =
      p.parse_reply(401, R"({"error":"invalid_client","error_description":"bad"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, error_class::config);
  EXPECT_EQ(bad.error().code, 401);
  EXPECT_EQ(bad.error().message, "invalid_client: bad");
  expect_error(p, 400, R"({"error":"unsupported_grant_type"})", error_class::config, 400);
  expect_error(p, 400, "not json", error_class::config, 400);
  expect_error(p, 429, R"({"error":"slow_down"})", error_class::rate_limited, 429);
  expect_error(p, 502, "<html/>", error_class::server_error, 502);
  expect_error(p, 200, "{", error_class::malformed, 0);
}

// -- wecom, jsapi_ticket, component -------------------------------------------

TEST(provider, wecom_request_is_a_get_with_corpid_and_corpsecret) {
  auto req = make(provider_kind::wecom).build_request();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target,
            "/cgi-bin/gettoken?corpid=app%20id&corpsecret=s3cr%26t%3D%2B%2F%20value");
  EXPECT_EQ(req.describe(), "GET /cgi-bin/gettoken");
}

TEST(provider, wecom_replies) {
  auto p = make(provider_kind::wecom);
  auto r = p.parse_reply(
      200, R"({"errcode":0,"errmsg":"ok","access_token":"W1","expires_in":7200})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().access_token, "W1");
  EXPECT_EQ(r.value().expires_in, 7200s);
  // From gettoken a 40001 is a wrong corpsecret: stop, do not retry.
  expect_error(p, 200, R"({"errcode":40001,"errmsg":"invalid credential"})",
               error_class::config, 40001);
  expect_error(p, 200, R"({"errcode":40013,"errmsg":"invalid corpid"})",
               error_class::config, 40013);
  expect_error(p, 200, R"({"errcode":-1,"errmsg":"system busy"})", error_class::busy, -1);
  expect_error(p, 200, R"({"errcode":0,"errmsg":"ok","expires_in":7200})",
               error_class::malformed, 0);
  EXPECT_EQ(p.parse_reply(200, R"({"errcode":0,"expires_in":7200})").error().message,
            "malformed reply: access_token: missing");
}

TEST(provider, jsapi_ticket_request_carries_the_base_token) {
  auto p = make(provider_kind::jsapi_ticket);
  EXPECT_TRUE(p.needs_input());
  EXPECT_FALSE(make(provider_kind::wecom).needs_input());
  auto req = p.build_request(false, "AT/1+2");
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/cgi-bin/ticket/getticket?access_token=AT%2F1%2B2&type=jsapi");
  EXPECT_EQ(req.describe(), "GET /cgi-bin/ticket/getticket");
}

TEST(provider, jsapi_ticket_replies_and_a_refused_base_token) {
  auto p = make(provider_kind::jsapi_ticket);
  auto r = p.parse_reply(
      200, R"({"errcode":0,"errmsg":"ok","ticket":"J1","expires_in":7200})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().access_token, "J1");
  EXPECT_EQ(r.value().expires_in, 7200s);
  EXPECT_EQ(p.parse_reply(200, R"({"errcode":0,"errmsg":"ok","expires_in":7200})")
                .error()
                .message,
            "malformed reply: ticket: missing");
  EXPECT_EQ(
      p.parse_reply(200, R"({"errcode":0,"ticket":7,"expires_in":7200})").error().message,
      "malformed reply: ticket: expected string, got integer");
  // The base access token was refused, not the ticket's own credential: retryable
  // with a new base token (a wechat provider would stop on these).
  for (int code : {40001, 40014, 42001}) {
    expect_error(p, 200, json{{"errcode", code}, {"errmsg", "x"}}.dump(),
                 error_class::input_rejected, code);
    EXPECT_EQ(make(provider_kind::wechat)
                  .parse_reply(200, json{{"errcode", code}}.dump())
                  .error()
                  .kind,
              error_class::rejected_token);
  }
  EXPECT_TRUE(is_retryable(error_class::input_rejected));
  expect_error(p, 200, R"({"errcode":45009,"errmsg":"quota"})",
               error_class::quota_exhausted, 45009);
}

TEST(provider, component_request_is_a_json_post_with_the_verify_ticket) {
  auto p = make(provider_kind::component);
  EXPECT_TRUE(p.needs_input());
  auto req = p.build_request(false, "ticket@@@abc");
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/cgi-bin/component/api_component_token");
  EXPECT_EQ(req.content_type, "application/json");
  EXPECT_EQ(json::parse(req.body), (json{{"component_appid", "app id"},
                                         {"component_appsecret", secret},
                                         {"component_verify_ticket", "ticket@@@abc"}}));
  EXPECT_EQ(req.describe(), "POST /cgi-bin/component/api_component_token");
}

TEST(provider, component_replies) {
  auto p = make(provider_kind::component);
  auto r = p.parse_reply(200, R"({"component_access_token":"C1","expires_in":7200})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().access_token, "C1");
  EXPECT_EQ(
      p.parse_reply(200, R"({"access_token":"C1","expires_in":7200})").error().message,
      "malformed reply: component_access_token: missing");
  EXPECT_EQ(p.parse_reply(200, R"({"component_access_token":"C1"})").error().message,
            "malformed reply: expires_in: missing");
  expect_error(p, 200, R"({"errcode":61005,"errmsg":"component ticket is expired"})",
               error_class::input_rejected, 61005);
  expect_error(p, 200, R"({"errcode":61006,"errmsg":"component ticket is invalid"})",
               error_class::input_rejected, 61006);
  expect_error(p, 200,
               R"({"errcode":61004,"errmsg":"access clientip is not registered"})",
               error_class::config, 61004);
  expect_error(p, 502, "<html>", error_class::server_error, 502);
}

} // namespace
} // namespace shoal::token

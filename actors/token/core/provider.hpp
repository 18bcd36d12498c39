// provider: how to ask one token endpoint for a token and read its answer.
//
// The three kinds speak different protocols:
//
//   wechat         GET  /cgi-bin/token?grant_type=client_credential&appid=A&secret=S
//                  -> {"access_token":"..","expires_in":7200} |
//                  {"errcode":N,"errmsg":".."}
//   wechat_stable  POST /cgi-bin/stable_token  (application/json)
//                  {"grant_type":"client_credential","appid":A,"secret":S,
//                   "force_refresh":false}
//                  -> same replies; the same token while it is valid unless force_refresh
//   oauth2         POST <token_url>  (application/x-www-form-urlencoded)
//                  grant_type=client_credentials&client_id=A&client_secret=S[&scope=..]
//                  -> 200 {"access_token":"..","token_type":"Bearer","expires_in":3600}
//                  | 4xx {"error":"invalid_client","error_description":".."}
//   wecom          GET  /cgi-bin/gettoken?corpid=C&corpsecret=S
//                  -> {"errcode":0,"errmsg":"ok","access_token":"..","expires_in":7200}
//                  the same token until it expires (40001 here: a wrong corpsecret)
//   jsapi_ticket   GET  /cgi-bin/ticket/getticket?access_token=BASE&type=jsapi
//                  -> {"errcode":0,"errmsg":"ok","ticket":"..","expires_in":7200}
//                  40001/40014/42001 refuse the base access token: input_rejected
//   component      POST /cgi-bin/component/api_component_token  (application/json)
//                  {"component_appid":A,"component_appsecret":S,
//                   "component_verify_ticket":T}
//                  -> {"component_access_token":"..","expires_in":7200}
//                  61005/61006 refuse the verify ticket: input_rejected
//
// `input` is what the request is built from besides the configuration: the base
// provider's access token (jsapi_ticket), the newest component_verify_ticket
// (component); unused by the other kinds. It is a credential: never logged.
//
// A provider builds the HTTP request (the fetcher sends it with the HTTP adapter)
// and turns the reply, or the transport failure, into a token or a classified
// upstream_error. Parsing is strict: a missing field or a wrong type is a malformed
// reply naming the field. Requests carry the secret (query or body): log only
// `upstream_request::describe()`, never the target or body. Errors never contain
// the secret. Pure and thread-compatible.

#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/token/core/provider_config.hpp"
#include "actors/token/core/refresh_policy.hpp"
#include "actors/token/core/upstream_error.hpp"
#include "runtime/base/expected.hpp"
#include "runtime/base/url_encode.hpp"

namespace shoal::token {

/// One HTTP request to a token endpoint. `target` and `body` may hold the secret.
struct upstream_request {
  std::string method;
  /// Path plus query string, e.g. "/cgi-bin/token?grant_type=...".
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Empty when there is no body.
  std::string content_type;

  /// "METHOD /path" without query or body: the only form safe to log.
  std::string describe() const;
};

/// A token as the endpoint returned it.
struct fetched_token {
  std::string access_token;
  duration expires_in{0};
};

class provider {
public:
  explicit provider(provider_config config) : config_(std::move(config)) {}

  /// The configuration (holds the secret; do not print it).
  const provider_config& config() const { return config_; }

  /// The request for a new token. `force_refresh` only matters for wechat_stable,
  /// `input` only for jsapi_ticket and component.
  upstream_request build_request(bool force_refresh = false,
                                 std::string_view input = {}) const;

  /// True for the kinds whose request needs an `input` (jsapi_ticket, component).
  bool needs_input() const;

  /// Reads an HTTP reply (status and body) to a request built with `force_refresh`.
  /// For wechat_stable, a limit hit by a forced request is refresh_limited.
  expected<fetched_token, upstream_error> parse_reply(int status, std::string_view body,
                                                      bool force_refresh = false) const;

  /// The error for a request that got no HTTP reply. `message` must already be free
  /// of secrets (the HTTP adapter's errors are).
  static upstream_error transport_failure(bool timed_out, std::string message);

private:
  expected<fetched_token, upstream_error> parse_wechat(int status, std::string_view body,
                                                       bool force_refresh) const;
  /// The errcode of a WeChat-style error reply, classified for this kind.
  error_class classify(long long errcode, bool force_refresh) const;
  expected<fetched_token, upstream_error> parse_oauth2(int status,
                                                       std::string_view body) const;

  provider_config config_;
};

} // namespace shoal::token

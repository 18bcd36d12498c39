// provider_config: one token provider as configured, and its JSON parser.
//
// In the node config, under `$.tokens.providers` (an array):
//
//   { "name": "wx", "kind": "wechat",            // or "wechat_stable"
//     "base_url": "https://api.weixin.qq.com",   // optional, this is the default
//     "appid": "wx123", "secret_env": "WX_SECRET",
//     "connect_timeout_ms": 2000, "read_timeout_ms": 5000, "daily_quota": 2000,
//     "refresh": { "advisory_from_s": 600, "advisory_until_s": 300,
//                  "backoff_initial_ms": 1000, "backoff_max_ms": 60000 },
//     "plain_key": "wx:access_token:{appid}", "plain_key_margin_ms": 200000 }
//                         // optional: the keeper also writes the bare token to
//                         // this Redis string, with a TTL that ends
//                         // plain_key_margin_ms before the token does, the way
//                         // WxJava's WxMpRedisConfigImpl stores it, so existing
//                         // Java services read the cluster's token unchanged
//
//   { "name": "idp", "kind": "oauth2",
//     "token_url": "https://idp.example.com/oauth2/token",
//     "client_id": "svc", "secret_env": "IDP_SECRET", "scope": "read write" }
//
//   { "name": "corp", "kind": "wecom",            // base_url https://qyapi.weixin.qq.com
//     "corpid": "ww123", "secret_env": "CORP_SECRET" }
//
//   { "name": "wx-jsapi", "kind": "jsapi_ticket", "base": "wx" }
//                         // no secret: the ticket is fetched with the access token of
//                         // `base`, a wechat or wechat_stable provider of this config
//
//   { "name": "cmp", "kind": "component",
//     "component_appid": "wx456", "secret_env": "COMPONENT_SECRET" }
//                         // also needs the component_verify_ticket WeChat pushes,
//                         // accepted by POST /token/NAME/verify_ticket
//
// The secret is never written in the config: `secret_env` names an environment
// variable that holds it, resolved while parsing. Unknown keys are errors. Every
// error names its JSON path, e.g.
// `$.tokens.providers[1].kind: expected one of wechat, wechat_stable, oauth2, wecom,
// jsapi_ticket, component, got "x"`.

#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/token/core/refresh_policy.hpp"
#include "runtime/base/expected.hpp"

namespace shoal::token {

/// Which token endpoint protocol a provider speaks.
enum class provider_kind {
  /// GET /cgi-bin/token?grant_type=client_credential&appid=..&secret=..
  wechat,
  /// POST /cgi-bin/stable_token with a JSON body.
  wechat_stable,
  /// OAuth2 client credentials: POST form to a token URL.
  oauth2,
  /// WeCom (WeChat Work): GET /cgi-bin/gettoken?corpid=..&corpsecret=..; the same
  /// token is returned until it expires.
  wecom,
  /// WeChat JS-SDK ticket: GET /cgi-bin/ticket/getticket?access_token=..&type=jsapi,
  /// with the current access token of the `base` provider.
  jsapi_ticket,
  /// Open Platform component_access_token: POST
  /// /cgi-bin/component/api_component_token with the pushed component_verify_ticket.
  component,
};

/// "wechat", "wechat_stable", "oauth2", "wecom", "jsapi_ticket" or "component".
const char* to_string(provider_kind kind);

/// A validated provider. Holds the resolved secret: never print or log it.
struct provider_config {
  /// Unique name, [a-z0-9_-]+; callers ask for tokens by it.
  std::string name;
  provider_kind kind = provider_kind::wechat;
  /// scheme://host[:port] of the token endpoint, scheme http or https.
  std::string base_url;
  /// Path of the token endpoint, starting with '/'.
  std::string token_path;
  /// appid (wechat kinds), client_id (oauth2), corpid (wecom) or component_appid
  /// (component); empty for jsapi_ticket.
  std::string client_id;
  /// The environment variable the secret came from (safe to show); empty for
  /// jsapi_ticket, which has no secret of its own.
  std::string secret_env;
  /// The secret itself.
  std::string secret;
  /// jsapi_ticket: the name of the access-token provider whose token the ticket
  /// request carries (kind wechat or wechat_stable, in the same config).
  std::string base;
  /// OAuth2 scope; empty means none is sent.
  std::string scope;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds read_timeout{5000};
  /// Upstream calls allowed per UTC day; <= 0 means unlimited.
  int64_t daily_quota = 2000;
  refresh_policy_config refresh;
  /// The Redis key the bare token is also written to (placeholders resolved);
  /// empty when none is configured.
  std::string plain_key;
  /// How long before the token's expiry the plain key expires.
  std::chrono::milliseconds plain_key_margin{200'000};
};

/// Resolves a plain_key template for `p`: "{appid}" becomes p.client_id and "{name}"
/// p.name. Fails, naming `path`, on an unknown placeholder, an empty {appid}, a
/// character outside printable ASCII, or a key in shoal's own "shoal:" namespace.
expected<std::string, std::string> resolve_plain_key(const std::string& tpl,
                                                     const provider_config& p,
                                                     const std::string& path);

/// Looks up an environment variable; nullopt when unset.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// Reads the process environment.
std::optional<std::string> process_env(const std::string& name);

/// Parses one provider object found at JSON path `path`.
expected<provider_config, std::string>
parse_provider(const nlohmann::json& j, const std::string& path,
               const env_lookup& env = process_env);

/// Parses the provider array at `path` (usually "$.tokens.providers"); names must be
/// unique, and every jsapi_ticket's `base` must name a wechat or wechat_stable
/// provider of the array.
expected<std::vector<provider_config>, std::string>
parse_providers(const nlohmann::json& j, const std::string& path = "$.tokens.providers",
                const env_lookup& env = process_env);

} // namespace shoal::token

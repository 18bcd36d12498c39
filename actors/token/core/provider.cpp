#include "actors/token/core/provider.hpp"

#include <nlohmann/json.hpp>

namespace shoal::token {

namespace {

using nlohmann::json;

upstream_error malformed(std::string what) {
  return {error_class::malformed, 0, "malformed reply: " + std::move(what)};
}

std::string type_name(const json& v) {
  if (v.is_number_integer())
    return "integer";
  if (v.is_number())
    return "number";
  return v.type_name();
}

std::string clip(std::string s) {
  constexpr size_t max = 200;
  if (s.size() > max)
    s = s.substr(0, max) + "...";
  return s;
}

// Parses `body` as a JSON object; nullopt-like failure names the problem.
expected<json, upstream_error> parse_object(std::string_view body) {
  auto j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded())
    return fail(malformed("not JSON (" + std::to_string(body.size()) + " bytes)"));
  if (!j.is_object())
    return fail(malformed("expected a JSON object, got " + type_name(j)));
  return j;
}

// Reads the token (in field `field`) and expires_in from a success reply.
expected<fetched_token, upstream_error> read_token(const json& j,
                                                   const std::string& field) {
  auto token = j.find(field);
  if (token == j.end())
    return fail(malformed(field + ": missing"));
  if (!token->is_string())
    return fail(malformed(field + ": expected string, got " + type_name(*token)));
  if (token->get_ref<const std::string&>().empty())
    return fail(malformed(field + ": empty"));
  auto expires = j.find("expires_in");
  if (expires == j.end())
    return fail(malformed("expires_in: missing"));
  if (!expires->is_number_integer())
    return fail(malformed("expires_in: expected integer, got " + type_name(*expires)));
  auto seconds = expires->get<int64_t>();
  if (seconds <= 0 || seconds > 366LL * 24 * 3600)
    return fail(malformed("expires_in: out of range: " + std::to_string(seconds)));
  fetched_token t;
  t.access_token = token->get<std::string>();
  t.expires_in = std::chrono::seconds(seconds);
  return t;
}

upstream_error http_status_error(int status) {
  auto text = "HTTP status " + std::to_string(status);
  if (status >= 500)
    return {error_class::server_error, status, text};
  if (status == 429)
    return {error_class::rate_limited, status, text};
  return {error_class::unknown, status, text};
}

} // namespace

std::string upstream_request::describe() const {
  return method + " " + target.substr(0, target.find('?'));
}

bool provider::needs_input() const {
  return config_.kind == provider_kind::jsapi_ticket ||
         config_.kind == provider_kind::component;
}

upstream_request provider::build_request(bool force_refresh,
                                         std::string_view input) const {
  upstream_request req;
  req.headers.emplace_back("Accept", "application/json");
  switch (config_.kind) {
  case provider_kind::wechat:
    req.method = "GET";
    req.target = config_.token_path +
                 "?grant_type=client_credential&appid=" + url_encode(config_.client_id) +
                 "&secret=" + url_encode(config_.secret);
    break;
  case provider_kind::wechat_stable: {
    req.method = "POST";
    req.target = config_.token_path;
    json body = {{"grant_type", "client_credential"},
                 {"appid", config_.client_id},
                 {"secret", config_.secret},
                 {"force_refresh", force_refresh}};
    req.body = body.dump();
    req.content_type = "application/json";
    break;
  }
  case provider_kind::oauth2:
    req.method = "POST";
    req.target = config_.token_path;
    req.body =
        "grant_type=client_credentials&client_id=" + url_encode(config_.client_id) +
        "&client_secret=" + url_encode(config_.secret);
    if (!config_.scope.empty())
      req.body += "&scope=" + url_encode(config_.scope);
    req.content_type = "application/x-www-form-urlencoded";
    break;
  case provider_kind::wecom:
    req.method = "GET";
    req.target = config_.token_path + "?corpid=" + url_encode(config_.client_id) +
                 "&corpsecret=" + url_encode(config_.secret);
    break;
  case provider_kind::jsapi_ticket:
    req.method = "GET";
    req.target =
        config_.token_path + "?access_token=" + url_encode(input) + "&type=jsapi";
    break;
  case provider_kind::component: {
    req.method = "POST";
    req.target = config_.token_path;
    json body = {{"component_appid", config_.client_id},
                 {"component_appsecret", config_.secret},
                 {"component_verify_ticket", std::string{input}}};
    req.body = body.dump();
    req.content_type = "application/json";
    break;
  }
  }
  return req;
}

expected<fetched_token, upstream_error>
provider::parse_reply(int status, std::string_view body, bool force_refresh) const {
  if (config_.kind == provider_kind::oauth2)
    return parse_oauth2(status, body);
  return parse_wechat(status, body, force_refresh);
}

expected<fetched_token, upstream_error>
provider::parse_wechat(int status, std::string_view body, bool force_refresh) const {
  if (status != 200)
    return fail(http_status_error(status));
  auto parsed = parse_object(body);
  if (!parsed)
    return fail(parsed.error());
  auto& j = parsed.value();
  auto code = j.find("errcode");
  if (code != j.end()) {
    if (!code->is_number_integer())
      return fail(malformed("errcode: expected integer, got " + type_name(*code)));
    auto errcode = code->get<int64_t>();
    if (errcode != 0) {
      std::string errmsg;
      if (auto m = j.find("errmsg"); m != j.end() && m->is_string())
        errmsg = clip(m->get<std::string>());
      auto kind = classify(errcode, force_refresh);
      auto text = "errcode " + std::to_string(errcode);
      if (!errmsg.empty())
        text += ": " + errmsg;
      return fail(upstream_error{kind, static_cast<int>(errcode), std::move(text)});
    }
  }
  switch (config_.kind) {
  case provider_kind::jsapi_ticket:
    return read_token(j, "ticket");
  case provider_kind::component:
    return read_token(j, "component_access_token");
  default:
    return read_token(j, "access_token");
  }
}

error_class provider::classify(long long errcode, bool force_refresh) const {
  auto kind = classify_errcode(errcode);
  switch (config_.kind) {
  case provider_kind::wechat_stable:
    if (force_refresh &&
        (kind == error_class::rate_limited || kind == error_class::quota_exhausted))
      return error_class::refresh_limited;
    break;
  case provider_kind::wecom:
    // From gettoken, 40001 means the corpsecret is wrong (40091: not valid).
    if (errcode == 40001 || errcode == 40091)
      return error_class::config;
    break;
  case provider_kind::jsapi_ticket:
    // The base access token was refused, not the ticket: get a fresh base token.
    if (is_rejected_token_code(errcode))
      return error_class::input_rejected;
    break;
  case provider_kind::component:
    if (errcode == 61005 || errcode == 61006) // verify ticket expired / invalid
      return error_class::input_rejected;
    if (errcode == 61004) // caller IP not registered with the platform
      return error_class::config;
    break;
  default:
    break;
  }
  return kind;
}

expected<fetched_token, upstream_error>
provider::parse_oauth2(int status, std::string_view body) const {
  if (status >= 400 && status < 500 && status != 429) {
    auto parsed = parse_object(body);
    if (!parsed)
      return fail(upstream_error{error_class::config, status,
                                 "HTTP status " + std::to_string(status)});
    auto& j = parsed.value();
    auto err = j.find("error");
    if (err == j.end() || !err->is_string())
      return fail(upstream_error{error_class::config, status,
                                 "HTTP status " + std::to_string(status)});
    auto text = clip(err->get<std::string>());
    if (auto d = j.find("error_description"); d != j.end() && d->is_string())
      text += ": " + clip(d->get<std::string>());
    return fail(upstream_error{error_class::config, status, std::move(text)});
  }
  if (status < 200 || status >= 300)
    return fail(http_status_error(status));
  auto parsed = parse_object(body);
  if (!parsed)
    return fail(parsed.error());
  auto& j = parsed.value();
  auto type = j.find("token_type");
  if (type == j.end())
    return fail(malformed("token_type: missing"));
  if (!type->is_string())
    return fail(malformed("token_type: expected string, got " + type_name(*type)));
  return read_token(j, "access_token");
}

upstream_error provider::transport_failure(bool timed_out, std::string message) {
  return {timed_out ? error_class::timeout : error_class::transport, 0,
          std::move(message)};
}

} // namespace shoal::token

#include "actors/token/core/provider_config.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

#include <nlohmann/json.hpp>

namespace shoal::token {

namespace {

using nlohmann::json;

// Thrown inside this file only; parse_provider turns it into a result.
struct config_error {
  std::string message;
};

[[noreturn]] void fail_at(const std::string& path, const std::string& what) {
  throw config_error{path + ": " + what};
}

std::string type_name(const json& v) {
  if (v.is_number_integer())
    return "integer";
  if (v.is_number())
    return "number";
  return v.type_name();
}

std::string shown(const json& v) {
  auto text = v.dump();
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

class object_reader {
public:
  object_reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object())
      fail_at(path_, "expected object, got " + type_name(j_));
  }

  const std::string& path() const { return path_; }
  std::string path_of(const std::string& key) const { return path_ + "." + key; }

  const json* find(const std::string& key) {
    seen_.insert(key);
    auto i = j_.find(key);
    return i == j_.end() ? nullptr : &*i;
  }

  std::optional<std::string> string(const std::string& key) {
    auto v = find(key);
    if (!v)
      return std::nullopt;
    if (!v->is_string())
      fail_at(path_of(key), "expected string, got " + type_name(*v));
    return v->get<std::string>();
  }

  std::string required_string(const std::string& key) {
    auto s = string(key);
    if (!s)
      fail_at(path_of(key), "required");
    if (s->empty())
      fail_at(path_of(key), "must not be empty");
    return *s;
  }

  std::optional<int64_t> integer(const std::string& key, int64_t min, int64_t max) {
    auto v = find(key);
    if (!v)
      return std::nullopt;
    if (!v->is_number_integer())
      fail_at(path_of(key), "expected integer, got " + type_name(*v));
    auto n = v->get<int64_t>();
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max))
      n = max + (max < INT64_MAX ? 1 : 0);
    if (n < min || n > max)
      fail_at(path_of(key), "expected integer in [" + std::to_string(min) + ", " +
                                std::to_string(max) + "], got " + shown(*v));
    return n;
  }

  void reject_unknown_keys() const {
    for (auto& [key, value] : j_.items())
      if (seen_.count(key) == 0)
        fail_at(path_of(key), "unknown key");
  }

private:
  const json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

struct url_parts {
  std::string base;
  std::string path;
};

url_parts split_url(const std::string& url, const std::string& path) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    fail_at(path, "expected an http:// or https:// URL, got \"" + url + "\"");
  auto scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https")
    fail_at(path, "expected scheme http or https, got \"" + scheme + "\"");
  auto rest = url.substr(scheme_end + 3);
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (authority.empty())
    fail_at(path, "URL has no host: \"" + url + "\"");
  if (authority.find('@') != std::string::npos)
    fail_at(path, "URL must not contain credentials");
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    auto port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) == 0 || std::stoi(port) > 65535)
      fail_at(path, "invalid port \"" + port + "\"");
  }
  url_parts parts;
  parts.base = scheme + "://" + authority;
  parts.path = slash == std::string::npos ? "" : rest.substr(slash);
  if (parts.path.find_first_of("?#") != std::string::npos)
    fail_at(path, "URL must not contain a query or fragment");
  return parts;
}

bool valid_name(const std::string& s) {
  return !s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") ==
                           std::string::npos;
}

void parse_refresh(const json& j, const std::string& path, refresh_policy_config& out) {
  object_reader r(j, path);
  constexpr int64_t day_s = 24 * 3600;
  if (auto v = r.integer("advisory_from_s", 1, day_s))
    out.advisory_from = std::chrono::seconds(*v);
  if (auto v = r.integer("advisory_until_s", 0, day_s))
    out.advisory_until = std::chrono::seconds(*v);
  if (auto v = r.integer("backoff_initial_ms", 1, 3600'000))
    out.backoff_initial = std::chrono::milliseconds(*v);
  if (auto v = r.integer("backoff_max_ms", 1, 3600'000))
    out.backoff_max = std::chrono::milliseconds(*v);
  bool margin_set = false;
  if (auto v = r.integer("handout_margin_ms", 0, day_s * 1000)) {
    out.handout_margin = std::chrono::milliseconds(*v);
    margin_set = true;
  }
  if (auto v = r.integer("forced_min_interval_ms", 0, day_s * 1000))
    out.forced_min_interval = std::chrono::milliseconds(*v);
  if (auto v = r.integer("forced_max_per_day", 0, 100'000'000))
    out.forced_max_per_day = *v;
  r.reject_unknown_keys();
  if (out.advisory_until >= out.advisory_from)
    fail_at(r.path_of("advisory_until_s"), "must be less than advisory_from_s");
  // Unset, the 30 s default is capped at half the mandatory window where the
  // windows are computed; set, a value past that cap is a mistake worth saying.
  if (margin_set && 2 * out.handout_margin > out.advisory_until)
    fail_at(r.path_of("handout_margin_ms"),
            "must be at most half of advisory_until_s: the keeper needs the first half "
            "of the mandatory window to refresh before callers wait");
  if (out.backoff_initial > out.backoff_max)
    fail_at(r.path_of("backoff_initial_ms"), "must not exceed backoff_max_ms");
}

provider_config parse_one(const json& j, const std::string& path, const env_lookup& env) {
  object_reader r(j, path);
  provider_config c;
  c.name = r.required_string("name");
  if (!valid_name(c.name))
    fail_at(r.path_of("name"),
            "expected lowercase letters, digits, '_' or '-', got \"" + c.name + "\"");
  auto kind = r.required_string("kind");
  if (kind == "wechat")
    c.kind = provider_kind::wechat;
  else if (kind == "wechat_stable")
    c.kind = provider_kind::wechat_stable;
  else if (kind == "oauth2")
    c.kind = provider_kind::oauth2;
  else if (kind == "wecom")
    c.kind = provider_kind::wecom;
  else if (kind == "jsapi_ticket")
    c.kind = provider_kind::jsapi_ticket;
  else if (kind == "component")
    c.kind = provider_kind::component;
  else
    fail_at(r.path_of("kind"), "expected one of wechat, wechat_stable, oauth2, wecom, "
                               "jsapi_ticket, component, got \"" +
                                   kind + "\"");
  // A base URL without a path, defaulting to the platform's API host.
  auto base_url = [&](const char* fallback) {
    auto url = r.string("base_url").value_or(fallback);
    auto parts = split_url(url, r.path_of("base_url"));
    if (!parts.path.empty() && parts.path != "/")
      fail_at(r.path_of("base_url"), "expected scheme://host[:port] without a path");
    return parts.base;
  };
  if (c.kind == provider_kind::oauth2) {
    auto url = r.required_string("token_url");
    auto parts = split_url(url, r.path_of("token_url"));
    if (parts.path.empty())
      fail_at(r.path_of("token_url"), "URL has no path");
    c.base_url = parts.base;
    c.token_path = parts.path;
    c.client_id = r.required_string("client_id");
    c.scope = r.string("scope").value_or("");
  } else if (c.kind == provider_kind::wecom) {
    c.base_url = base_url("https://qyapi.weixin.qq.com");
    c.token_path = "/cgi-bin/gettoken";
    c.client_id = r.required_string("corpid");
    // The platform hands out the same token until it expires: a refresh before
    // then only gets it back (see refresh_policy_config::refresh_at_expiry).
    c.refresh.refresh_at_expiry = true;
  } else if (c.kind == provider_kind::jsapi_ticket) {
    c.base_url = base_url("https://api.weixin.qq.com");
    c.token_path = "/cgi-bin/ticket/getticket";
    c.base = r.required_string("base");
  } else if (c.kind == provider_kind::component) {
    c.base_url = base_url("https://api.weixin.qq.com");
    c.token_path = "/cgi-bin/component/api_component_token";
    c.client_id = r.required_string("component_appid");
  } else {
    c.base_url = base_url("https://api.weixin.qq.com");
    c.token_path =
        c.kind == provider_kind::wechat ? "/cgi-bin/token" : "/cgi-bin/stable_token";
    c.client_id = r.required_string("appid");
  }
  for (auto key : {"secret", "client_secret", "corpsecret", "component_appsecret"})
    if (r.find(key))
      fail_at(r.path_of(key), "secrets are not written in the config; name an "
                              "environment variable in secret_env");
  if (c.kind == provider_kind::jsapi_ticket) {
    if (r.find("secret_env"))
      fail_at(r.path_of("secret_env"),
              "a jsapi_ticket has no secret: it is fetched with the access token of "
              "its base provider");
  } else {
    c.secret_env = r.required_string("secret_env");
    auto secret = env(c.secret_env);
    if (!secret || secret->empty())
      fail_at(r.path_of("secret_env"),
              "environment variable " + c.secret_env + " is not set or empty");
    c.secret = *secret;
  }
  if (auto v = r.integer("connect_timeout_ms", 1, 600'000))
    c.connect_timeout = std::chrono::milliseconds(*v);
  if (auto v = r.integer("read_timeout_ms", 1, 600'000))
    c.read_timeout = std::chrono::milliseconds(*v);
  if (auto v = r.integer("daily_quota", 0, 100'000'000))
    c.daily_quota = *v;
  // A tenth of the quota for forced refreshes unless refresh says otherwise.
  c.refresh.forced_max_per_day =
      c.daily_quota > 0 ? std::max<int64_t>(1, c.daily_quota / 10) : 0;
  if (auto v = r.find("refresh"))
    parse_refresh(*v, r.path_of("refresh"), c.refresh);
  if (auto tpl = r.string("plain_key")) {
    auto key = resolve_plain_key(*tpl, c, r.path_of("plain_key"));
    if (!key)
      throw config_error{key.error()};
    c.plain_key = key.value();
  }
  if (auto v = r.integer("plain_key_margin_ms", 0, 3600'000)) {
    if (c.plain_key.empty())
      fail_at(r.path_of("plain_key_margin_ms"), "needs plain_key");
    c.plain_key_margin = std::chrono::milliseconds(*v);
  }
  if (!c.plain_key.empty() && c.plain_key_margin >= c.refresh.advisory_until)
    fail_at(
        r.path_of(r.find("plain_key_margin_ms") ? "plain_key_margin_ms" : "plain_key"),
        "the plain key's margin (" + std::to_string(c.plain_key_margin.count()) +
            " ms) must be less than refresh.advisory_until_s (" +
            std::to_string(c.refresh.advisory_until.count() / 1000) +
            " s), or readers of the key find it gone before the next token "
            "is written");
  r.reject_unknown_keys();
  return c;
}

} // namespace

const char* to_string(provider_kind kind) {
  switch (kind) {
  case provider_kind::wechat:
    return "wechat";
  case provider_kind::wechat_stable:
    return "wechat_stable";
  case provider_kind::oauth2:
    return "oauth2";
  case provider_kind::wecom:
    return "wecom";
  case provider_kind::jsapi_ticket:
    return "jsapi_ticket";
  case provider_kind::component:
    return "component";
  }
  return "wechat";
}

expected<std::string, std::string> resolve_plain_key(const std::string& tpl,
                                                     const provider_config& p,
                                                     const std::string& path) {
  std::string key;
  for (size_t i = 0; i < tpl.size();) {
    if (tpl[i] != '{') {
      auto c = static_cast<unsigned char>(tpl[i]);
      if (c <= 0x20 || c >= 0x7f || tpl[i] == '}')
        return fail(path + ": unexpected character at offset " + std::to_string(i) +
                    " of \"" + tpl +
                    "\" (printable ASCII without spaces or braces, "
                    "placeholders {appid} and {name})");
      key += tpl[i++];
      continue;
    }
    auto end = tpl.find('}', i);
    if (end == std::string::npos)
      return fail(path + ": unclosed '{' at offset " + std::to_string(i) + " of \"" +
                  tpl + "\"");
    auto name = tpl.substr(i + 1, end - i - 1);
    if (name == "appid") {
      if (p.client_id.empty())
        return fail(path + ": {appid} is empty for a provider of kind " +
                    to_string(p.kind) + "; use {name} or a fixed key");
      key += p.client_id;
    } else if (name == "name") {
      key += p.name;
    } else {
      return fail(path + ": unknown placeholder {" + name +
                  "} (expected {appid} or {name})");
    }
    i = end + 1;
  }
  if (key.empty())
    return fail(path + ": must not be empty");
  if (key.rfind("shoal:", 0) == 0)
    return fail(path + ": \"" + key +
                "\" is in shoal's own key namespace (shoal:...); pick another key");
  return key;
}

std::optional<std::string> process_env(const std::string& name) {
  if (auto value = std::getenv(name.c_str()))
    return std::string(value);
  return std::nullopt;
}

expected<provider_config, std::string>
parse_provider(const json& j, const std::string& path, const env_lookup& env) {
  try {
    return parse_one(j, path, env);
  } catch (const config_error& e) {
    return fail(e.message);
  }
}

expected<std::vector<provider_config>, std::string>
parse_providers(const json& j, const std::string& path, const env_lookup& env) {
  if (!j.is_array())
    return fail(path + ": expected array, got " + type_name(j));
  std::vector<provider_config> providers;
  std::set<std::string> names;
  for (size_t i = 0; i < j.size(); ++i) {
    auto item_path = path + "[" + std::to_string(i) + "]";
    auto parsed = parse_provider(j[i], item_path, env);
    if (!parsed)
      return fail(parsed.error());
    if (!names.insert(parsed.value().name).second)
      return fail(item_path + ".name: duplicate provider name \"" + parsed.value().name +
                  "\"");
    providers.push_back(std::move(parsed.value()));
  }
  // Two providers writing one plain key would overwrite each other's token.
  for (size_t i = 0; i < providers.size(); ++i)
    for (size_t k = 0; k < i; ++k)
      if (!providers[i].plain_key.empty() &&
          providers[i].plain_key == providers[k].plain_key)
        return fail(path + "[" + std::to_string(i) + "].plain_key: \"" +
                    providers[i].plain_key + "\" is also the plain key of provider \"" +
                    providers[k].name + "\"");
  // A ticket's base is checked once every provider is known: it may come later.
  for (size_t i = 0; i < providers.size(); ++i) {
    auto& p = providers[i];
    if (p.kind != provider_kind::jsapi_ticket)
      continue;
    auto at = path + "[" + std::to_string(i) + "].base";
    auto base = std::find_if(providers.begin(), providers.end(),
                             [&](auto& b) { return b.name == p.base; });
    if (base == providers.end())
      return fail(at + ": no provider \"" + p.base + "\" in " + path);
    if (base->kind != provider_kind::wechat && base->kind != provider_kind::wechat_stable)
      return fail(at + ": provider \"" + p.base + "\" is of kind " +
                  to_string(base->kind) +
                  "; a jsapi_ticket needs the access token of a wechat or "
                  "wechat_stable provider");
  }
  return providers;
}

} // namespace shoal::token

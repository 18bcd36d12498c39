#include "runtime/token_service.hpp"

#include <random>

#include <caf/all.hpp>

#include "actors/token/actors/token_cache.hpp"
#include "actors/token/actors/token_keeper.hpp"
#include "actors/token/actors/token_store.hpp"
#include "actors/token/core/provider_config.hpp"
#include "messages/cluster.hpp"
#include "messages/token.hpp"
#include "runtime/connections.hpp"
#include "runtime/logging.hpp"
#include "runtime/node.hpp"
#include "runtime/token_service_impl.hpp"

namespace shoal {

using namespace std::chrono;
using nlohmann::json;

token_service::token_service(std::unique_ptr<impl> d) : d_(std::move(d)), client_(this) {}

token_service::~token_service() {
  stop();
}

json token_service::status() {
  return d_->watcher->status();
}

std::vector<std::string> token_service::not_ready() {
  return d_->watcher->without_token();
}

void token_service::stop() {
  if (d_->stopped)
    return;
  d_->stopped = true;
  // Hand the leases over before leaving: a standby takes over at its next lease
  // tick instead of waiting for the lease to run out.
  for (auto& k : d_->keepers)
    token::release_keeper_lease(*d_->sys, k, std::chrono::seconds{1});
  for (auto& k : d_->keepers)
    caf::anon_send_exit(k, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(d_->cache, caf::exit_reason::user_shutdown);
}

stored_token read_stored_token(const config& cfg, const std::string& provider) {
  stored_token out;
  if (!cfg.redis) {
    out.error = "the config has no $.redis: the token is stored there";
    return out;
  }
  // Reading the store needs no app secret: do not ask for one.
  auto parsed = token::parse_providers(
      cfg.tokens.providers, "$.tokens.providers",
      [](const std::string&) { return std::optional<std::string>{"unused"}; });
  if (!parsed) {
    out.error = "config error at " + parsed.error();
    return out;
  }
  auto& all = parsed.value();
  if (std::none_of(all.begin(), all.end(), [&](auto& p) { return p.name == provider; })) {
    out.error = "no provider \"" + provider + "\" in $.tokens.providers";
    return out;
  }
  token::token_store store{to_redis_config(*cfg.redis), provider, "cli",
                           milliseconds{1000}};
  auto rec = store.read();
  if (!rec) {
    out.error = rec.error().to_string();
    return out;
  }
  if (!*rec) {
    out.error = "no token of " + provider + " stored yet (is a keeper running?)";
    return out;
  }
  auto& r = **rec;
  out.version = r.version;
  out.expires_at_ms = token::to_epoch_ms(r.expires_at);
  if (token::clock::now() >= r.expires_at) {
    out.error = "the stored token of " + provider + " (version " +
                std::to_string(r.version) + ") has expired";
    return out;
  }
  out.token = r.token;
  return out;
}

std::unique_ptr<service> make_token_service(node& n, std::string& error) {
  auto& cfg = n.cfg();
  if (!cfg.tokens.present || cfg.tokens.providers.empty())
    return nullptr;
  if (!cfg.redis) {
    error =
        "config error at $.tokens: the token keeper needs $.redis (its lease and record)";
    return nullptr;
  }
  auto parsed = token::parse_providers(cfg.tokens.providers, "$.tokens.providers");
  if (!parsed) {
    error = "config error at " + parsed.error();
    return nullptr;
  }
  auto& providers = parsed.value();
  std::vector<std::string> names;
  token::cache_settings cache_cfg;
  cache_cfg.node = cfg.node.name;
  for (auto& p : providers) {
    names.push_back(p.name);
    cache_cfg.policies[p.name] = p.refresh;
    add_secret(p.secret);
  }

  auto d = std::make_unique<token_service::impl>();
  if (cfg.tokens.http_api) {
    auto secret = secret_from_env(cfg.tokens.http_api_secret_env);
    if (!secret) {
      error = "config error at $.tokens.http_api.secret_env: environment variable " +
              cfg.tokens.http_api_secret_env + " is not set";
      return nullptr;
    }
    add_secret(*secret);
    d->http_secret = *secret;
  }
  auto& sys = n.system();
  d->sys = &sys;
  d->node = cfg.node.name;
  d->redis = to_redis_config(*cfg.redis);
  for (auto& p : providers)
    if (p.kind == token::provider_kind::component)
      d->components.insert(p.name);
  d->board = std::make_shared<token::token_board>(names);
  d->watcher = std::make_shared<token_metrics>(n.metrics(), names);
  d->cache =
      token::spawn_token_cache(sys, cache_cfg, n.directory(), d->board, d->watcher);
  caf::anon_send(n.directory(), atoms::register_name::value,
                 std::string{token::token_cache_name},
                 caf::actor_cast<caf::actor>(d->cache));

  auto& keepers = cfg.tokens.keepers;
  bool keeps = keepers.empty() ||
               std::find(keepers.begin(), keepers.end(), cfg.node.name) != keepers.end();
  if (keeps) {
    std::random_device rd;
    auto incarnation = (static_cast<uint64_t>(rd()) << 32) | rd();
    auto redis = to_redis_config(*cfg.redis);
    for (auto& p : providers) {
      token::keeper_settings k;
      k.provider = p;
      k.node = cfg.node.name;
      char owner[64];
      std::snprintf(owner, sizeof owner, "%016llx",
                    static_cast<unsigned long long>(incarnation));
      k.owner = cfg.node.name + "/" + owner;
      k.redis = redis;
      k.lease = milliseconds{cfg.tokens.lease_ms};
      k.seed = incarnation ^ std::hash<std::string>{}(p.name);
      if (!cfg.tokens.mirror_mysql.empty()) {
        k.mirror = to_mysql_config(cfg.mysql.at(cfg.tokens.mirror_mysql));
        add_secret(k.mirror->password);
        k.mirror_table = cfg.tokens.mirror_table;
      }
      auto keeper =
          token::spawn_token_keeper(sys, std::move(k), d->cache, d->board, d->watcher);
      caf::anon_send(d->cache, atoms::token_keeper::value, p.name, keeper);
      d->keepers.push_back(std::move(keeper));
    }
  }
  log().info("token service: {} provider(s), {}", providers.size(),
             keeps ? "keeper candidate" : "cache only");
  return std::make_unique<token_service>(std::move(d));
}

} // namespace shoal

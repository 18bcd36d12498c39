#include "runtime/token_service.hpp"

#include <map>
#include <mutex>
#include <random>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "actors/token/provider_config.hpp"
#include "actors/token/token_cache.hpp"
#include "actors/token/token_keeper.hpp"
#include "actors/token/token_observer.hpp"
#include "messages/cluster.hpp"
#include "messages/token.hpp"
#include "runtime/logging.hpp"
#include "runtime/node.hpp"

namespace shoal {

namespace {

using namespace std::chrono;
using nlohmann::json;

/// Per-provider figures for /status; guarded by observer::mutex_.
struct provider_figures {
  uint64_t version = 0;
  int64_t expires_at_ms = 0;
  std::string keeper_node;
  bool leader = false;
  std::map<std::string, int64_t> upstream;
  int64_t coalesced = 0;
  int64_t quota_used = 0;
  std::map<std::string, int64_t> store_events;
  std::string last_error;
};

class observer final : public token::token_observer {
public:
  observer(prometheus::Registry& reg, const std::vector<std::string>& providers)
      : calls_(prometheus::BuildCounter()
                 .Name("shoal_token_upstream_calls_total")
                 .Help("Calls to a token endpoint by this node's keeper, by result.")
                 .Register(reg)),
        coalesced_(prometheus::BuildCounter()
                     .Name("shoal_token_coalesced_waiters_total")
                     .Help("Callers that waited for a refresh instead of causing one.")
                     .Register(reg)),
        stale_(prometheus::BuildCounter()
                 .Name("shoal_token_stale_served_total")
                 .Help("Gets served a token inside its mandatory refresh window.")
                 .Register(reg)),
        waited_(prometheus::BuildCounter()
                  .Name("shoal_token_waited_gets_total")
                  .Help("Gets that found no valid token on this node and waited.")
                  .Register(reg)),
        store_(prometheus::BuildCounter()
                 .Name("shoal_token_store_events_total")
                 .Help("Token writes refused by the store (fenced) or failed.")
                 .Register(reg)),
        gauges_(prometheus::BuildGauge()
                  .Name("shoal_token")
                  .Help("Per provider: version, expires_at_seconds, quota_used, leader.")
                  .Register(reg)) {
    for (auto& p : providers) {
      figures_[p];
      stale_by_provider_[p] = &stale_.Add({{"provider", p}});
      waited_by_provider_[p] = &waited_.Add({{"provider", p}});
    }
  }

  void upstream_call(const std::string& provider, std::string_view result,
                     const std::string& message) override {
    calls_.Add({{"provider", provider}, {"result", std::string{result}}}).Increment();
    std::lock_guard<std::mutex> guard(mutex_);
    auto& f = figures_[provider];
    ++f.upstream[std::string{result}];
    if (result != "ok")
      f.last_error = std::string{result} + ": " + message;
  }

  void leadership(const std::string& provider, bool leader) override {
    gauge(provider, "leader").Set(leader ? 1 : 0);
    std::lock_guard<std::mutex> guard(mutex_);
    figures_[provider].leader = leader;
  }

  void quota_used(const std::string& provider, int64_t used) override {
    gauge(provider, "quota_used").Set(static_cast<double>(used));
    std::lock_guard<std::mutex> guard(mutex_);
    figures_[provider].quota_used = used;
  }

  void coalesced(const std::string& provider, int64_t n) override {
    coalesced_.Add({{"provider", provider}}).Increment(static_cast<double>(n));
    std::lock_guard<std::mutex> guard(mutex_);
    figures_[provider].coalesced += n;
  }

  void adopted(const std::string& provider, uint64_t version, int64_t expires_at_ms,
               const std::string& keeper_node) override {
    gauge(provider, "version").Set(static_cast<double>(version));
    gauge(provider, "expires_at_seconds").Set(static_cast<double>(expires_at_ms) / 1000.0);
    log().info("token {}: version {} from keeper on {}", provider, version, keeper_node);
    std::lock_guard<std::mutex> guard(mutex_);
    auto& f = figures_[provider];
    f.version = version;
    f.expires_at_ms = expires_at_ms;
    f.keeper_node = keeper_node;
  }

  void store_event(const std::string& provider, std::string_view what) override {
    store_.Add({{"provider", provider}, {"event", std::string{what}}}).Increment();
    log().warn("token {}: store {}", provider, what);
    std::lock_guard<std::mutex> guard(mutex_);
    ++figures_[provider].store_events[std::string{what}];
  }

  void note(const std::string& provider, bool warn, const std::string& text) override {
    if (warn)
      log().warn("token {}: {}", provider, text);
    else
      log().info("token {}: {}", provider, text);
  }

  void stale_served(const std::string& provider) { stale_by_provider_.at(provider)->Increment(); }
  void waited(const std::string& provider) { waited_by_provider_.at(provider)->Increment(); }

  json status() {
    json out = json::object();
    auto now_ms =
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    std::lock_guard<std::mutex> guard(mutex_);
    for (auto& [name, f] : figures_) {
      out[name] = {{"version", f.version},
                   {"expires_at_ms", f.expires_at_ms},
                   {"expires_in_ms", f.version ? f.expires_at_ms - now_ms : 0},
                   {"keeper_node", f.keeper_node},
                   {"keeper_here", f.leader},
                   {"upstream_calls", f.upstream},
                   {"coalesced_waiters", f.coalesced},
                   {"stale_served", stale_by_provider_.at(name)->Value()},
                   {"waited_gets", waited_by_provider_.at(name)->Value()},
                   {"quota_used", f.quota_used},
                   {"store_events", f.store_events},
                   {"last_error", f.last_error}};
    }
    return out;
  }

private:
  prometheus::Gauge& gauge(const std::string& provider, const std::string& what) {
    return gauges_.Add({{"provider", provider}, {"what", what}});
  }

  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Counter>& coalesced_;
  prometheus::Family<prometheus::Counter>& stale_;
  prometheus::Family<prometheus::Counter>& waited_;
  prometheus::Family<prometheus::Counter>& store_;
  prometheus::Family<prometheus::Gauge>& gauges_;
  std::map<std::string, prometheus::Counter*> stale_by_provider_;
  std::map<std::string, prometheus::Counter*> waited_by_provider_;
  std::mutex mutex_;
  std::map<std::string, provider_figures> figures_;
};

} // namespace

struct token_service::impl {
  caf::actor_system* sys = nullptr;
  std::string node;
  std::shared_ptr<token::token_board> board;
  std::shared_ptr<observer> watcher;
  caf::actor cache;
  std::vector<caf::actor> keepers;
  bool stopped = false;
};

token_service::token_service(std::unique_ptr<impl> d) : d_(std::move(d)), client_(this) {}

token_service::~token_service() {
  stop();
}

json token_service::status() {
  return d_->watcher->status();
}

void token_service::stop() {
  if (d_->stopped)
    return;
  d_->stopped = true;
  for (auto& k : d_->keepers)
    caf::anon_send_exit(k, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(d_->cache, caf::exit_reason::user_shutdown);
}

token_result token_client::get(std::string_view provider, milliseconds wait) const {
  if (!svc_)
    return {nullptr, "no token service runs on this node"};
  auto& d = svc_->internals();
  auto slot = d.board->slot_of(provider);
  if (slot < 0)
    return {nullptr, "unknown token provider \"" + std::string{provider} + "\""};
  auto now = token::clock::now();
  if (auto* t = d.board->current(slot); t && now < t->expires_at) {
    if (now >= t->stale_after)
      d.watcher->stale_served(t->provider);
    return {t, {}};
  }
  if (d.stopped)
    return {nullptr, "the token service is stopped"};
  d.watcher->waited(std::string{provider});
  token_result out;
  caf::scoped_actor self{*d.sys};
  self->request(d.cache, wait, atoms::token_get::value, std::string{provider},
                static_cast<int64_t>(wait.count()))
    .receive(
      [&](msg::token_update&) {
        auto* t = d.board->current(slot);
        if (t && token::clock::now() < t->expires_at)
          out.snapshot = t;
        else
          out.error = "the token of " + std::string{provider} + " expired on arrival";
      },
      [&](caf::error& e) {
        out.error = "no valid token of " + std::string{provider} + " within " +
                    std::to_string(wait.count()) + " ms: " + d.sys->render(e);
      });
  return out;
}

void token_client::rejected(std::string_view provider, std::string_view token) const {
  if (!svc_)
    return;
  auto& d = svc_->internals();
  if (d.stopped)
    return;
  caf::anon_send(d.cache, msg::token_rejected{std::string{provider}, std::string{token}, d.node});
}

std::unique_ptr<service> make_token_service(node& n, std::string& error) {
  auto& cfg = n.cfg();
  if (!cfg.tokens.present || cfg.tokens.providers.empty())
    return nullptr;
  if (!cfg.redis) {
    error = "config error at $.tokens: the token keeper needs $.redis (its lease and record)";
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
  for (auto& peer : cfg.cluster.peers)
    cache_cfg.peers[peer.name] = {peer.address.host, peer.address.port};

  auto d = std::make_unique<token_service::impl>();
  auto& sys = n.system();
  d->sys = &sys;
  d->node = cfg.node.name;
  d->board = std::make_shared<token::token_board>(names);
  d->watcher = std::make_shared<observer>(n.metrics(), names);
  auto connector = cfg.tls.enabled()
                     ? caf::actor_cast<caf::actor>(sys.openssl_manager().actor_handle())
                     : caf::actor_cast<caf::actor>(sys.middleman().actor_handle());
  d->cache = token::spawn_token_cache(sys, cache_cfg, n.directory(), connector, d->board,
                                      d->watcher);
  caf::anon_send(n.directory(), atoms::register_name::value, std::string{token::token_cache_name},
                 d->cache);

  auto& keepers = cfg.tokens.keepers;
  bool keeps = keepers.empty() ||
               std::find(keepers.begin(), keepers.end(), cfg.node.name) != keepers.end();
  if (keeps) {
    std::random_device rd;
    auto incarnation = (static_cast<uint64_t>(rd()) << 32) | rd();
    redis_config redis;
    redis.host = cfg.redis->address.host;
    redis.port = cfg.redis->address.port;
    if (auto pw = secret_from_env(cfg.redis->password_env))
      redis.password = *pw;
    redis.db = static_cast<int>(cfg.redis->db);
    redis.connect_timeout = milliseconds{cfg.redis->timeout_ms};
    redis.command_timeout = milliseconds{cfg.redis->timeout_ms};
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
      auto keeper = token::spawn_token_keeper(sys, std::move(k), d->cache, d->board, d->watcher);
      caf::anon_send(d->cache, atoms::token_keeper::value, p.name, keeper);
      d->keepers.push_back(std::move(keeper));
    }
  }
  log().info("token service: {} provider(s), {}", providers.size(),
             keeps ? "keeper candidate" : "cache only");
  return std::make_unique<token_service>(std::move(d));
}

} // namespace shoal

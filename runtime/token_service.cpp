#include "runtime/token_service.hpp"

#include <map>
#include <mutex>
#include <random>
#include <time.h>

#include <caf/all.hpp>
#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "actors/token/actors/token_cache.hpp"
#include "actors/token/actors/token_keeper.hpp"
#include "actors/token/actors/token_store.hpp"
#include "actors/token/core/provider_config.hpp"
#include "actors/token/core/token_observer.hpp"
#include "messages/cluster.hpp"
#include "messages/token.hpp"
#include "runtime/connections.hpp"
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
        gauges_(
            prometheus::BuildGauge()
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
    gauge(provider, "expires_at_seconds")
        .Set(static_cast<double>(expires_at_ms) / 1000.0);
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

  void stale_served(const std::string& provider) {
    stale_by_provider_.at(provider)->Increment();
  }
  void waited(const std::string& provider) {
    waited_by_provider_.at(provider)->Increment();
  }

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

/// The wall clock at jiffy resolution (a few ms): read from the vDSO without
/// touching the clock hardware, several times cheaper than system_clock::now().
token::time_point coarse_now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return token::time_point{duration_cast<token::clock::duration>(
      seconds{ts.tv_sec} + nanoseconds{ts.tv_nsec})};
}

/// More than the coarse clock can lag behind: a token this close to its expiry
/// is no longer handed out by the fast path.
constexpr milliseconds coarse_margin{50};

} // namespace

struct token_service::impl {
  /// The bearer secret of the HTTP API; empty when the API is off.
  std::string http_secret;
  caf::actor_system* sys = nullptr;
  std::string node;
  std::shared_ptr<token::token_board> board;
  std::shared_ptr<observer> watcher;
  token_cache_actor cache;
  std::vector<token_keeper_actor> keepers;
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
  // Hand the leases over before leaving: a standby takes over at its next lease
  // tick instead of waiting for the lease to run out.
  for (auto& k : d_->keepers)
    token::release_keeper_lease(*d_->sys, k, std::chrono::seconds{1});
  for (auto& k : d_->keepers)
    caf::anon_send_exit(k, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(d_->cache, caf::exit_reason::user_shutdown);
}

namespace {

bool same_secret(const std::string& given, const std::string& expected) {
  // Compares every byte whatever the first difference, so timing does not tell.
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(
        given[i] ^ expected[i % std::max<size_t>(1, expected.size())]);
  return diff == 0 && !expected.empty();
}

bool authorized(const httplib::Request& req, const std::string& secret,
                httplib::Response& res) {
  auto header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (header.rfind(prefix, 0) == 0 && same_secret(header.substr(prefix.size()), secret))
    return true;
  res.status = 401;
  res.set_header("WWW-Authenticate", "Bearer");
  res.set_content(R"({"error":"unauthorized"})", "application/json");
  return false;
}

} // namespace

void token_service::add_routes(httplib::Server& server) {
  if (d_->http_secret.empty())
    return;
  server.Get(R"(/token/([A-Za-z0-9_-]+))",
             [this](const httplib::Request& req, httplib::Response& res) {
               if (!authorized(req, d_->http_secret, res))
                 return;
               std::string provider = req.matches[1];
               if (d_->board->slot_of(provider) < 0) {
                 res.status = 404;
                 res.set_content(json{{"error", "unknown provider " + provider}}.dump(),
                                 "application/json");
                 return;
               }
               auto t = client_.get(provider, seconds{5});
               if (!t) {
                 res.status = 503;
                 res.set_content(json{{"error", t.error}}.dump(), "application/json");
                 return;
               }
               auto expires = token::to_epoch_ms(t.snapshot->expires_at);
               auto now = token::to_epoch_ms(token::clock::now());
               res.set_content(json{{"access_token", t.token()},
                                    {"version", t.snapshot->version},
                                    {"expires_at_ms", expires},
                                    {"expires_in_ms", expires - now}}
                                   .dump(),
                               "application/json");
             });
  server.Post(R"(/token/([A-Za-z0-9_-]+)/rejected)", [this](const httplib::Request& req,
                                                            httplib::Response& res) {
    if (!authorized(req, d_->http_secret, res))
      return;
    std::string provider = req.matches[1];
    auto body = json::parse(req.body, nullptr, false);
    if (d_->board->slot_of(provider) < 0 || body.is_discarded() || !body.is_object() ||
        !body.contains("access_token") || !body["access_token"].is_string()) {
      res.status = d_->board->slot_of(provider) < 0 ? 404 : 400;
      res.set_content(
          R"({"error":"expected a known provider and {\"access_token\": \"...\"}"})",
          "application/json");
      return;
    }
    client_.rejected(provider, body["access_token"].get<std::string>());
    res.status = 202;
    res.set_content(R"({"accepted":true})", "application/json");
  });
}

token_result token_client::get(std::string_view provider, milliseconds wait) const {
  if (!svc_)
    return {nullptr, "no token service runs on this node"};
  auto& d = svc_->internals();
  auto slot = d.board->slot_of(provider);
  if (slot < 0)
    return {nullptr, "unknown token provider \"" + std::string{provider} + "\""};
  auto now = coarse_now() + coarse_margin;
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
  // A token can run out between the cache's answer and this check (this thread
  // descheduled while no keeper could refresh): ask again until the deadline
  // rather than fail a caller a newer token may reach in time.
  auto deadline = steady_clock::now() + wait;
  for (;;) {
    auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
    if (left <= milliseconds{0}) {
      out.error = "no valid token of " + std::string{provider} + " within " +
                  std::to_string(wait.count()) +
                  " ms: the tokens that arrived had expired";
      return out;
    }
    bool again = false;
    self->request(d.cache, left, atoms::token_get::value, std::string{provider},
                  static_cast<int64_t>(left.count()))
        .receive(
            [&](msg::token_update&) {
              auto* t = d.board->current(slot);
              if (t && token::clock::now() < t->expires_at)
                out.snapshot = t;
              else
                again = true;
            },
            [&](caf::error& e) {
              out.error = "no valid token of " + std::string{provider} + " within " +
                          std::to_string(wait.count()) + " ms: " + d.sys->render(e);
            });
    if (!again)
      return out;
  }
}

void token_client::rejected(std::string_view provider, std::string_view token) const {
  if (!svc_)
    return;
  auto& d = svc_->internals();
  if (d.stopped)
    return;
  caf::anon_send(d.cache,
                 msg::token_rejected{std::string{provider}, std::string{token}, d.node});
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
  d->board = std::make_shared<token::token_board>(names);
  d->watcher = std::make_shared<observer>(n.metrics(), names);
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

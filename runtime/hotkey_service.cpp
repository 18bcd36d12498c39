#include "runtime/hotkey_service.hpp"

#include <map>
#include <stdexcept>

#include <caf/all.hpp>

#include "actors/hotkey/actors/invalidation_follower.hpp"
#include "actors/hotkey/core/rule_parser.hpp"
#include "messages/cluster.hpp"
#include "messages/hotkey.hpp"
#include "runtime/connections.hpp"
#include "runtime/hotkey_metrics.hpp"
#include "runtime/logging.hpp"
#include "runtime/node.hpp"
#include "runtime/placement.hpp"

namespace shoal {

namespace {

using namespace std::chrono;

hotkey::protection_config protection_of(const hotkeys_config& h) {
  hotkey::protection_config pc;
  pc.per_rule = {h.rule_rate, static_cast<uint32_t>(h.rule_burst)};
  pc.per_key = {h.key_rate, static_cast<uint32_t>(h.key_burst)};
  pc.per_key_max_keys = static_cast<size_t>(h.key_max_keys);
  pc.breaker.error_ratio = h.breaker_error_ratio;
  pc.breaker.slow_call_ratio = h.breaker_slow_call_ratio;
  pc.breaker.slow_call_ms = h.breaker_slow_call_ms;
  pc.breaker.minimum_calls = static_cast<uint32_t>(h.breaker_minimum_calls);
  pc.breaker.window = hotkey::window_shape{h.breaker_window_ms, 10};
  pc.breaker.open_ms = h.breaker_open_ms;
  pc.breaker.half_open_probes = static_cast<uint32_t>(h.breaker_half_open_probes);
  pc.fallback = h.fallback;
  pc.wait_ms = h.wait_ms;
  return pc;
}

/// Reads the rules the config points at: the rules file if set, else inline rules.
hotkey::rule_parse_result read_rules(const hotkeys_config& h) {
  if (!h.rules_file.empty())
    return hotkey::load_rules_file(h.rules_file);
  return hotkey::parse_rules(h.rules);
}

nlohmann::json rules_json(const std::vector<hotkey::hotkey_rule>& rules) {
  auto out = nlohmann::json::array();
  for (auto& r : rules) {
    nlohmann::json j;
    if (r.kind == hotkey::match_kind::prefix)
      j["prefix"] = r.pattern;
    else
      j["key"] = r.kind == hotkey::match_kind::any ? "*" : r.pattern;
    j["threshold"] = r.threshold;
    j["window_ms"] = r.window_ms;
    j["duration_ms"] = r.duration_ms;
    if (r.own_cache)
      j["cache"] = {{"max_entries", r.cache_max_entries},
                    {"max_bytes", r.cache_max_bytes}};
    out.push_back(std::move(j));
  }
  return out;
}

} // namespace

hotkey_service::hotkey_service(node& n, std::shared_ptr<hotkey::node_context> p,
                               std::shared_ptr<const hotkey::rule_set> rules)
    : node_(n), p_(std::move(p)), reader_(protection_of(n.cfg().hotkeys), p_) {
  gate_->service = this; // the services after this one start once it is built
  auto& cfg = n.cfg();
  auto& h = cfg.hotkeys;
  p_->rules = std::make_shared<hotkey::rule_book>(std::move(rules));
  p_->view->use_rules(p_->rules->current());
  p_->rules->on_change(
      [view = p_->view](const std::shared_ptr<const hotkey::rule_set>& s) {
        view->use_rules(s);
      });
  p_->on_detect = [this](const std::string& key, uint64_t count, int64_t at) {
    std::lock_guard<std::mutex> guard{listener_lock_};
    if (listener_)
      listener_(key, count, at);
  };
  auto& sys = n.system();
  cache_ = hotkey::spawn_cache_actor(sys, p_);
  caf::anon_send(n.directory(), atoms::register_name::value,
                 std::string{hotkey::cache_name}, caf::actor_cast<caf::actor>(cache_));
  bool shard_here = h.shard_nodes.empty();
  for (auto& s : h.shard_nodes)
    shard_here = shard_here || s == p_->node;
  if (shard_here) {
    shard_ = hotkey::spawn_counter_shard(sys, p_);
    caf::anon_send(n.directory(), atoms::register_name::value,
                   std::string{hotkey::shard_name}, caf::actor_cast<caf::actor>(shard_));
  }
  recorder_ = hotkey::spawn_recorder(sys, p_);
  tracker_ = hotkey::spawn_peer_tracker(sys, p_, n.directory(), h.shard_nodes,
                                        {cache_, shard_, recorder_});
  if (!h.invalidation_channel.empty())
    follower_ = hotkey::spawn_invalidation_follower(
        sys, p_, to_redis_config(*n.cfg().redis), h.invalidation_channel,
        [](bool error, const std::string& line) {
          if (error)
            log().warn("hotkeys: {}", line);
          else
            log().info("hotkeys: {}", line);
        });
  metrics_ = std::make_unique<metrics>(n.metrics());
}

hotkey_service::~hotkey_service() {
  stop();
}

void hotkey_service::stop() {
  if (stopping_.exchange(true))
    return;
  {
    std::lock_guard<std::mutex> guard{gate_->mtx};
    gate_->service = nullptr;
  }
  if (sidecar_)
    sidecar_->stop();
  auto quit = [](auto& a) {
    if (a)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    a = nullptr;
  };
  quit(follower_);
  quit(tracker_);
  quit(recorder_);
  quit(shard_);
  quit(cache_);
}

std::string hotkey_service::invalidation_state() const {
  if (!follower_)
    return "off";
  std::string state = "unknown (the follower did not answer)";
  caf::scoped_actor self{node_.system()};
  self->request(follower_, seconds{1}, atoms::hk_state::value)
      .receive([&](std::string& s) { state = std::move(s); }, [](caf::error&) {});
  return state;
}

std::pair<std::vector<std::string>, std::vector<std::string>>
hotkey_service::live_peers() const {
  std::pair<std::vector<std::string>, std::vector<std::string>> out;
  if (!tracker_)
    return out;
  caf::scoped_actor self{node_.system()};
  self->request(tracker_, seconds{2}, atoms::hk_peers::value)
      .receive(
          [&](msg::hotkey_peers& live) {
            for (auto& [node, _] : live.shards)
              out.first.push_back(node);
            for (auto& [node, _] : live.caches)
              out.second.push_back(node);
          },
          [](caf::error&) {});
  return out;
}

std::optional<std::string> hotkey_service::reload() {
  auto& h = node_.cfg().hotkeys;
  std::optional<config> fresh;
  if (h.rules_file.empty()) {
    auto loaded = load_config_file(node_.cfg().origin);
    if (!loaded) {
      std::string why = "rules not reloaded, old rules kept:";
      for (auto& e : loaded.error())
        why += " " + e;
      return why;
    }
    fresh = std::move(*loaded);
  }
  auto parsed = fresh ? hotkey::parse_rules(fresh->hotkeys.rules)
                      : hotkey::load_rules_file(h.rules_file);
  if (!parsed) {
    auto why = "rules not reloaded, old rules kept: " + parsed.error().to_string();
    log().error("hotkeys: {}", why);
    return why;
  }
  auto version = static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
  version = std::max(version, p_->rules->current()->version + 1);
  auto text = rules_json(*parsed).dump();
  p_->rules->offer(std::make_shared<hotkey::rule_set>(version, std::move(*parsed), text));
  std::string reached = "? (the peer tracker did not answer)";
  caf::scoped_actor self{node_.system()};
  if (tracker_)
    self->request(tracker_, seconds{2}, msg::hotkey_rules{version, text})
        .receive([&](uint64_t n) { reached = std::to_string(n); }, [](caf::error&) {});
  log().info("hotkeys: rules reloaded (version {}), sent to {} node(s)", version,
             reached);
  return std::nullopt;
}

std::unique_ptr<service> make_hotkey_service(node& n, std::string& error) {
  auto& cfg = n.cfg();
  auto& h = cfg.hotkeys;
  if (!h.present)
    return nullptr;
  auto parsed = read_rules(h);
  if (!parsed) {
    error = "hotkeys: " + parsed.error().to_string();
    return nullptr;
  }
  auto text = rules_json(*parsed).dump();
  auto rules = std::make_shared<hotkey::rule_set>(0, std::move(*parsed), text);
  auto p = std::make_shared<hotkey::node_context>();
  p->node = cfg.node.name;
  p->view = std::make_shared<hotkey::hot_view>(
      hotkey::cache_limits{static_cast<size_t>(h.cache_max_entries),
                           static_cast<size_t>(h.cache_max_bytes), 4});
  p->owner = [](std::string_view key, const std::vector<std::string>& nodes) {
    return owner_of(key, nodes);
  };
  p->flush_ms = h.flush_ms;
  p->counter.max_candidates = static_cast<uint32_t>(h.shard_max_candidates);
  std::string http_secret;
  if (h.http_api) {
    auto secret = secret_from_env(h.http_api_secret_env);
    if (!secret) {
      error = "config error at $.hotkeys.http_api.secret_env: environment variable " +
              h.http_api_secret_env + " is not set";
      return nullptr;
    }
    http_secret = *secret;
  }
  auto ctx = p;
  auto svc = std::make_unique<hotkey_service>(n, std::move(p), std::move(rules));
  svc->sidecar_ = std::make_unique<hotkey_sidecar>(*svc, std::move(ctx), h, http_secret);
  svc->http_secret_ = std::move(http_secret);
  if (auto why = svc->sidecar_->start(cfg); !why.empty()) {
    error = "hotkeys: " + why;
    return nullptr;
  }
  return svc;
}

} // namespace shoal

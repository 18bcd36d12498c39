#include "runtime/hotkey_service.hpp"

#include <map>
#include <stdexcept>

#include <caf/all.hpp>
#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "actors/hotkey/actors/invalidation_follower.hpp"
#include "actors/hotkey/core/rule_parser.hpp"
#include "messages/cluster.hpp"
#include "messages/hotkey.hpp"
#include "runtime/connections.hpp"
#include "runtime/logging.hpp"
#include "runtime/node.hpp"
#include "runtime/placement.hpp"

namespace shoal {

namespace {

using namespace std::chrono;

const char* to_string(hotkey::breaker_state s) {
  switch (s) {
  case hotkey::breaker_state::closed:
    return "closed";
  case hotkey::breaker_state::open:
    return "open";
  default:
    return "half_open";
  }
}

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

struct hotkey_service::metrics {
  explicit metrics(prometheus::Registry& r)
      : hot_keys(prometheus::BuildGauge()
                     .Name("shoal_hotkeys_hot_keys")
                     .Help("Keys hot on this node now.")
                     .Register(r)
                     .Add({})),
        breaker(prometheus::BuildGauge()
                    .Name("shoal_hotkeys_breaker_state")
                    .Help("Loader circuit breaker: 0 closed, 1 open, 2 half-open.")
                    .Register(r)
                    .Add({})),
        hit_ratio(prometheus::BuildGauge()
                      .Name("shoal_hotkeys_cache_hit_ratio")
                      .Help("Hot cache hits / (hits + misses) since start.")
                      .Register(r)
                      .Add({})),
        counters(
            prometheus::BuildCounter()
                .Name("shoal_hotkeys_events_total")
                .Help("Hot-key events by kind: recorded, detections, hot_received, "
                      "cache_hits, cache_misses, loader_calls, loader_failures, "
                      "loads_shared, limiter_rejections, breaker_rejections, fallbacks.")
                .Register(r)),
        push_latency(
            prometheus::BuildHistogram()
                .Name("shoal_hotkeys_push_latency_seconds")
                .Help("From a shard declaring a key hot to this node's cache having it.")
                .Register(r)
                .Add({}, prometheus::Histogram::BucketBoundaries{
                             0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 1})) {}

  void add(const std::string& kind, uint64_t value) {
    auto& last = last_[kind];
    if (value > last)
      counters.Add({{"kind", kind}}).Increment(static_cast<double>(value - last));
    last = value;
  }

  prometheus::Gauge& hot_keys;
  prometheus::Gauge& breaker;
  prometheus::Gauge& hit_ratio;
  prometheus::Family<prometheus::Counter>& counters;
  prometheus::Histogram& push_latency;
  std::map<std::string, uint64_t> last_;
};

hotkey_service::hotkey_service(node& n, std::shared_ptr<hotkey::node_context> p,
                               std::shared_ptr<const hotkey::rule_set> rules)
    : node_(n), p_(std::move(p)), reader_(protection_of(n.cfg().hotkeys), p_) {
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

void hotkey_service::update_metrics() {
  auto& s = *p_->stats;
  auto& m = *metrics_;
  auto now = p_->clock->now_ms();
  m.hot_keys.Set(static_cast<double>(p_->view->list(now).size()));
  m.breaker.Set(static_cast<double>(reader_.breaker()));
  auto hits = s.cache_hits.load(), misses = s.cache_misses.load();
  m.hit_ratio.Set(hits + misses == 0 ? 0.0 : static_cast<double>(hits) / (hits + misses));
  m.add("recorded", p_->recorder->recorded());
  m.add("detections", s.detections.load());
  m.add("hot_received", s.hot_received.load());
  m.add("cache_hits", hits);
  m.add("cache_misses", misses);
  m.add("loader_calls", s.loader_calls.load());
  m.add("loader_failures", s.loader_failures.load());
  m.add("loads_shared", s.loads_shared.load());
  m.add("limiter_rejections", s.limiter_rejections.load());
  m.add("breaker_rejections", s.breaker_rejections.load());
  m.add("fallbacks", s.fallbacks.load());
  for (auto us : s.take_push_latencies())
    m.push_latency.Observe(static_cast<double>(us) / 1e6);
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

nlohmann::json hotkey_service::status() {
  auto& s = *p_->stats;
  auto now = p_->clock->now_ms();
  auto hot = nlohmann::json::array();
  for (auto& k : p_->view->list(now))
    hot.push_back(
        {{"key", k.key},
         {"count", k.count},
         {"manual", k.manual},
         {"ttl_ms", k.until_ms == hotkey::hot_set::forever ? -1 : k.until_ms - now}});
  auto rules = p_->rules->current();
  auto hits = s.cache_hits.load(), misses = s.cache_misses.load();
  auto live = live_peers();
  // rules->json lists the rules in matcher order (rules_json of the same vector).
  auto rule_list = nlohmann::json::parse(rules->json);
  auto& in_force = rules->matcher.rules();
  for (size_t i = 0; i < in_force.size() && i < rule_list.size(); ++i)
    if (auto cs = p_->view->rule_cache_stats(in_force[i]))
      rule_list[i]["cache"]["now"] = {
          {"entries", cs->entries}, {"bytes", cs->bytes}, {"evictions", cs->evictions}};
  auto values = p_->view->value_stats();
  return {{"hot_keys", hot},
          {"cache_entries", values.entries},
          {"cache_bytes", values.bytes},
          {"rules_version", rules->version},
          {"rules", rule_list},
          {"shard_nodes", live.first},
          {"nodes", live.second},
          {"recorded", p_->recorder->recorded()},
          {"detections", s.detections.load()},
          {"hot_received", s.hot_received.load()},
          {"counts_unrouted", s.counts_unrouted.load()},
          {"cache_hits", hits},
          {"cache_misses", misses},
          {"cache_hit_ratio",
           hits + misses == 0 ? 0.0 : double(hits) / double(hits + misses)},
          {"loader_calls", s.loader_calls.load()},
          {"loader_failures", s.loader_failures.load()},
          {"loads_shared", s.loads_shared.load()},
          {"limiter_rejections", s.limiter_rejections.load()},
          {"breaker_rejections", s.breaker_rejections.load()},
          {"fallbacks", s.fallbacks.load()},
          {"breaker", to_string(reader_.breaker())},
          {"invalidations_received", s.invalidations_received.load()},
          {"invalidation_channel", invalidation_state()}};
}

void hotkey_service::add_routes(httplib::Server& server) {
  server.Get("/hotkeys", [this](const httplib::Request&, httplib::Response& res) {
    auto now = p_->clock->now_ms();
    auto out = nlohmann::json::array();
    for (auto& k : p_->view->list(now))
      out.push_back({{"key", k.key}, {"count", k.count}, {"manual", k.manual}});
    res.set_content(nlohmann::json{{"node", p_->node}, {"hot_keys", out}}.dump(),
                    "application/json");
  });
  server.Post("/hotkeys/manual",
              [this](const httplib::Request& req, httplib::Response& res) {
                if (!req.has_param("key")) {
                  res.status = 400;
                  res.set_content("key is required\n", "text/plain");
                  return;
                }
                auto key = req.get_param_value("key");
                if (req.get_param_value("hot") == "0") {
                  remove_hot(key);
                } else {
                  int64_t duration = 0;
                  if (req.has_param("duration_ms"))
                    duration = std::stoll(req.get_param_value("duration_ms"));
                  add_hot(key, duration);
                }
                res.set_content("ok\n", "text/plain");
              });
  server.Post("/hotkeys/invalidate",
              [this](const httplib::Request& req, httplib::Response& res) {
                invalidate(req.get_param_value("key"));
                res.set_content("ok\n", "text/plain");
              });
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

std::vector<hotkey::hot_key_info> hotkey_service::hot_keys() const {
  return p_->view->list(p_->clock->now_ms());
}

bool hotkey_service::is_hot(std::string_view key) const {
  return p_->view->is_hot(key, p_->clock->now_ms());
}

void hotkey_service::add_hot(const std::string& key, int64_t duration_ms) {
  caf::anon_send(recorder_, msg::manual_hot{key, true, duration_ms});
}

void hotkey_service::remove_hot(const std::string& key) {
  caf::anon_send(recorder_, msg::manual_hot{key, false, 0});
}

hotkey::cache_read hotkey_service::get(const std::string& key,
                                       const hotkey::cache_reader::loader& load) {
  return reader_.get(key, load);
}

void hotkey_service::invalidate(const std::string& key) {
  p_->view->erase_value(key);
  if (tracker_)
    caf::anon_send(tracker_, msg::invalidate_keys{{key}});
}

void hotkey_service::flush() {
  caf::scoped_actor self{node_.system()};
  self->request(recorder_, seconds{10}, atoms::hk_flush::value)
      .receive([](bool) {}, [](caf::error&) {});
}

void hotkey_service::on_detection(detection_listener listener) {
  std::lock_guard<std::mutex> guard{listener_lock_};
  listener_ = std::move(listener);
}

std::vector<hotkey::hot_key_info> hotkeys_client::hot_keys() const {
  return svc_ ? svc_->hot_keys() : std::vector<hotkey::hot_key_info>{};
}

void hotkeys_client::add(const std::string& key, int64_t duration_ms) const {
  if (!svc_)
    throw std::logic_error("this node runs no hot-key service");
  svc_->add_hot(key, duration_ms);
}

void hotkeys_client::remove(const std::string& key) const {
  if (!svc_)
    throw std::logic_error("this node runs no hot-key service");
  svc_->remove_hot(key);
}

hotkey::cache_read cache_client::get(const std::string& key,
                                     const hotkey::cache_reader::loader& load) const {
  if (!svc_)
    throw std::logic_error("this node runs no hot-key service");
  return svc_->get(key, load);
}

void cache_client::invalidate(const std::string& key) const {
  if (!svc_)
    throw std::logic_error("this node runs no hot-key service");
  svc_->invalidate(key);
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
  return std::make_unique<hotkey_service>(n, std::move(p), std::move(rules));
}

} // namespace shoal

// The counter shard actor: counts the keys it owns over each rule's window and
// pushes the hot ones to every node.

#include <map>
#include <set>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/hotkey/actors/node_context.hpp"
#include "actors/hotkey/core/hot_set.hpp"
#include "messages/hotkey.hpp"

namespace shoal::hotkey {

namespace {

struct shard_state {
  std::shared_ptr<node_context> p;
  /// Every live node's cache actor (this node's included), by node, from the
  /// peer tracker.
  std::map<std::string, hotkey_cache_actor> caches;
  /// The live shard nodes, for ownership (node_context::owner).
  std::vector<std::string> shard_nodes;
  /// Keys an operator made hot (a subset of `hot`).
  std::set<std::string> manual;
  /// One counter per window length in use by a rule.
  std::map<int64_t, std::unique_ptr<key_counter>> counters;
  /// Keys this shard declared hot (or an operator added), with expiry.
  hot_set hot;
  /// Expiry last pushed to the caches per hot key; a key is pushed again once its
  /// expiry moved by a quarter of its duration.
  std::unordered_map<std::string, int64_t> pushed_until;
  /// Operators' keys removed lately, with when (clock ms). A cache's answer to a
  /// recovery request (recover_manual) may have left it before the removal
  /// reached it; such a key is not taken back. Kept for recovery_memory_ms.
  std::map<std::string, int64_t> removed_at;
  static inline const char* name = "shoal.hotkey.shard";
};

using shard_self = counter_shard_actor::stateful_pointer<shard_state>;

key_counter& counter_for(shard_state& st, int64_t window_ms) {
  auto& c = st.counters[window_ms];
  if (!c) {
    auto cfg = st.p->counter;
    cfg.window.window_ms = window_ms;
    c = std::make_unique<key_counter>(cfg);
  }
  return *c;
}

void push(shard_self self, msg::hot_keys batch) {
  if (batch.keys.empty())
    return;
  for (auto& [_, cache] : self->state.caches)
    self->send(cache, batch);
}

void push_cooled(shard_self self, std::vector<std::string> keys) {
  if (keys.empty())
    return;
  msg::cooled_keys batch{self->state.p->node, std::move(keys)};
  for (auto& [_, cache] : self->state.caches)
    self->send(cache, batch);
}

uint64_t count(shard_self self, msg::key_counts& in) {
  auto& st = self->state;
  auto& p = *st.p;
  auto now = p.clock->now_ms();
  auto rules = p.rules->current();
  msg::hot_keys batch{p.node, {}};
  uint64_t detected = 0;
  auto n = std::min(in.keys.size(), in.counts.size());
  for (size_t i = 0; i < n; ++i) {
    auto& key = in.keys[i];
    auto* rule = rules->matcher.match(key);
    if (!rule)
      continue;
    auto seen =
        counter_for(st, rule->window_ms).record(key, in.counts[i], now, rule->threshold);
    if (!seen.hot)
      continue;
    auto was_until = st.hot.hot_until(key, now);
    if (was_until && *was_until == hot_set::forever)
      continue;
    auto added = st.hot.mark_hot(key, now, rule->duration_ms);
    auto until = *st.hot.hot_until(key, now);
    auto& pushed = st.pushed_until[key];
    if (!added && until - pushed < rule->duration_ms / 4)
      continue;
    pushed = until;
    batch.keys.push_back(
        msg::hot_entry{key, seen.count, until - now, hotkey_clock::wall_us(), false});
    if (added) {
      ++detected;
      p.stats->detections.fetch_add(1, std::memory_order_relaxed);
      if (p.on_detect)
        p.on_detect(key, seen.count, now);
    }
  }
  push(self, std::move(batch));
  return detected;
}

/// Every key this shard holds hot, as a push: for a cache that just appeared (a
/// node started or came back), which would otherwise miss keys until their next
/// extension, and operators' keys for ever.
msg::hot_keys everything(shard_self self) {
  auto& st = self->state;
  auto now = st.p->clock->now_ms();
  msg::hot_keys out{st.p->node, {}};
  for (auto& [key, until] : st.hot.snapshot()) {
    if (until <= now)
      continue;
    bool manual = st.manual.count(key) > 0;
    auto ttl = until == hot_set::forever ? 0 : std::max<int64_t>(1, until - now);
    out.keys.push_back(msg::hot_entry{key, 0, ttl, hotkey_clock::wall_us(), manual});
  }
  return out;
}

/// How long a removed operator's key is not taken back from a cache's answer:
/// longer than a recovery request may take (it times out after 5 s).
constexpr int64_t recovery_memory_ms = 15000;

/// Takes back the operators' keys this shard owns but does not hold, from what a
/// cache holds: after a restart of this node, or when the shard of a dead node
/// handed its keys to this one. Not the keys an operator removed meanwhile.
void recover_manual(shard_self self, msg::hot_keys& held) {
  auto& st = self->state;
  auto now = st.p->clock->now_ms();
  msg::hot_keys batch{st.p->node, {}};
  for (auto& e : held.keys) {
    if (!e.manual || st.hot.is_hot(e.key, now) || st.removed_at.count(e.key))
      continue;
    if (st.p->owner(e.key, st.shard_nodes) != std::optional<std::string>{st.p->node})
      continue;
    auto until = e.ttl_ms > 0 ? now + e.ttl_ms : hot_set::forever;
    st.hot.add_manual(e.key, until);
    st.manual.insert(e.key);
    st.pushed_until[e.key] = until;
    batch.keys.push_back(e);
  }
  push(self, std::move(batch));
}

void peers_changed(shard_self self, msg::hotkey_peers& live) {
  auto& st = self->state;
  std::map<std::string, hotkey_cache_actor> caches;
  for (auto& [node, c] : live.caches)
    if (c)
      caches.emplace(node, caf::actor_cast<hotkey_cache_actor>(c));
  std::vector<std::string> shard_nodes;
  for (auto& [node, s] : live.shards)
    if (s)
      shard_nodes.push_back(node);
  std::vector<hotkey_cache_actor> fresh;
  for (auto& [node, c] : caches) {
    auto old = st.caches.find(node);
    if (old == st.caches.end() || old->second != c)
      fresh.push_back(c);
  }
  bool owners_changed = shard_nodes != st.shard_nodes;
  st.caches = std::move(caches);
  st.shard_nodes = std::move(shard_nodes);
  if (!fresh.empty()) {
    auto all = everything(self);
    if (!all.keys.empty())
      for (auto& c : fresh)
        self->send(c, all);
  }
  if (!owners_changed && fresh.empty())
    return;
  for (auto& [_, c] : st.caches)
    self->request(c, std::chrono::seconds{5}, atoms::hk_manual::value)
        .then([self](msg::hot_keys& held) { recover_manual(self, held); },
              [](caf::error&) {});
}

counter_shard_actor::behavior_type counter_shard(shard_self self,
                                                 std::shared_ptr<node_context> p) {
  self->state.p = std::move(p);
  auto tick = std::chrono::milliseconds{self->state.p->expire_ms};
  self->delayed_send(self, tick, atoms::hk_tick::value);
  return {
      [self](msg::key_counts& in) { count(self, in); },
      [self](atoms::hk_flush, msg::key_counts& in) { return count(self, in); },
      [self](msg::hotkey_peers& live) { peers_changed(self, live); },
      [self](msg::manual_hot& m) {
        auto& st = self->state;
        auto now = st.p->clock->now_ms();
        if (!m.hot) {
          // Pushed even when this shard does not hold the key: the caches may
          // still have it from an owner that died or restarted.
          st.pushed_until.erase(m.key);
          st.manual.erase(m.key);
          st.hot.remove(m.key);
          st.removed_at[m.key] = now;
          push_cooled(self, {m.key});
          return;
        }
        st.removed_at.erase(m.key);
        auto until = m.duration_ms > 0 ? now + m.duration_ms : hot_set::forever;
        st.hot.add_manual(m.key, until);
        st.manual.insert(m.key);
        st.pushed_until[m.key] = until;
        push(self, msg::hot_keys{
                       st.p->node,
                       {msg::hot_entry{m.key, 0, m.duration_ms > 0 ? m.duration_ms : 0,
                                       hotkey_clock::wall_us(), true}}});
      },
      [self, tick](atoms::hk_tick) {
        auto& st = self->state;
        auto now = st.p->clock->now_ms();
        auto gone = st.hot.expire(now);
        for (auto& k : gone) {
          st.pushed_until.erase(k);
          st.manual.erase(k);
        }
        for (auto i = st.removed_at.begin(); i != st.removed_at.end();)
          i = now - i->second > recovery_memory_ms ? st.removed_at.erase(i)
                                                   : std::next(i);
        push_cooled(self, std::move(gone));
        self->delayed_send(self, tick, atoms::hk_tick::value);
      },
  };
}

} // namespace

counter_shard_actor spawn_counter_shard(caf::actor_system& sys,
                                        std::shared_ptr<node_context> p) {
  return sys.spawn(counter_shard, std::move(p));
}

} // namespace shoal::hotkey

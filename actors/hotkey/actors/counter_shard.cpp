// The counter shard actor: counts the keys it owns over each rule's window and
// pushes the hot ones to every node.

#include <map>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/hotkey/actors/node_context.hpp"
#include "actors/hotkey/core/hot_set.hpp"
#include "messages/hotkey.hpp"

namespace shoal::hotkey {

namespace {

/// An operator's removal of a key, as a shard applied it.
struct removal {
  /// When the operator acted (msg::manual_hot::at_us).
  int64_t at_us = 0;
  /// When the shard applied it (clock ms).
  int64_t applied_ms = 0;
};

struct shard_state {
  std::shared_ptr<node_context> p;
  /// Every live node's cache actor (this node's included), by node, from the
  /// peer tracker.
  std::map<std::string, hotkey_cache_actor> caches;
  /// The live shards (this node's included), by node, from the peer tracker.
  std::map<std::string, counter_shard_actor> shards;
  /// Their nodes, sorted, for ownership (node_context::owner).
  std::vector<std::string> shard_nodes;
  /// Keys an operator made hot that this shard holds (a subset of `hot`), with when
  /// the operator acted (msg::manual_hot::at_us; 0 when taken back from a cache).
  std::map<std::string, int64_t> manual;
  /// One counter per window length in use by a rule.
  std::map<int64_t, std::unique_ptr<key_counter>> counters;
  /// Keys this shard declared hot (or an operator added), with expiry.
  hot_set hot;
  /// Expiry last pushed to the caches per hot key; a key is pushed again once its
  /// expiry moved by a quarter of its duration.
  std::unordered_map<std::string, int64_t> pushed_until;
  /// Operators' removals applied lately, by key. A cache's answer to a recovery
  /// request (recover_manual) may have left it before the removal reached it;
  /// such a key is not taken back. Kept for removal_memory_ms.
  std::map<std::string, removal> removed;
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

/// Takes back the operators' keys this shard owns but does not hold, from what a
/// cache holds: after a restart of this node, or when the shard of a dead node
/// handed its keys to this one. Not the keys an operator removed meanwhile.
void recover_manual(shard_self self, msg::hot_keys& held) {
  auto& st = self->state;
  auto now = st.p->clock->now_ms();
  msg::hot_keys batch{st.p->node, {}};
  for (auto& e : held.keys) {
    if (!e.manual || st.hot.is_hot(e.key, now) || st.removed.count(e.key))
      continue;
    if (st.p->owner(e.key, st.shard_nodes) != std::optional<std::string>{st.p->node})
      continue;
    auto until = e.ttl_ms > 0 ? now + e.ttl_ms : hot_set::forever;
    st.hot.add_manual(e.key, until);
    st.manual[e.key] = 0;
    st.pushed_until[e.key] = until;
    batch.keys.push_back(e);
  }
  push(self, std::move(batch));
}

/// Hands the operators' keys this shard holds but no longer owns (it owned them
/// while their owner was down, or took them back before it knew every shard) to
/// their owner, as the operator's add with the expiry left, and drops them without
/// cooling them. Kept here, such a key would go on reaching new caches (everything)
/// as it was, whatever the operator told its owner since; the owner keeps the later
/// of what it holds and what it is handed.
void hand_off_manual(shard_self self) {
  auto& st = self->state;
  auto now = st.p->clock->now_ms();
  for (auto i = st.manual.begin(); i != st.manual.end();) {
    auto& [key, at_us] = *i;
    auto owner = st.p->owner(key, st.shard_nodes);
    if (!owner || *owner == st.p->node) {
      ++i;
      continue;
    }
    if (auto until = st.hot.hot_until(key, now)) {
      auto left = *until == hot_set::forever ? 0 : std::max<int64_t>(1, *until - now);
      if (auto shard = st.shards.find(*owner); shard != st.shards.end())
        self->send(shard->second, msg::manual_hot{key, true, left, at_us});
    }
    st.hot.remove(key);
    st.pushed_until.erase(key);
    i = st.manual.erase(i);
  }
}

void peers_changed(shard_self self, msg::hotkey_peers& live) {
  auto& st = self->state;
  std::map<std::string, hotkey_cache_actor> caches;
  for (auto& [node, c] : live.caches)
    if (c)
      caches.emplace(node, caf::actor_cast<hotkey_cache_actor>(c));
  std::map<std::string, counter_shard_actor> shards;
  std::vector<std::string> shard_nodes;
  for (auto& [node, s] : live.shards)
    if (s) {
      shards.emplace(node, caf::actor_cast<counter_shard_actor>(s));
      shard_nodes.push_back(node);
    }
  std::vector<hotkey_cache_actor> fresh;
  for (auto& [node, c] : caches) {
    auto old = st.caches.find(node);
    if (old == st.caches.end() || old->second != c)
      fresh.push_back(c);
  }
  bool owners_changed = shard_nodes != st.shard_nodes;
  st.caches = std::move(caches);
  st.shards = std::move(shards);
  st.shard_nodes = std::move(shard_nodes);
  if (owners_changed)
    hand_off_manual(self);
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

/// An operator makes a key this shard owns hot, unless a later removal reached the
/// shard first.
void add_manual(shard_self self, const msg::manual_hot& m) {
  auto& st = self->state;
  auto now = st.p->clock->now_ms();
  auto removed = st.removed.find(m.key);
  if (removed != st.removed.end() && removed->second.at_us > m.at_us)
    return;
  auto held = st.manual.find(m.key);
  if (held != st.manual.end() && held->second > m.at_us)
    return;
  if (removed != st.removed.end())
    st.removed.erase(removed);
  auto until = m.duration_ms > 0 ? now + m.duration_ms : hot_set::forever;
  st.hot.add_manual(m.key, until);
  st.manual[m.key] = m.at_us;
  st.pushed_until[m.key] = until;
  push(self,
       msg::hot_keys{st.p->node,
                     {msg::hot_entry{m.key, 0, m.duration_ms > 0 ? m.duration_ms : 0,
                                     hotkey_clock::wall_us(), true}}});
}

/// An operator removes a key, unless a later add reached this shard first. Every
/// shard gets removals: it drops the key if it holds it, remembers the removal, and
/// cools the key on every cache it knows even when it does not hold it (a cache may
/// still have it from a shard that died or restarted, or from one that took it back
/// before the removal reached it).
void remove_manual(shard_self self, const msg::manual_hot& m) {
  auto& st = self->state;
  auto held = st.manual.find(m.key);
  if (held != st.manual.end()) {
    if (held->second > m.at_us)
      return;
    st.manual.erase(held);
  }
  auto& r = st.removed[m.key];
  r.at_us = std::max(r.at_us, m.at_us);
  r.applied_ms = st.p->clock->now_ms();
  st.pushed_until.erase(m.key);
  st.hot.remove(m.key);
  push_cooled(self, {m.key});
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
        if (m.hot)
          add_manual(self, m);
        else
          remove_manual(self, m);
      },
      [self, tick](atoms::hk_tick) {
        auto& st = self->state;
        auto now = st.p->clock->now_ms();
        auto gone = st.hot.expire(now);
        for (auto& k : gone) {
          st.pushed_until.erase(k);
          st.manual.erase(k);
        }
        for (auto i = st.removed.begin(); i != st.removed.end();)
          i = now - i->second.applied_ms > removal_memory_ms ? st.removed.erase(i)
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

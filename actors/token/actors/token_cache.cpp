#include "actors/token/actors/token_cache.hpp"

#include <vector>

#include <caf/all.hpp>

#include "actors/cluster/peer_finder.hpp"
#include "actors/token/actors/token_store.hpp"
#include "actors/token/core/token_board.hpp"
#include "actors/token/core/token_observer.hpp"
#include "messages/cluster.hpp"
#include "messages/token.hpp"

namespace shoal::token {

namespace {

using namespace std::chrono;
using steady = steady_clock;

constexpr milliseconds peer_timeout{3000};
constexpr milliseconds nudge_interval{250};

struct waiter {
  caf::response_promise promise;
  steady::time_point deadline;
};

struct cache_state {
  cache_settings cfg;
  /// Finds the token cache of every peer (actors/cluster/peer_finder.hpp).
  peer_finder_actor finder;
  std::shared_ptr<token_board> board;
  std::shared_ptr<token_observer> observer;
  /// Caches of peers, by node, as the finder reports them.
  std::map<std::string, token_cache_actor> peer_caches;
  /// This node's keeper of each provider (absent when this node keeps none).
  std::map<std::string, token_keeper_actor> keepers;
  /// Callers waiting for a token, by provider.
  std::map<std::string, std::vector<waiter>> waiters;
  bool nudge_armed = false;
  static inline const char* name = "shoal.token_cache";
};

using cache_self = token_cache_actor::stateful_pointer<cache_state>;

msg::token_update to_update(const token_snapshot& s) {
  return {s.provider,
          s.token,
          to_epoch_ms(s.obtained_at),
          to_epoch_ms(s.expires_at),
          s.version,
          s.keeper_node,
          {}};
}

void adopt(cache_self self, const msg::token_update& u) {
  auto& s = self->state;
  if (u.version == 0)
    return;
  token_snapshot snap;
  snap.provider = u.provider;
  snap.token = u.token;
  snap.obtained_at = from_epoch_ms(u.obtained_at_ms);
  snap.expires_at = from_epoch_ms(u.expires_at_ms);
  snap.version = u.version;
  snap.keeper_node = u.keeper_node;
  auto p = s.cfg.policies.find(u.provider);
  refresh_policy policy{p == s.cfg.policies.end() ? refresh_policy_config{} : p->second,
                        1};
  auto windows = policy.windows_for(snap.obtained_at, snap.expires_at);
  snap.stale_after = windows.mandatory_start;
  snap.usable_until = windows.handout_end;
  auto usable_until = snap.usable_until;
  if (!s.board->publish(std::move(snap)))
    return;
  s.observer->adopted(u.provider, u.version, u.expires_at_ms, u.keeper_node);
  auto w = s.waiters.find(u.provider);
  if (w == s.waiters.end() || w->second.empty())
    return;
  if (clock::now() >= usable_until)
    return;
  s.observer->coalesced(u.provider, static_cast<int64_t>(w->second.size()));
  for (auto& x : w->second)
    x.promise.deliver(u);
  w->second.clear();
}

/// Tells every keeper in the cluster that this node has callers without a token.
void want(cache_self self, const std::string& provider) {
  auto& s = self->state;
  msg::token_wanted m{provider, s.cfg.node};
  if (auto k = s.keepers.find(provider); k != s.keepers.end())
    self->send(k->second, m);
  for (auto& [_, c] : s.peer_caches)
    self->send(c, m);
}

/// Why callers of `provider` still wait, for the error of one whose time ran out.
std::string why_waiting(cache_self self, const std::string& provider) {
  auto& board = *self->state.board;
  auto slot = board.slot_of(provider);
  auto* snap = slot < 0 ? nullptr : board.current(slot);
  auto now = clock::now();
  if (!snap)
    return "no token of " + provider + " yet";
  auto left = duration_cast<milliseconds>(snap->expires_at - now).count();
  if (left <= 0)
    return "the token of " + provider + " (version " + std::to_string(snap->version) +
           ") expired " + std::to_string(-left) + " ms ago and no new one arrived";
  return "the token of " + provider + " (version " + std::to_string(snap->version) +
         ") expires in " + std::to_string(left) +
         " ms, inside its hand-out margin (refresh.handout_margin_ms), and no new "
         "one arrived";
}

void arm_nudge(cache_self self) {
  if (self->state.nudge_armed)
    return;
  self->state.nudge_armed = true;
  self->delayed_send(self, nudge_interval, atoms::token_nudge::value);
}

/// A peer's cache was found (at start, or after the peer came back): catch up on
/// what it holds, and tell it what this node's callers are waiting for.
void found(cache_self self, msg::peer_found& f) {
  auto& s = self->state;
  auto peer = caf::actor_cast<token_cache_actor>(f.actor);
  s.peer_caches[f.node] = peer;
  s.observer->note("*", false, "token cache of " + f.node + " found");
  self->request(peer, peer_timeout, atoms::token_sync::value)
      .then(
          [self](std::vector<msg::token_update>& all) {
            for (auto& u : all)
              adopt(self, u);
          },
          [](caf::error&) {});
  for (auto& [provider, w] : s.waiters)
    if (!w.empty())
      self->send(peer, msg::token_wanted{provider, s.cfg.node});
}

token_cache_actor::behavior_type token_cache(cache_self self, cache_settings cfg,
                                             directory_actor directory,
                                             std::shared_ptr<token_board> board,
                                             std::shared_ptr<token_observer> observer) {
  auto& s = self->state;
  s.cfg = std::move(cfg);
  s.board = std::move(board);
  s.observer = std::move(observer);
  s.finder = spawn_peer_finder(self->system(), std::move(directory), token_cache_name, {},
                               caf::actor_cast<peer_listener>(self));
  return {
      [self](msg::peer_found& f) { found(self, f); },
      [self](msg::peer_lost& l) { self->state.peer_caches.erase(l.node); },
      [self](atoms::token_keeper, const std::string& provider,
             token_keeper_actor& keeper) {
        self->state.keepers[provider] = std::move(keeper);
      },
      [self](atoms::token_push, const msg::token_update& u) {
        adopt(self, u);
        for (auto& [_, c] : self->state.peer_caches)
          self->send(c, u);
      },
      [self](const msg::token_update& u) { adopt(self, u); },
      [self](atoms::token_sync) {
        std::vector<msg::token_update> all;
        auto& board = *self->state.board;
        auto names = board.providers();
        for (size_t i = 0; i < names.size(); ++i)
          if (auto* snap = board.current(static_cast<int>(i)))
            all.push_back(to_update(*snap));
        return all;
      },
      [self](atoms::token_get, const std::string& provider,
             int64_t timeout_ms) -> caf::result<msg::token_update> {
        auto& s = self->state;
        auto slot = s.board->slot_of(provider);
        if (slot < 0)
          return caf::make_error(caf::sec::invalid_argument,
                                 "unknown token provider " + provider);
        if (auto* snap = s.board->current(slot);
            snap && clock::now() < snap->usable_until)
          return to_update(*snap);
        s.waiters[provider].push_back(waiter{self->make_response_promise(),
                                             steady::now() + milliseconds{timeout_ms}});
        want(self, provider);
        arm_nudge(self);
        return caf::delegated<msg::token_update>{};
      },
      [self](msg::token_wanted& m) {
        auto& s = self->state;
        if (m.node == s.cfg.node)
          want(self, m.provider);
        else if (auto k = s.keepers.find(m.provider); k != s.keepers.end())
          self->send(k->second, m);
      },
      [self](msg::token_rejected& r) {
        auto& s = self->state;
        if (r.node == s.cfg.node) {
          auto slot = s.board->slot_of(r.provider);
          auto* snap = slot < 0 ? nullptr : s.board->current(slot);
          if (!snap || snap->token != r.token)
            return;
          for (auto& [_, c] : s.peer_caches)
            self->send(c, r);
        }
        if (auto k = s.keepers.find(r.provider); k != s.keepers.end())
          self->send(k->second, r);
      },
      [self](atoms::token_nudge) {
        auto& s = self->state;
        s.nudge_armed = false;
        auto now = steady::now();
        bool any = false;
        for (auto& [provider, list] : s.waiters) {
          for (auto i = list.begin(); i != list.end();) {
            if (now >= i->deadline) {
              i->promise.deliver(caf::make_error(caf::sec::request_timeout,
                                                 why_waiting(self, provider)));
              i = list.erase(i);
            } else {
              ++i;
            }
          }
          if (!list.empty()) {
            any = true;
            want(self, provider);
          }
        }
        if (any)
          arm_nudge(self);
      },
  };
}

} // namespace

token_cache_actor spawn_token_cache(caf::actor_system& sys, cache_settings settings,
                                    directory_actor directory,
                                    std::shared_ptr<token_board> board,
                                    std::shared_ptr<token_observer> observer) {
  return sys.spawn(token_cache, std::move(settings), std::move(directory),
                   std::move(board), std::move(observer));
}

} // namespace shoal::token

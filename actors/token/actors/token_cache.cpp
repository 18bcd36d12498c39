#include "actors/token/actors/token_cache.hpp"

#include <set>
#include <vector>

#include <caf/all.hpp>

#include "actors/token/core/token_board.hpp"
#include "actors/token/core/token_observer.hpp"
#include "actors/token/actors/token_store.hpp"
#include "messages/cluster.hpp"
#include "messages/token.hpp"

namespace shoal::token {

namespace {

using namespace std::chrono;
using steady = steady_clock;

using retry_atom = caf::atom_constant<caf::atom("tc_retry")>;
using nudge_atom = caf::atom_constant<caf::atom("tc_nudge")>;

constexpr milliseconds peer_timeout{3000};
constexpr milliseconds nudge_interval{250};

struct waiter {
  caf::response_promise promise;
  steady::time_point deadline;
};

struct cache_state {
  cache_settings cfg;
  caf::actor directory;
  caf::actor connector;
  std::shared_ptr<token_board> board;
  std::shared_ptr<token_observer> observer;
  /// Peers the directory reports up.
  std::set<std::string> up;
  /// Caches of peers, by node.
  std::map<std::string, caf::actor> peer_caches;
  /// Peers whose cache is being looked up.
  std::set<std::string> connecting;
  /// This node's keeper of each provider (absent when this node keeps none).
  std::map<std::string, caf::actor> keepers;
  /// Callers waiting for a token, by provider.
  std::map<std::string, std::vector<waiter>> waiters;
  bool nudge_armed = false;
  static inline const char* name = "shoal.token_cache";
};

using cache_actor = caf::stateful_actor<cache_state>;

msg::token_update to_update(const token_snapshot& s) {
  return {s.provider,
          s.token,
          to_epoch_ms(s.obtained_at),
          to_epoch_ms(s.expires_at),
          s.version,
          s.keeper_node,
          {}};
}

void adopt(cache_actor* self, const msg::token_update& u) {
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
  snap.stale_after =
      policy.windows_for(snap.obtained_at, snap.expires_at).mandatory_start;
  if (!s.board->publish(std::move(snap)))
    return;
  s.observer->adopted(u.provider, u.version, u.expires_at_ms, u.keeper_node);
  auto w = s.waiters.find(u.provider);
  if (w == s.waiters.end() || w->second.empty())
    return;
  if (clock::now() >= from_epoch_ms(u.expires_at_ms))
    return;
  s.observer->coalesced(u.provider, static_cast<int64_t>(w->second.size()));
  for (auto& x : w->second)
    x.promise.deliver(u);
  w->second.clear();
}

/// Tells every keeper in the cluster that this node has callers without a token.
void want(cache_actor* self, const std::string& provider) {
  auto& s = self->state;
  msg::token_wanted m{provider, s.cfg.node};
  if (auto k = s.keepers.find(provider); k != s.keepers.end())
    self->send(k->second, m);
  for (auto& [_, c] : s.peer_caches)
    self->send(c, m);
}

void arm_nudge(cache_actor* self) {
  if (self->state.nudge_armed)
    return;
  self->state.nudge_armed = true;
  self->delayed_send(self, nudge_interval, nudge_atom::value);
}

void connect_peer(cache_actor* self, const std::string& name) {
  auto& s = self->state;
  auto addr = s.cfg.peers.find(name);
  if (addr == s.cfg.peers.end() || s.connecting.count(name) || !s.up.count(name))
    return;
  s.connecting.insert(name);
  auto retry = [self, name](const caf::error& err) {
    self->state.observer->note(
        "*", false, "token cache of " + name + " not found yet: " + to_string(err));
    self->state.connecting.erase(name);
    self->delayed_send(self, milliseconds{300}, retry_atom::value, name);
  };
  self->request(s.connector, peer_timeout, caf::connect_atom::value, addr->second.first,
                addr->second.second)
      .then(
          [self, name, retry](const caf::node_id&, caf::strong_actor_ptr& ptr,
                              const std::set<std::string>&) {
            if (!ptr) {
              retry(caf::make_error(caf::sec::no_actor_published_at_port));
              return;
            }
            auto dir = caf::actor_cast<caf::actor>(ptr);
            self->request(dir, peer_timeout, msg::lookup{token_cache_name})
                .then(
                    [self, name, retry](caf::actor& peer) {
                      auto& s = self->state;
                      s.connecting.erase(name);
                      s.peer_caches[name] = peer;
                      s.observer->note("*", false, "token cache of " + name + " found");
                      self->monitor(peer);
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
                    },
                    retry);
          },
          retry);
}

caf::behavior token_cache(cache_actor* self, cache_settings cfg, caf::actor directory,
                          caf::actor connector, std::shared_ptr<token_board> board,
                          std::shared_ptr<token_observer> observer) {
  auto& s = self->state;
  s.cfg = std::move(cfg);
  s.directory = std::move(directory);
  s.connector = std::move(connector);
  s.board = std::move(board);
  s.observer = std::move(observer);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& caches = self->state.peer_caches;
    for (auto i = caches.begin(); i != caches.end();)
      i = i->second.address() == dm.source ? caches.erase(i) : std::next(i);
  });
  self->request(s.directory, peer_timeout, atoms::subscribe::value,
                caf::actor_cast<caf::actor>(self))
      .then(
          [self](msg::membership& m) {
            for (auto& who : m.members)
              if (who.node != m.self && who.up) {
                self->state.up.insert(who.node);
                connect_peer(self, who.node);
              }
          },
          [](caf::error&) {});
  return {
      [self](msg::member_changed& c) {
        auto& s = self->state;
        if (c.who.up) {
          s.up.insert(c.who.node);
          s.peer_caches.erase(c.who.node);
          connect_peer(self, c.who.node);
        } else {
          s.up.erase(c.who.node);
          s.peer_caches.erase(c.who.node);
        }
      },
      [self](retry_atom, const std::string& name) {
        if (!self->state.peer_caches.count(name))
          connect_peer(self, name);
      },
      [self](atoms::token_keeper, const std::string& provider, caf::actor& keeper) {
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
        if (auto* snap = s.board->current(slot); snap && clock::now() < snap->expires_at)
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
      [self](nudge_atom) {
        auto& s = self->state;
        s.nudge_armed = false;
        auto now = steady::now();
        bool any = false;
        for (auto& [provider, list] : s.waiters) {
          for (auto i = list.begin(); i != list.end();) {
            if (now >= i->deadline) {
              i->promise.deliver(
                  caf::make_error(caf::sec::request_timeout,
                                  "no valid token of " + provider + " in time"));
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

caf::actor spawn_token_cache(caf::actor_system& sys, cache_settings settings,
                             caf::actor directory, caf::actor connector,
                             std::shared_ptr<token_board> board,
                             std::shared_ptr<token_observer> observer) {
  return sys.spawn(token_cache, std::move(settings), std::move(directory),
                   std::move(connector), std::move(board), std::move(observer));
}

} // namespace shoal::token

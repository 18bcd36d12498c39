#include "actors/token/actors/token_keeper.hpp"

#include <optional>
#include <random>

#include <caf/all.hpp>

#include "actors/token/actors/token_mirror.hpp"
#include "actors/token/actors/token_store.hpp"
#include "actors/token/core/daily_quota.hpp"
#include "actors/token/core/fetch_input.hpp"
#include "actors/token/core/provider.hpp"
#include "actors/token/core/token_board.hpp"
#include "actors/token/core/token_observer.hpp"
#include "actors/token/core/token_state.hpp"
#include "messages/token.hpp"
#include "runtime/adapters/http_client.hpp"

namespace shoal::token {

namespace {

using namespace std::chrono;
using steady = steady_clock;

caf::error store_failure(const redis_error& e) {
  return caf::make_error(caf::sec::runtime_error, e.to_string());
}

token_record from_update(const msg::token_update& u) {
  return {u.token, from_epoch_ms(u.obtained_at_ms), from_epoch_ms(u.expires_at_ms),
          u.version};
}

/// What the store or the mirror holds for `provider`, as an update (version 0: none).
msg::token_update stored_update(const std::string& provider,
                                const std::optional<token_record>& stored) {
  msg::token_update u;
  u.provider = provider;
  if (stored) {
    u.token = stored->token;
    u.obtained_at_ms = to_epoch_ms(stored->obtained_at);
    u.expires_at_ms = to_epoch_ms(stored->expires_at);
    u.version = stored->version;
  }
  return u;
}

// -- upstream fetcher (detached: blocking HTTP) --------------------------------

struct fetcher_state {
  std::unique_ptr<provider> upstream;
  std::unique_ptr<http_client> http;
  static inline const char* name = "shoal.token_fetcher";
};

token_fetcher_actor::behavior_type
upstream_fetcher(token_fetcher_actor::stateful_pointer<fetcher_state> self,
                 provider_config cfg) {
  http_client_options options;
  options.connect_timeout = cfg.connect_timeout;
  options.read_timeout = cfg.read_timeout;
  options.write_timeout = cfg.read_timeout;
  self->state.http = std::make_unique<http_client>(cfg.base_url, options);
  self->state.upstream = std::make_unique<provider>(std::move(cfg));
  return {
      [self](atoms::token_fetch, bool force, const std::string& input) {
        auto& st = self->state;
        auto req = st.upstream->build_request(force, input);
        msg::token_fetch_result out;
        out.sent_at_ms = to_epoch_ms(clock::now());
        auto reply = st.http->send(http_request{req.method, req.target, req.headers,
                                                req.body, req.content_type});
        auto parsed = [&]() -> expected<fetched_token, upstream_error> {
          if (auto* err = std::get_if<http_error>(&reply))
            return fail(provider::transport_failure(err->kind == http_error_kind::timeout,
                                                    err->message));
          auto& r = std::get<http_response>(reply);
          return st.upstream->parse_reply(r.status, r.body, force);
        }();
        if (parsed) {
          out.ok = true;
          out.token = parsed.value().access_token;
          out.expires_in_ms = parsed.value().expires_in.count();
        } else {
          out.error_class = static_cast<int32_t>(parsed.error().kind);
          out.code = parsed.error().code;
          out.message = parsed.error().message;
        }
        return out;
      },
  };
}

// -- store worker (detached: blocking Redis) ------------------------------------

struct store_state {
  std::unique_ptr<token_store> store;
  std::string provider;
  static inline const char* name = "shoal.token_store";
};

token_store_actor::behavior_type
store_worker(token_store_actor::stateful_pointer<store_state> self, redis_config redis,
             provider_config provider, std::string owner, milliseconds lease) {
  self->state.provider = provider.name;
  self->state.store =
      std::make_unique<token_store>(std::move(redis), provider.name, std::move(owner),
                                    lease, provider.plain_key, provider.plain_key_margin);
  return {
      [self](atoms::token_store_take) -> caf::result<bool> {
        auto r = self->state.store->acquire_lease();
        if (!r)
          return store_failure(r.error());
        return *r;
      },
      [self](atoms::token_store_renew) -> caf::result<bool> {
        auto r = self->state.store->renew_lease();
        if (!r)
          return store_failure(r.error());
        return *r;
      },
      [self](atoms::token_release) -> caf::result<bool> {
        auto r = self->state.store->release_lease();
        if (!r)
          return store_failure(r.error());
        return *r;
      },
      [self](atoms::token_store_quota, int64_t day,
             int64_t limit) -> caf::result<int64_t> {
        auto r = self->state.store->consume_quota(day, limit);
        if (!r)
          return store_failure(r.error());
        return *r;
      },
      [self](atoms::token_store_exhaust, int64_t day, int64_t limit) {
        // Best effort: keepers elsewhere also learn 45009 from the platform.
        (void)self->state.store->exhaust_quota(day, limit);
      },
      [self](atoms::token_store_read) -> caf::result<msg::token_update> {
        auto r = self->state.store->read();
        if (!r)
          return store_failure(r.error());
        return stored_update(self->state.provider, *r);
      },
      [self](atoms::token_store_vticket) -> caf::result<std::string> {
        auto r = self->state.store->read_verify_ticket();
        if (!r)
          return store_failure(r.error());
        return *r;
      },
      [self](atoms::token_store_cas, const msg::token_update& u,
             uint64_t expected) -> caf::result<int32_t> {
        auto r = self->state.store->write(from_update(u), expected);
        if (!r)
          return store_failure(r.error());
        switch (*r) {
        case cas_outcome::written:
          return int32_t{1};
        case cas_outcome::version_conflict:
          return int32_t{0};
        case cas_outcome::not_owner:
          break;
        }
        return int32_t{-1};
      },
  };
}

// -- mirror worker (detached: blocking MySQL) -----------------------------------

struct mirror_state {
  std::unique_ptr<token_mirror> mirror;
  std::shared_ptr<token_observer> observer;
  std::string provider;
  std::string node;
  std::string owner;
  milliseconds lease{0};
  static inline const char* name = "shoal.token_mirror";
};

token_mirror_actor::behavior_type
mirror_worker(token_mirror_actor::stateful_pointer<mirror_state> self,
              mysql_config server, std::string table, std::string provider,
              std::string node, std::string owner, milliseconds lease,
              std::shared_ptr<token_observer> observer) {
  auto& st = self->state;
  st.mirror = std::make_unique<token_mirror>(std::move(server), std::move(table));
  st.observer = std::move(observer);
  st.provider = std::move(provider);
  st.node = std::move(node);
  st.owner = std::move(owner);
  st.lease = lease;
  return {
      [self](atoms::token_store_take) -> caf::result<bool> {
        auto& st = self->state;
        auto r = st.mirror->take_lease(st.provider, st.owner, st.lease);
        if (!r)
          return caf::make_error(caf::sec::runtime_error, r.error().to_string());
        return *r;
      },
      [self](atoms::token_release) -> caf::result<bool> {
        auto& st = self->state;
        auto r = st.mirror->release_lease(st.provider, st.owner);
        if (!r)
          return caf::make_error(caf::sec::runtime_error, r.error().to_string());
        return *r;
      },
      [self](atoms::token_store_read) -> caf::result<msg::token_update> {
        auto& st = self->state;
        auto r = st.mirror->read(st.provider);
        if (!r)
          return caf::make_error(caf::sec::runtime_error, r.error().to_string());
        return stored_update(st.provider, *r);
      },
      [self](atoms::token_mirror_write, const msg::token_update& u) {
        auto& st = self->state;
        auto r = st.mirror->write(st.provider, from_update(u), st.node);
        if (!r)
          st.observer->note(st.provider, true,
                            "token mirror not written (version " +
                                std::to_string(u.version) +
                                "): " + r.error().to_string());
        return r.has_value();
      },
  };
}

// -- keeper -------------------------------------------------------------------

/// What a keeper last learned of one lease.
struct lease_view {
  /// The last answer said another keeper holds it.
  bool taken = false;
  /// The last request failed: the store could not be reached.
  bool unreachable = false;
  /// A request is in flight (at most one per lease).
  bool pending = false;
  /// When the last request that found the lease ours was sent: the lease holds
  /// until at least this plus the lease time.
  steady::time_point ok;
  bool ever_held = false;
};

struct keeper_state {
  keeper_settings cfg;
  std::unique_ptr<token_state> tokens;
  std::unique_ptr<daily_quota> quota;
  token_store_actor store;
  token_fetcher_actor fetcher;
  /// The MySQL mirror worker; null when no mirror is configured.
  token_mirror_actor mirror;
  /// The mirror has not answered its first read yet: no refresh before it has.
  bool mirror_pending = false;
  token_cache_actor cache;
  std::shared_ptr<token_board> board;
  std::shared_ptr<token_observer> observer;
  /// True while this keeper believes it holds the lease.
  bool leader = false;
  /// Set when the node shuts down: the lease is given up and never taken again.
  bool released = false;
  /// The Redis lease, and the MySQL fallback lease when a mirror is configured.
  lease_view redis_lease;
  lease_view mysql_lease;
  /// The lease the keeper acts on while it leads: "redis" or "mysql".
  std::string acting;
  /// A read-merge-write with the store is in flight.
  bool syncing = false;
  /// This keeper took the lease and has not read the store since: its first
  /// sync decides whether the takeover refreshes at once (token_state::took_over).
  bool just_took_over = false;
  /// The current token is newer than the stored one (the store was unreachable).
  bool dirty = false;
  /// No token fetched since this keeper took the lease: the first one skips a
  /// version. Its predecessor may have served a token that neither store
  /// recorded (both unreachable) before it died; nodes that got it take a
  /// successor's token only under a higher version than that one's.
  bool skip_version = false;
  /// Identifies the armed refresh timer; older timers are ignored.
  uint64_t timer_gen = 0;
  /// jsapi_ticket, component: the input the platform last refused (a base access
  /// token, a verify ticket); not used again. Why the last refresh waited for its
  /// input (noted once per reason).
  std::string refused_input;
  std::string input_wait;
  std::mt19937_64 rng;
  static inline const char* name = "shoal.token_keeper";
};

using keeper_self = token_keeper_actor::stateful_pointer<keeper_state>;

void sync_with_store(keeper_self self);
void maybe_refresh(keeper_self self);

const std::string& provider_name(keeper_self self) {
  return self->state.cfg.provider.name;
}

/// The lease was found ours recently enough to act on. A safety margin: it ends at
/// `ok + lease` on the server at the earliest; stop acting a fifth of it before.
bool held(keeper_self self, const lease_view& l) {
  auto& s = self->state;
  return l.ever_held && !l.taken && steady::now() - l.ok < s.cfg.lease - s.cfg.lease / 5;
}

/// Whether this keeper may refresh: it holds the Redis lease and no other keeper
/// holds the MySQL fallback lease; or Redis cannot be reached and it holds the
/// fallback lease. Without a mirror, the Redis lease alone decides.
bool may_act(keeper_self self) {
  auto& s = self->state;
  if (held(self, s.redis_lease))
    return !s.mysql_lease.taken;
  return s.mirror && s.redis_lease.unreachable && held(self, s.mysql_lease);
}

/// Which lease this keeper acts on, for /status and the log.
const char* acting_lease(keeper_self self) {
  return held(self, self->state.redis_lease) ? "redis" : "mysql";
}

bool lease_fresh(keeper_self self) {
  return self->state.leader && may_act(self);
}

msg::token_update to_update(keeper_self self, const token_record& rec) {
  return {provider_name(self),
          rec.token,
          to_epoch_ms(rec.obtained_at),
          to_epoch_ms(rec.expires_at),
          rec.version,
          self->state.cfg.node,
          caf::actor_cast<caf::actor>(self)};
}

void mirror(keeper_self self) {
  auto& s = self->state;
  if (s.mirror && s.tokens->current())
    caf::anon_send(s.mirror, atoms::token_mirror_write::value,
                   to_update(self, *s.tokens->current()));
}

void push(keeper_self self) {
  auto& cur = self->state.tokens->current();
  if (cur)
    self->send(self->state.cache, atoms::token_push::value, to_update(self, *cur));
}

void arm(keeper_self self) {
  auto& s = self->state;
  auto at = s.tokens->next_refresh_at();
  if (!s.leader || !at)
    return;
  auto gen = ++s.timer_gen;
  // "At once" may be time_point::min(): compare before subtracting, which would
  // overflow.
  auto now = clock::now();
  auto delay = *at <= now ? milliseconds::zero() : duration_cast<milliseconds>(*at - now);
  self->delayed_send(self, delay, atoms::token_refresh_tick::value, gen);
}

void step_down(keeper_self self, const std::string& why) {
  auto& s = self->state;
  if (!s.leader)
    return;
  s.leader = false;
  ++s.timer_gen;
  s.observer->leadership(provider_name(self), false, {});
  s.observer->note(provider_name(self), true,
                   "keeper on " + s.cfg.node + " steps down: " + why);
}

void become_leader(keeper_self self) {
  auto& s = self->state;
  s.leader = true;
  s.just_took_over = true;
  s.skip_version = true;
  auto lease = acting_lease(self);
  s.acting = lease;
  s.observer->leadership(provider_name(self), true, lease);
  s.observer->note(provider_name(self), false,
                   lease == std::string_view{"redis"}
                       ? "keeper on " + s.cfg.node + " holds the lease"
                       : "keeper on " + s.cfg.node +
                             " holds the MySQL fallback lease: Redis cannot be "
                             "reached");
  sync_with_store(self);
}

/// Adopts what this node's board holds if it is newer than the keeper's token.
void adopt_board(keeper_self self) {
  auto& s = self->state;
  auto slot = s.board->slot_of(provider_name(self));
  if (slot < 0)
    return;
  if (auto* snap = s.board->current(slot))
    s.tokens->adopt({snap->token, snap->obtained_at, snap->expires_at, snap->version},
                    clock::now());
}

/// Merges what a store holds with this keeper's token and its node's board, then
/// pushes, arms the refresh and maybe refreshes. `in_redis`: `stored` came from
/// Redis, and a newer token of this keeper's is written back to it; otherwise it
/// came from the mirror while Redis could not be reached, and Redis gets the
/// token once it answers again (dirty).
void merge_stored(keeper_self self, msg::token_update& stored, bool in_redis) {
  auto& s = self->state;
  s.syncing = false;
  if (!s.leader)
    return;
  if (stored.version > 0)
    s.tokens->adopt(from_update(stored), clock::now());
  adopt_board(self);
  if (s.just_took_over) {
    s.just_took_over = false;
    if (s.tokens->took_over(clock::now()))
      s.observer->note(provider_name(self), false,
                       "keeper on " + s.cfg.node +
                           " took over inside the advisory window: refreshing now");
  }
  auto& cur = s.tokens->current();
  if (!in_redis) {
    s.dirty = cur.has_value();
    mirror(self);
  } else if (cur && cur->version > stored.version) {
    // The store lost the token (restarted empty) or missed our last write:
    // put back what the cluster already uses instead of fetching a new one.
    self->request(s.store, s.cfg.lease, atoms::token_store_cas::value,
                  to_update(self, *cur), stored.version)
        .then(
            [self](int32_t outcome) {
              auto& s = self->state;
              s.dirty = outcome != 1;
              if (outcome == 1)
                mirror(self);
              if (outcome == -1)
                step_down(self, "lease lost while writing back");
            },
            [self](caf::error&) { self->state.dirty = true; });
  } else {
    s.dirty = false;
    mirror(self);
  }
  push(self);
  arm(self);
  maybe_refresh(self);
}

void sync_with_store(keeper_self self) {
  auto& s = self->state;
  if (s.syncing)
    return;
  s.syncing = true;
  self->request(s.store, s.cfg.lease, atoms::token_store_read::value)
      .then(
          [self](msg::token_update& stored) {
            auto& s = self->state;
            if (!s.mirror || !s.leader) {
              merge_stored(self, stored, true);
              return;
            }
            // The mirror may hold a newer token than Redis: one a keeper got while
            // Redis was down, which a node's board may not have yet.
            auto timeout = s.cfg.mirror->connect_timeout + s.cfg.mirror->read_timeout;
            self->request(s.mirror, timeout, atoms::token_store_read::value)
                .then(
                    [self, stored](msg::token_update& mirrored) mutable {
                      auto now = clock::now();
                      if (self->state.leader && mirrored.version > stored.version &&
                          from_epoch_ms(mirrored.expires_at_ms) > now)
                        self->state.tokens->adopt(from_update(mirrored), now);
                      merge_stored(self, stored, true);
                    },
                    [self, stored](caf::error&) mutable {
                      merge_stored(self, stored, true);
                    });
          },
          [self](caf::error&) {
            auto& s = self->state;
            if (!s.mirror || !s.leader) {
              s.syncing = false;
              return;
            }
            // Acting on the fallback lease: the mirror holds what Redis would.
            auto timeout = s.cfg.mirror->connect_timeout + s.cfg.mirror->read_timeout;
            self->request(s.mirror, timeout, atoms::token_store_read::value)
                .then([self](msg::token_update& u) { merge_stored(self, u, false); },
                      [self](caf::error&) {
                        msg::token_update none;
                        merge_stored(self, none, false);
                      });
          });
}

bool input_refused(keeper_self self, const std::string& input);
bool unchanged_token(keeper_self self, const msg::token_fetch_result& r);

void on_fetched(keeper_self self, msg::token_fetch_result& r, uint64_t expected,
                const std::string& input) {
  auto& s = self->state;
  auto now = clock::now();
  auto& provider = provider_name(self);
  if (r.sent_at_ms > 0)
    s.tokens->note_latency(
        duration_cast<milliseconds>(now - from_epoch_ms(r.sent_at_ms)));
  if (!r.ok) {
    upstream_error err{static_cast<error_class>(r.error_class), r.code, r.message};
    s.observer->upstream_call(provider, to_string(err.kind), err.message);
    if (err.kind == error_class::input_rejected)
      input_refused(self, input);
    if (err.kind == error_class::quota_exhausted) {
      s.quota->exhaust(now);
      caf::anon_send(s.store, atoms::token_store_exhaust::value, utc_day(now),
                     s.quota->limit());
    }
    auto next = s.tokens->fail_refresh(err, now);
    if (next.retry)
      s.observer->note(
          provider, true,
          "upstream " + std::string{to_string(err.kind)} + ": " + err.message +
              "; retry in " +
              std::to_string(duration_cast<milliseconds>(next.at - now).count()) +
              " ms, serving the current token");
    else
      s.observer->note(provider, true,
                       "upstream " + std::string{to_string(err.kind)} + ": " +
                           err.message +
                           "; not retrying until the configuration is fixed");
    arm(self);
    return;
  }
  if (unchanged_token(self, r))
    return;
  s.observer->upstream_call(provider, "ok", {});
  // No version to skip when nothing was stored: no keeper fetched before.
  uint64_t step = s.skip_version && expected > 0 ? 2 : 1;
  s.skip_version = false;
  token_record rec{r.token, from_epoch_ms(r.sent_at_ms),
                   from_epoch_ms(r.sent_at_ms + r.expires_in_ms), expected + step};
  // While the lease is fresh no other keeper can have called the upstream since
  // this call started, so this token is the newest there is: it is served whatever
  // the store answers, since the platform retires the previous token after a grace
  // period whatever happens to the write. But it is recorded first (Redis, or the
  // mirror when Redis cannot be reached), then served: a keeper killed in between
  // leaves a token no node has, and its successor fetches another; served first,
  // it would leave nodes holding a token the successor cannot see, which the
  // successor's own token, under the same version, would not replace.
  bool served = lease_fresh(self);
  self->request(s.store, s.cfg.lease, atoms::token_store_cas::value, to_update(self, rec),
                expected)
      .then(
          [self, rec, served](int32_t outcome) {
            auto& s = self->state;
            s.tokens->cancel_refresh();
            if (outcome == 1 || served) {
              s.tokens->adopt(rec, clock::now());
              push(self);
            }
            if (outcome == 1) {
              s.dirty = false;
              mirror(self);
            } else {
              // Fenced: another keeper wrote a newer token, or this one lost its lease.
              s.observer->store_event(provider_name(self),
                                      outcome == 0 ? "version_conflict" : "not_owner");
              if (outcome == -1)
                step_down(self, "lease lost during the refresh");
              else
                sync_with_store(self);
            }
            arm(self);
          },
          [self, rec, served](caf::error&) {
            auto& s = self->state;
            s.observer->store_event(provider_name(self), "unreachable");
            if (!served && !lease_fresh(self)) {
              s.tokens->cancel_refresh();
              arm(self);
              return;
            }
            // The keeper's token: Redis gets it once it answers (dirty); the
            // mirror, when there is one, is its record meanwhile.
            auto serve = [self, rec] {
              auto& s = self->state;
              s.tokens->cancel_refresh();
              s.tokens->adopt(rec, clock::now());
              s.dirty = true;
              push(self);
              arm(self);
            };
            if (!s.mirror) {
              serve();
              return;
            }
            // A hung MySQL delays the token by a second at most: the write
            // may still land after it is served.
            auto timeout = std::min<milliseconds>(
                s.cfg.mirror->connect_timeout + s.cfg.mirror->read_timeout, seconds{1});
            self->request(s.mirror, timeout, atoms::token_mirror_write::value,
                          to_update(self, rec))
                .then([serve](bool) { serve(); }, [serve](caf::error&) { serve(); });
          });
}

void fetch(keeper_self self, std::string input) {
  auto& s = self->state;
  if (!lease_fresh(self)) {
    s.tokens->cancel_refresh();
    arm(self);
    return;
  }
  bool force = s.tokens->force_wanted();
  uint64_t expected = s.tokens->current() ? s.tokens->current()->version : 0;
  auto timeout =
      s.cfg.provider.connect_timeout + 2 * s.cfg.provider.read_timeout + seconds{1};
  self->request(s.fetcher, timeout, atoms::token_fetch::value, force, input)
      .then([self, expected,
             input](msg::token_fetch_result& r) { on_fetched(self, r, expected, input); },
            [self, expected, input](caf::error& e) {
              msg::token_fetch_result r;
              r.error_class = static_cast<int32_t>(error_class::timeout);
              r.message = "fetcher did not answer: " + to_string(e);
              on_fetched(self, r, expected, input);
            });
}

void quota_refused(keeper_self self, int64_t used, const std::string& counted_by) {
  auto& s = self->state;
  auto now = clock::now();
  s.tokens->fail_refresh({error_class::quota_exhausted, 45009,
                          "daily quota of " + std::to_string(s.quota->limit()) +
                              " calls used up (" + std::to_string(used) + " counted by " +
                              counted_by + ")"},
                         now);
  s.observer->upstream_call(provider_name(self), "quota_exhausted", counted_by);
  arm(self);
}

void with_fetch_input(keeper_self self);

void maybe_refresh(keeper_self self) {
  auto& s = self->state;
  auto now = clock::now();
  if (!lease_fresh(self) || s.syncing || s.mirror_pending || !s.tokens->refresh_due(now))
    return;
  s.tokens->begin_refresh();
  with_fetch_input(self);
}

/// The refresh is in flight and has its input: count the call, then make it.
void spend_and_fetch(keeper_self self, std::string input) {
  auto& s = self->state;
  auto now = clock::now();
  // This keeper's own count caps its calls even while Redis is unreachable; the
  // day's count in Redis caps the cluster's, across takeovers.
  if (!s.quota->try_consume(now)) {
    quota_refused(self, s.quota->used(now), "this keeper");
    return;
  }
  self->request(s.store, s.cfg.lease, atoms::token_store_quota::value, utc_day(now),
                s.quota->limit())
      .then(
          [self, input](int64_t used) {
            if (used <= 0) {
              quota_refused(self, -used, "the cluster");
              return;
            }
            self->state.observer->quota_used(provider_name(self), used);
            fetch(self, input);
          },
          [self, input](caf::error&) {
            // Redis is down: this keeper's own count is all there is.
            auto& s = self->state;
            s.observer->quota_used(provider_name(self), s.quota->used(clock::now()));
            fetch(self, input);
          });
}

// -- fetch input (jsapi_ticket, component) and unchanged tokens (wecom) ---------

/// How often a refresh waiting for its input looks again (a board read, or one
/// Redis read of the verify ticket).
constexpr milliseconds input_poll{250};

/// The refresh cannot start without its input: no call, no failure counted; look
/// again after input_poll. Notes each new reason once.
void wait_for_input(keeper_self self, const std::string& why) {
  auto& s = self->state;
  if (why != s.input_wait) {
    s.observer->note(provider_name(self), true, "refresh waits: " + why);
    s.observer->input_wait(provider_name(self), why);
  }
  s.input_wait = why;
  s.tokens->defer_refresh(clock::now() + input_poll);
  arm(self);
}

void input_ready(keeper_self self, std::string input) {
  if (!self->state.input_wait.empty())
    self->state.observer->input_wait(provider_name(self), {});
  self->state.input_wait.clear();
  spend_and_fetch(self, std::move(input));
}

/// Gets what the request is built from, then spends the call (spend_and_fetch),
/// or waits for it (wait_for_input). A jsapi_ticket uses the base provider's
/// token on this node's board (fetch_input.hpp says which); a component the
/// newest verify ticket in Redis. Other kinds need nothing.
void with_fetch_input(keeper_self self) {
  auto& s = self->state;
  auto& p = s.cfg.provider;
  if (p.kind == provider_kind::jsapi_ticket) {
    auto now = clock::now();
    auto slot = s.board->slot_of(p.base);
    auto phase = s.tokens->phase(now);
    bool urgent = phase != token_phase::fresh && phase != token_phase::advisory;
    auto* base = slot < 0 ? nullptr : s.board->current(slot);
    auto choice = choose_base_token(base, now, p.connect_timeout + p.read_timeout, urgent,
                                    s.refused_input);
    if (choice.ready)
      return input_ready(self, std::move(choice.token));
    // No usable base token on this node: ask the cluster's base keeper for one,
    // as a waiting caller does.
    if (!base || now >= base->usable_until)
      self->send(s.cache, msg::token_wanted{p.base, s.cfg.node});
    return wait_for_input(self, choice.why);
  }
  if (p.kind == provider_kind::component) {
    self->request(s.store, s.cfg.lease, atoms::token_store_vticket::value)
        .then(
            [self](std::string& ticket) {
              auto& s = self->state;
              if (ticket.empty())
                return wait_for_input(
                    self, "no component_verify_ticket received yet (POST it to "
                          "/token/" +
                              provider_name(self) + "/verify_ticket)");
              if (ticket == s.refused_input)
                return wait_for_input(
                    self, "the platform refused the newest "
                          "component_verify_ticket; waiting for the next push");
              input_ready(self, std::move(ticket));
            },
            [self](caf::error&) {
              wait_for_input(self, "the component_verify_ticket cannot be read: Redis "
                                   "unreachable");
            });
    return;
  }
  spend_and_fetch(self, {});
}

/// The platform refused the input of the last call: never use it again; a
/// refused base token is reported to its keeper (one forced refresh, bounded by
/// its refresh.forced_* limits, if it is still current).
bool input_refused(keeper_self self, const std::string& input) {
  auto& s = self->state;
  if (input.empty())
    return false;
  s.refused_input = input;
  if (s.cfg.provider.kind == provider_kind::jsapi_ticket)
    self->send(s.cache, msg::token_rejected{s.cfg.provider.base, input, s.cfg.node});
  return true;
}

/// A reply carrying the current token again (WeCom: the same token until it
/// expires). Its new expires_in is not believed: the token keeps its expiry, no
/// version is written, and the next call is at that expiry (token_state::unchanged).
bool unchanged_token(keeper_self self, const msg::token_fetch_result& r) {
  auto& s = self->state;
  auto& cur = s.tokens->current();
  if (!s.cfg.provider.refresh.refresh_at_expiry || !cur || cur->token != r.token)
    return false;
  auto now = clock::now();
  auto next = s.tokens->unchanged(now);
  s.observer->upstream_call(provider_name(self), "unchanged", {});
  s.observer->note(provider_name(self), now >= cur->expires_at,
                   "the platform returned the current token (version " +
                       std::to_string(cur->version) + ") unchanged; next call in " +
                       std::to_string(duration_cast<milliseconds>(next - now).count()) +
                       " ms");
  arm(self);
  return true;
}

/// The mirror's first read: serve its token if it is valid and newer than what
/// this node has; the keeper holding the lease writes it back to Redis if Redis
/// lost it (sync_with_store), instead of fetching a new one.
void adopt_mirrored(keeper_self self, msg::token_update& u) {
  auto& s = self->state;
  s.mirror_pending = false;
  auto now = clock::now();
  if (u.version > 0 && from_epoch_ms(u.expires_at_ms) > now) {
    adopt_board(self);
    auto& cur = s.tokens->current();
    if (!cur || cur->version < u.version) {
      s.tokens->adopt(from_update(u), now);
      s.observer->note(provider_name(self), false,
                       "serving the mirrored token version " + std::to_string(u.version));
      push(self);
    }
  }
  if (s.leader)
    sync_with_store(self);
}

void schedule_lease_tick(keeper_self self) {
  auto& s = self->state;
  auto third = s.cfg.lease.count() / 3;
  std::uniform_int_distribution<int64_t> jitter{0, std::max<int64_t>(1, third / 5)};
  self->delayed_send(self, milliseconds{third - third / 10 + jitter(s.rng)},
                     atoms::token_lease_tick::value);
}

/// Acts on what the leases say: becomes the keeper, steps down, or writes a token
/// Redis missed back to it.
void decide(keeper_self self) {
  auto& s = self->state;
  if (s.released)
    return;
  if (s.leader && !may_act(self)) {
    step_down(self, s.redis_lease.taken ? "lease held by another keeper"
                    : s.mysql_lease.taken
                        ? "the MySQL fallback lease is held by another keeper"
                        : "lease not renewed in time");
  } else if (!s.leader && may_act(self)) {
    become_leader(self);
  } else if (s.leader && s.dirty && !s.redis_lease.unreachable) {
    sync_with_store(self);
  }
  if (s.leader && s.acting != acting_lease(self)) {
    s.acting = acting_lease(self);
    s.observer->leadership(provider_name(self), true, s.acting);
    s.observer->note(provider_name(self), false,
                     "keeper on " + s.cfg.node + " now acts on the " + s.acting +
                         " lease");
  }
  maybe_refresh(self);
}

/// Notes an answer about lease `l` to a request sent at `sent`.
void note_answer(lease_view& l, bool ours, steady::time_point sent) {
  l.pending = false;
  l.unreachable = false;
  l.taken = !ours;
  if (ours) {
    l.ok = sent;
    l.ever_held = true;
  }
}

/// Notes that a request about lease `l` failed: the store cannot be reached, and
/// who holds the lease is unknown (whether it is still ours, `ok` tells).
void note_unreachable(lease_view& l) {
  l.pending = false;
  l.unreachable = true;
  l.taken = false;
}

/// Gives the fallback lease up (best effort) after another keeper turned out to
/// lead through Redis.
void hand_over_fallback(keeper_self self) {
  auto& s = self->state;
  s.mysql_lease.ever_held = false;
  self->request(s.mirror, s.cfg.lease, atoms::token_release::value)
      .then([](bool) {}, [](caf::error&) {});
}

void ask_redis(keeper_self self) {
  auto& s = self->state;
  auto& l = s.redis_lease;
  if (l.pending)
    return;
  l.pending = true;
  auto sent = steady::now();
  auto answered = [self, sent](bool ours) {
    auto& s = self->state;
    note_answer(s.redis_lease, ours, sent);
    // Another keeper leads through Redis: hand it the fallback lease too.
    if (!ours && s.mirror && held(self, s.mysql_lease))
      hand_over_fallback(self);
    decide(self);
  };
  auto failed = [self](caf::error&) {
    note_unreachable(self->state.redis_lease);
    decide(self);
  };
  // A leader that last found the lease its own renews it, so that losing it in
  // between is noticed (it steps down and syncs again when it takes it back).
  // After Redis was unreachable, the keeper acted on the fallback lease, which
  // excludes every other keeper: it takes the Redis lease back like a new one.
  if (s.leader && !l.unreachable && l.ever_held)
    self->request(s.store, s.cfg.lease, atoms::token_store_renew::value)
        .then(answered, failed);
  else
    self->request(s.store, s.cfg.lease, atoms::token_store_take::value)
        .then(answered, failed);
}

void ask_mysql(keeper_self self) {
  auto& s = self->state;
  auto& l = s.mysql_lease;
  if (!s.mirror || l.pending)
    return;
  // Only a keeper that holds the Redis lease, or cannot reach Redis, contends for
  // the fallback lease: a standby that Redis says another keeper leads leaves it
  // alone, and so does a keeper that has not heard from Redis yet.
  if (!s.leader && !s.redis_lease.unreachable && !held(self, s.redis_lease))
    return;
  l.pending = true;
  auto sent = steady::now();
  self->request(s.mirror, s.cfg.lease, atoms::token_store_take::value)
      .then(
          [self, sent](bool ours) {
            auto& s = self->state;
            note_answer(s.mysql_lease, ours, sent);
            // Redis answered meanwhile that another keeper leads.
            if (ours && !s.leader && s.redis_lease.taken)
              hand_over_fallback(self);
            decide(self);
          },
          [self](caf::error&) {
            // Unknown, not taken: the Redis lease alone decides while MySQL is away.
            note_unreachable(self->state.mysql_lease);
            decide(self);
          });
}

void lease_tick(keeper_self self) {
  auto& s = self->state;
  if (s.released)
    return;
  schedule_lease_tick(self);
  if (s.leader && !may_act(self))
    step_down(self, "lease not renewed in time");
  ask_redis(self);
  ask_mysql(self);
}

token_keeper_actor::behavior_type token_keeper(keeper_self self, keeper_settings cfg,
                                               token_cache_actor cache,
                                               std::shared_ptr<token_board> board,
                                               std::shared_ptr<token_observer> observer) {
  auto& s = self->state;
  s.rng.seed(cfg.seed);
  s.tokens =
      std::make_unique<token_state>(refresh_policy{cfg.provider.refresh, cfg.seed});
  s.quota = std::make_unique<daily_quota>(cfg.provider.daily_quota);
  s.cache = std::move(cache);
  s.board = std::move(board);
  s.observer = std::move(observer);
  s.fetcher = self->spawn<caf::detached + caf::linked>(upstream_fetcher, cfg.provider);
  s.store = self->spawn<caf::detached + caf::linked>(store_worker, cfg.redis,
                                                     cfg.provider, cfg.owner, cfg.lease);
  if (cfg.mirror) {
    s.mirror = self->spawn<caf::detached + caf::linked>(
        mirror_worker, *cfg.mirror, cfg.mirror_table, cfg.provider.name, cfg.node,
        cfg.owner, cfg.lease, s.observer);
    s.mirror_pending = true;
    auto timeout = cfg.mirror->connect_timeout + cfg.mirror->read_timeout;
    self->request(s.mirror, timeout, atoms::token_store_read::value)
        .then([self](msg::token_update& u) { adopt_mirrored(self, u); },
              [self](caf::error& e) {
                auto& s = self->state;
                s.mirror_pending = false;
                s.observer->note(provider_name(self), true,
                                 "token mirror not read: " + to_string(e));
                if (s.leader)
                  sync_with_store(self);
              });
  }
  s.cfg = std::move(cfg);
  self->send(self, atoms::token_lease_tick::value);
  return {
      [self](atoms::token_lease_tick) { lease_tick(self); },
      [self](atoms::token_refresh_tick, uint64_t gen) {
        if (gen == self->state.timer_gen)
          maybe_refresh(self);
      },
      [self](msg::token_wanted&) {
        auto& s = self->state;
        if (!s.leader)
          return;
        // A token inside its hand-out margin is not given to callers: they wait
        // for the refresh, which the schedule (and its backoff) still paces.
        if (s.tokens->usable(clock::now()))
          push(self);
        else
          maybe_refresh(self);
      },
      [self](atoms::token_release) -> caf::result<bool> {
        auto& s = self->state;
        s.released = true;
        step_down(self, "the node shuts down");
        auto rp = self->make_response_promise<bool>();
        if (s.mirror && s.mysql_lease.ever_held)
          self->request(s.mirror, s.cfg.lease, atoms::token_release::value)
              .then([](bool) {}, [](caf::error&) {});
        self->request(s.store, s.cfg.lease, atoms::token_release::value)
            .then([rp](bool released) mutable { rp.deliver(released); },
                  [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
        return rp;
      },
      [self](msg::token_rejected& r) {
        auto& s = self->state;
        if (!s.leader)
          return;
        auto now = clock::now();
        auto outcome = s.tokens->reject(r.token, now);
        auto& policy = s.cfg.provider.refresh;
        switch (outcome) {
        case reject_outcome::ignored:
          return;
        case reject_outcome::refresh:
          s.observer->forced_refresh(provider_name(self), to_string(outcome),
                                     "reported by " + r.node);
          break;
        case reject_outcome::deferred:
          s.observer->forced_refresh(
              provider_name(self), to_string(outcome),
              "reported by " + r.node + "; at most one forced refresh per " +
                  std::to_string(policy.forced_min_interval.count()) +
                  " ms (refresh.forced_min_interval_ms), the next in " +
                  std::to_string(
                      duration_cast<milliseconds>(*s.tokens->next_refresh_at() - now)
                          .count()) +
                  " ms");
          break;
        case reject_outcome::refused:
          s.observer->forced_refresh(
              provider_name(self), to_string(outcome),
              "reported by " + r.node + "; " +
                  std::to_string(s.tokens->forced_today(now)) +
                  " forced refreshes today reach refresh.forced_max_per_day; the "
                  "current token is kept until its normal refresh");
          return;
        }
        arm(self);
        maybe_refresh(self);
      },
  };
}

} // namespace

bool release_keeper_lease(caf::actor_system& sys, const token_keeper_actor& keeper,
                          std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys};
  bool released = false;
  self->request(keeper, timeout, atoms::token_release::value)
      .receive([&](bool r) { released = r; }, [](caf::error&) {});
  return released;
}

token_keeper_actor spawn_token_keeper(caf::actor_system& sys, keeper_settings settings,
                                      token_cache_actor cache,
                                      std::shared_ptr<token_board> board,
                                      std::shared_ptr<token_observer> observer) {
  return sys.spawn(token_keeper, std::move(settings), std::move(cache), std::move(board),
                   std::move(observer));
}

} // namespace shoal::token

// token_client: how application threads read tokens. The fast path reads the
// node's token board without a message; only a caller with no usable token (none
// yet, or the current one inside its hand-out margin) asks the cache and waits.

#include <time.h>

#include <caf/all.hpp>

#include "runtime/token_service.hpp"
#include "runtime/token_service_impl.hpp"

namespace shoal {

namespace {

using namespace std::chrono;

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

token_result token_client::get(std::string_view provider, milliseconds wait) const {
  if (!svc_)
    return {nullptr, "no token service runs on this node"};
  auto& d = svc_->internals();
  auto slot = d.board->slot_of(provider);
  if (slot < 0)
    return {nullptr, "unknown token provider \"" + std::string{provider} + "\""};
  auto now = coarse_now() + coarse_margin;
  if (auto* t = d.board->current(slot); t && now < t->usable_until) {
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
                  " ms: the tokens that arrived were inside their hand-out margin";
      return out;
    }
    bool again = false;
    self->request(d.cache, left, atoms::token_get::value, std::string{provider},
                  static_cast<int64_t>(left.count()))
        .receive(
            [&](msg::token_update&) {
              auto* t = d.board->current(slot);
              if (t && token::clock::now() < t->usable_until)
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

} // namespace shoal

// The state and helpers the binlog pipeline's actors share: pipeline::shared
// (settings and status: the boundary with the application's threads, which
// read status() and wait_applied()), pipeline_actor (the mailbox side every
// actor of the pipeline has: receiving, pausing, stopping on an exit message,
// failing), and the target and source connection helpers with their one
// backoff. The messages are in messages/binlog.hpp. Internal to the pipeline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/binlog/sync/pipeline.hpp"
#include "actors/binlog/sync/sql_builder.hpp"
#include "actors/binlog/sync/target_session.hpp"
#include "messages/binlog.hpp"
#include "messages/binlog_row.hpp"

namespace shoal::binlog {

struct pipeline::shared {
  pipeline_settings settings;
  mutable std::mutex mtx;
  mutable std::condition_variable cv;
  pipeline_status status;
  /// Actors of the pipeline not yet ended.
  int running = 0;
  /// stop() was called.
  bool stop_requested = false;
  // Source time of the newest change applied; for lag.
  uint32_t applied_time = 0;
  /// Source time of the row that ended the last moment with nothing in flight
  /// (the oldest unapplied row then): lag counts from it until rows newer than
  /// it are applied, so a pipeline that applied nothing yet, or that was idle,
  /// shows its true lag rather than 0 or the idle time.
  uint32_t pending_since = 0;
  // Rate sampling.
  mutable std::chrono::steady_clock::time_point rate_at =
      std::chrono::steady_clock::now();
  mutable uint64_t rate_rows = 0;
  mutable double rate = 0;

  void log(bool error, const std::string& line) const {
    if (settings.log)
      settings.log(error, "sync " + settings.name + ": " + line);
  }

  /// Records that the pipeline failed for good with `why` (the first reason
  /// wins). Actors call pipeline_actor::fail, which also ends them.
  void record_failure(const std::string& why) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (status.state == pipeline_state::failed)
        return;
      status.state = pipeline_state::failed;
      status.error = why;
    }
    cv.notify_all();
    log(true, "stopped: " + why);
  }

  /// record_failure for a run fenced by a newer claim.
  void record_claimed_elsewhere(const std::string& why) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (status.state != pipeline_state::failed)
        status.claimed_elsewhere = true;
    }
    record_failure(why);
  }

  /// @@server_id of the source in use (change events name it).
  uint32_t source_server_id() {
    std::lock_guard<std::mutex> guard{mtx};
    return static_cast<uint32_t>(status.source_server_id);
  }

  void set_state(pipeline_state s) {
    std::lock_guard<std::mutex> guard{mtx};
    if (status.state != pipeline_state::failed)
      status.state = s;
  }

  void actor_started() {
    std::lock_guard<std::mutex> guard{mtx};
    ++running;
  }

  void actor_done() {
    std::lock_guard<std::mutex> guard{mtx};
    --running;
    cv.notify_all();
  }

  /// Hands the hot-cache keys of rows about to be committed (`committed`
  /// false) or just committed (true) to settings.invalidate. Each key goes out
  /// twice: before the commit, so that a process killed between the commit and
  /// the second send has dropped it anyway (a loader reading the source, where
  /// the change committed long before, finds the new value); and after it, in
  /// commit order, for a loader reading the target, which might have loaded the
  /// old value again in between. status.keys_invalidated counts the second.
  void invalidate(const std::vector<std::string>& keys, bool committed) {
    if (keys.empty() || !settings.invalidate)
      return;
    settings.invalidate(keys);
    if (!committed)
      return;
    std::lock_guard<std::mutex> guard{mtx};
    status.keys_invalidated += keys.size();
  }

  /// invalidate() for the key families of a DDL (settings.invalidate_matching).
  void invalidate_matching(const std::vector<std::vector<std::string>>& patterns) {
    if (!patterns.empty() && settings.invalidate_matching)
      settings.invalidate_matching(patterns);
  }

  /// True when a test injects a fault at `point`.
  bool fault(const char* point) const { return settings.fault && settings.fault(point); }

  target_identity identity(uint64_t epoch = 0) const {
    return {settings.checkpoint_database, settings.name, epoch};
  }
};

namespace detail {

using std::chrono::milliseconds;

/// The mailbox side of a pipeline actor (the reader, a partition): both are
/// detached blocking actors, linked to each other. An actor stops once it
/// received an exit message (from pipeline::stop(), or from a linked actor
/// that ended) or failed itself; every wait goes through receive_one(), so
/// none misses the exit message, and pause() keeps serving the mailbox so no
/// credit or batch waits behind a backoff.
class pipeline_actor {
public:
  pipeline_actor(caf::blocking_actor* self, std::shared_ptr<pipeline::shared> st)
      : self_(self), st_(std::move(st)) {}
  virtual ~pipeline_actor() = default;
  pipeline_actor(const pipeline_actor&) = delete;
  pipeline_actor& operator=(const pipeline_actor&) = delete;

  pipeline::shared& shared() { return *st_; }

  /// True once it must stop: it received an exit message or failed.
  bool stopping() const noexcept { return stopping_; }

  /// Stops the pipeline for good with `why`: status() says so, and this
  /// actor ends with an error that its links carry to the others.
  void fail(const std::string& why);

  /// Handles one message of the actor's protocol, or an exit message, within
  /// `timeout`; false when none came.
  virtual bool receive_one(milliseconds timeout) = 0;

  /// Handles every message already queued.
  void receive_queued() {
    while (!stopping_ && receive_one(milliseconds{0})) {
    }
  }

  /// Waits `d`, handling messages meanwhile; returns early when stopping.
  void pause(milliseconds d);

  /// The reason the actor ends with: its failure, or the exit message it
  /// received, passed on to its links.
  const caf::error& exit_reason() const noexcept { return reason_; }

protected:
  /// receive_one with `fs`, the exit message and a catch-all for anything
  /// else (logged and dropped).
  template <class... Fs> bool receive_with(milliseconds timeout, Fs&&... fs) {
    // A receive with a zero timeout still waits on the mailbox's condition
    // variable: a futex sleep that, with the target busy on the same cores, can
    // lose the CPU for a scheduling slice. The reader and the partitions look
    // for queued messages after every transaction, so an empty mailbox is
    // answered here without one.
    if (timeout.count() <= 0 && self_->mailbox().empty())
      return false;
    bool got = true;
    self_->receive(
        std::forward<Fs>(fs)...,
        [&](caf::exit_msg& m) {
          stopping_ = true;
          if (!reason_)
            reason_ = m.reason ? std::move(m.reason)
                               : caf::make_error(caf::exit_reason::user_shutdown);
        },
        caf::others >> [&](caf::message_view& m) -> caf::result<caf::message> {
          st_->log(true, "dropped an unexpected message: " +
                             caf::to_string(m.copy_content_to_message()));
          return caf::message{};
        },
        caf::after(timeout) >> [&] { got = false; });
    return got;
  }

  caf::blocking_actor* self_;
  std::shared_ptr<pipeline::shared> st_;

private:
  bool stopping_ = false;
  caf::error reason_;
};

/// statement_budget of `conn`'s max_allowed_packet; of MariaDB's default (16 MiB)
/// when it cannot be read: the connection is lost then and the statements fail.
size_t session_budget(mysql_connection& conn);

/// Connects to `source` with backoff until it works or the actor stops.
std::optional<mysql_connection> connect_source(pipeline_actor& a,
                                               const mysql_config& source);

/// Opens a target session with backoff until it works or the actor stops.
std::optional<target_session> open_target(pipeline_actor& a, const std::string& what,
                                          uint64_t epoch = 0);

/// Reconnects a target session (with its settings) with backoff; false when
/// the actor stops first or the target refuses for good (it failed then).
bool recover_target(pipeline_actor& a, target_session& t, const std::string& what);

/// The statements for `ops`, each at most `budget` bytes; a batch holding a
/// value only a non-strict source can hold (see needs_lenient_mode) runs
/// without strictness.
statement_batch statements_for(const std::vector<row_op>& ops, size_t budget);

/// "file:pos: db.t (key values)" for a row op, for messages.
std::string describe_op(const row_op& op);

/// After a batch failed with a data error, finds the first op the target
/// rejects by applying the ops one by one in a transaction that is rolled back.
/// Returns "where: the server's message", or the original error when no single
/// op fails.
std::string locate_rejected(target_session& t, const std::vector<row_op>& ops,
                            const mysql_error& original);

} // namespace detail
} // namespace shoal::binlog

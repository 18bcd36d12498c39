// The state and helpers the binlog pipeline's actors share: the messages
// between the reader and its partitions, pipeline::shared (settings, status,
// the stop flag; read by status() from any thread), and the target and source
// connection helpers with their one backoff. Internal to the pipeline.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/binlog/sync/pipeline.hpp"
#include "actors/binlog/sync/row_op.hpp"
#include "actors/binlog/sync/sql_builder.hpp"
#include "actors/binlog/sync/target_session.hpp"

namespace shoal::binlog::detail {

/// First message to a partition: the key it has already applied, and the
/// ownership epoch its transactions must find on the target.
struct partition_start {
  change_key applied;
  uint64_t epoch = 0;
};
/// Ops for one partition, in binlog order.
struct partition_batch {
  std::vector<row_op> ops;
};
/// Apply everything received so far, then answer drained.
struct drain_request {
  uint64_t id = 0;
};
struct drained_reply {
  uint32_t partition = 0;
  uint64_t id = 0;
};
/// From a partition to the reader: credits for rows applied (or skipped), and,
/// when it committed, the key it has applied up to. The reader decides from these
/// (the XA floor), never from the partitions' status, which is for display.
struct rows_done {
  int64_t rows = 0;
  uint32_t partition = 0;
  std::optional<change_key> applied;
};

} // namespace shoal::binlog::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::detail::partition_start)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::detail::partition_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::detail::drain_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::detail::drained_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::detail::rows_done)

namespace shoal::binlog {

struct pipeline::shared {
  pipeline_settings settings;
  std::atomic<bool> stopping{false};
  mutable std::mutex mtx;
  mutable std::condition_variable cv;
  pipeline_status status;
  int running = 0;
  // Source time of the newest change applied; for lag.
  uint32_t applied_time = 0;
  // Rate sampling.
  mutable std::chrono::steady_clock::time_point rate_at =
      std::chrono::steady_clock::now();
  mutable uint64_t rate_rows = 0;
  mutable double rate = 0;

  void log(bool error, const std::string& line) const {
    if (settings.log)
      settings.log(error, "sync " + settings.name + ": " + line);
  }

  /// Stops the pipeline for good with `why`.
  void fail(const std::string& why) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (status.state == pipeline_state::failed)
        return;
      status.state = pipeline_state::failed;
      status.error = why;
    }
    stopping = true;
    cv.notify_all();
    log(true, "stopped: " + why);
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

  /// Sleeps up to `d`, less when stopping.
  void pause(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait_for(lock, d, [&] { return stopping.load(); });
  }

  /// True when a test injects a fault at `point`.
  bool fault(const char* point) const { return settings.fault && settings.fault(point); }

  target_identity identity(uint64_t epoch = 0) const {
    return {settings.checkpoint_database, settings.name, epoch};
  }
};

namespace detail {

using std::chrono::milliseconds;

/// statement_budget of `conn`'s max_allowed_packet; of MariaDB's default (16 MiB)
/// when it cannot be read: the connection is lost then and the statements fail.
size_t session_budget(mysql_connection& conn);

/// Connects to the source with backoff until it works or the pipeline stops.
std::optional<mysql_connection> connect_source(pipeline::shared& st);

/// Opens a target session with backoff until it works or the pipeline stops.
std::optional<target_session> open_target(pipeline::shared& st, const std::string& what,
                                          uint64_t epoch = 0);

/// Reconnects a target session (with its settings) with backoff; false when
/// the pipeline stops first or the target refuses for good.
bool recover_target(pipeline::shared& st, target_session& t, const std::string& what);

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

// Receives one message within `timeout`; false when none came.
template <class... Fs>
bool receive_one(caf::blocking_actor* self, milliseconds timeout, Fs&&... fs) {
  bool got = true;
  self->receive(
      std::forward<Fs>(fs)..., caf::after(timeout) >> [&] { got = false; });
  return got;
}

} // namespace detail
} // namespace shoal::binlog

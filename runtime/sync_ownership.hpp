// sync_ownership: which of the nodes a pipeline lists in `nodes` runs it now.
//
// Each of those nodes keeps one ownership_keeper per such pipeline. The keeper
// holds or watches the pipeline's lease on the target (checkpoint.hpp,
// sync_lease), on a thread of its own with its own connection:
//
//   - free lease (never taken, expired or released): the node waits its turn
//     (its rendezvous rank for the pipeline's name times one standby look,
//     min(lease / 4, 500 ms), so the
//     pipelines of a cluster spread over its nodes and every node computes the
//     same order), takes the lease and calls `take_over`, which starts the
//     pipeline; the pipeline then raises its epoch on the target, which fences
//     any earlier holder that is still alive (owner_fence_sql);
//   - held here: renews it every quarter of `lease_ms`. When the renewal finds
//     another holder (this process was stopped or cut off past its lease), or
//     cannot reach the target until the lease would have run out, it calls
//     `step_down`, which stops the pipeline; it then watches like any standby;
//   - held elsewhere: watches. A node that finds the lease expired for longer
//     than a lease and a few looks reports the pipeline as without owner.
//
// A paused pipeline (binlog::set_paused, a row of sync_pause on the target)
// keeps its lease but does not run: its holder calls `step_down` when it sees
// the pause and `take_over` when it sees the resume; a node that takes the
// lease while the pipeline is paused starts nothing.
//
// stop() ends a lease held here at once (release), so a clean stop hands the
// pipeline over at the standbys' next look instead of after the lease.
//
// Thread-safe. The callbacks run on the keeper's thread, never under its lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/binlog/sync/checkpoint.hpp"
#include "runtime/adapters/mysql_connection.hpp"

namespace shoal {

struct ownership_settings {
  std::string pipeline;
  /// This node's name, and the names of all nodes that may run the pipeline.
  std::string node;
  std::vector<std::string> nodes;
  std::chrono::milliseconds lease{5000};
  mysql_config target;
  std::string checkpoint_database = "shoal";
};

/// What a keeper last saw, for /status and /healthz.
struct ownership_view {
  /// This process holds the lease.
  bool holding = false;
  /// The holder's node ("" when no node holds a live lease).
  std::string owner;
  uint64_t epoch = 0;
  /// Milliseconds left of the holder's lease.
  int64_t lease_remaining_ms = 0;
  /// This node's place in the takeover order (0: first).
  size_t rank = 0;
  /// Nothing held a live lease for this long (0: someone does).
  std::chrono::milliseconds ownerless{0};
  /// The last error reaching the target ("" when the last look worked).
  std::string error;
  /// The node an operator paused it on ("" when it is not paused).
  std::string paused_by;
};

class ownership_keeper {
public:
  /// `take_over` starts the pipeline here (its argument: the lease holder id, for
  /// the pipeline's claim); `step_down` stops it (its argument: why).
  ownership_keeper(ownership_settings settings,
                   std::function<void(const std::string&)> take_over,
                   std::function<void(const std::string&)> step_down);
  ~ownership_keeper();

  ownership_keeper(const ownership_keeper&) = delete;
  ownership_keeper& operator=(const ownership_keeper&) = delete;

  /// Steps down if holding (stopping the pipeline), releases the lease, and
  /// ends the thread. Idempotent.
  void stop();

  ownership_view view() const;

  /// Looks at the lease now instead of at the next tick (after a pause or a
  /// resume was written).
  void look_now();

  /// The id this process holds leases under: node name, pid and start time, so
  /// a restarted node is a new holder.
  const std::string& holder() const { return holder_; }

private:
  void run();
  /// One renewal or watch; false when the target did not answer.
  bool look(mysql_connection& conn);
  void lose(const std::string& why);
  /// Starts or stops the pipeline here to match: held and not paused runs it.
  void follow(bool paused);

  ownership_settings cfg_;
  std::function<void(const std::string&)> take_over_;
  std::function<void(const std::string&)> step_down_;
  std::string holder_;
  size_t rank_ = 0;
  // How often a holder renews, and how often a standby looks.
  std::chrono::milliseconds tick_;
  std::chrono::milliseconds watch_tick_;

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool look_now_ = false;
  ownership_view view_;

  // The keeper thread's own state.
  bool holding_ = false;
  // The pipeline runs here (take_over called, step_down not since).
  bool running_ = false;
  std::chrono::steady_clock::time_point renewed_at_;
  std::chrono::steady_clock::time_point free_since_{};
  bool free_seen_ = false;

  std::thread thread_;
};

} // namespace shoal

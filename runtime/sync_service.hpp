// sync_service: the binlog sync pipelines this node runs (scenario 2).
//
// Every pipeline of the config's `sync.pipelines` whose `node` is this node is
// started here; one that lists this node among its `nodes` is started here while
// this node holds its lease on the target (sync_ownership.hpp), and this node
// stands by otherwise (actors/binlog/sync/pipeline.hpp): a reader on the source's binlog,
// P partition appliers on the target, checkpoints in the target. Its /status
// section lists each pipeline's state, source position, each partition's
// applied position, rows/s, lag and queue depths; /metrics has the same figures
// as shoal_sync_*.
//
//   auto* sync = eng->sync();                        // nullptr: no pipeline here
//   sync->wait_caught_up("orders", 30s);             // applied all the source has now
//   auto st = sync->status_of("orders");             // positions, lag, errors
//
// Operating a pipeline (also over HTTP: add_routes, and `shoal sync`):
//
//   sync->pause("orders");   // stops it at a clean point; /status says "paused"
//   sync->resume("orders");  // starts it again from its checkpoints; also the
//                            // way to restart one that failed, once the cause
//                            // is fixed (e.g. a DDL the target rejected, applied
//                            // by hand on the target)
//
// Nothing is skipped by either: a resumed pipeline reads from its checkpoints,
// so a change the target rejected is tried again, not passed over.
//
// All member functions are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/binlog/sync/pipeline.hpp"
#include "runtime/config.hpp"
#include "runtime/service.hpp"
#include "runtime/sync_ownership.hpp"

namespace shoal {

class node;

class sync_service : public service {
public:
  /// `http_secret`: the bearer secret of POST /sync/NAME/pause|resume; empty:
  /// those routes are not offered.
  sync_service(node& n, const std::vector<sync_pipeline_config>& pipelines,
               std::string http_secret = {});
  ~sync_service() override;

  std::string name() const override { return "sync"; }
  nlohmann::json status() override;
  void stop() override;
  void update_metrics() override;
  void add_routes(httplib::Server& server) override;
  std::vector<std::string> unhealthy() override;
  std::vector<std::string> not_ready() override;

  /// What pause() or resume() did.
  struct outcome {
    /// 200 done (or nothing to do), 404 unknown pipeline, 409 the node is stopping
    /// (or, for resume, another process claimed the pipeline), 503 paused but a
    /// statement still waits on the target.
    int status = 200;
    std::string message;
  };

  /// Stops pipeline `name` (its actors end; uncommitted rows are read again on
  /// resume) and keeps it stopped until resume(). Idempotent. A pipeline with
  /// `nodes` is paused for all of them (a row of sync_pause on its target): any
  /// of its nodes may be asked, the lease's holder stops it, and a node that
  /// takes the lease over later keeps it stopped.
  outcome pause(const std::string& name);

  /// Starts pipeline `name` again from its checkpoints when it is paused,
  /// failed or stopped; nothing when it is already running. A paused pipeline
  /// with `nodes` is resumed from any of them (by its lease's holder).
  outcome resume(const std::string& name);

  /// One pipeline's section of /status; nullopt for an unknown name.
  std::optional<nlohmann::json> status_json(const std::string& name) const;

  /// Names of the pipelines running on this node.
  std::vector<std::string> pipelines() const;

  /// The status of pipeline `name`, or nullopt if it does not run here.
  std::optional<binlog::pipeline_status> status_of(const std::string& name) const;

  /// Blocks until pipeline `name` has applied every change before source
  /// position `pos`; false on timeout, failure or an unknown name.
  bool wait_applied(const std::string& name, const binlog::binlog_position& pos,
                    std::chrono::milliseconds timeout) const;

  /// Reads the source's current position (SHOW MASTER STATUS) and waits until
  /// pipeline `name` has applied up to it; false on timeout, failure, unknown name.
  bool wait_caught_up(const std::string& name, std::chrono::milliseconds timeout) const;

private:
  struct metrics;

  /// The pipeline running under `name` now (pause and resume replace it), or null.
  std::shared_ptr<binlog::pipeline> find(const std::string& name) const;
  /// The pipeline an operator's pause or resume acts on; null with `refused` set
  /// (404: none of that name runs here, 409: the node is stopping) when there is
  /// none to act on.
  std::shared_ptr<binlog::pipeline> operand(const std::string& name,
                                            outcome& refused) const;
  bool paused(const std::string& name) const;
  /// pause() or resume() of a pipeline with `nodes`, through its target; for a
  /// resume, 404 when it was not paused.
  outcome set_paused_everywhere(const std::string& name, bool pause);
  nlohmann::json pipeline_json(const std::string& name, const binlog::pipeline& p) const;
  /// Owner, epoch and standbys of pipeline `name` as this node sees them.
  nlohmann::json ownership_json(const std::string& name) const;
  /// The settings a run of `name` starts with; under a lease, claimed as its holder.
  binlog::pipeline_settings settings_for(const std::string& name) const;
  /// Adds a finished run's counters to earlier_ (mtx_ held).
  void count_earlier(const std::string& name, const binlog::pipeline_status& s);
  /// The lease of `name` came to this node: start the pipeline (claimed by `holder`).
  void take_over(const std::string& name, const std::string& holder);
  /// The lease of `name` left this node (or the node stops): stop the pipeline.
  void step_down(const std::string& name, const std::string& why);

  node& node_;
  // Guards pipelines_ and paused_; never held while a pipeline stops or starts
  // (ops_ is: one pause or resume at a time).
  mutable std::mutex mtx_;
  std::mutex ops_;
  std::map<std::string, std::shared_ptr<binlog::pipeline>> pipelines_;
  std::set<std::string> paused_;
  // Counter totals of a pipeline's earlier runs (before a pause or a restart),
  // so that its Prometheus counters keep counting.
  struct totals {
    uint64_t rows_read = 0, rows_applied = 0, reconnects = 0, keys_invalidated = 0;
  };
  std::map<std::string, totals> earlier_;
  std::map<std::string, sync_pipeline_config> configs_;
  // One per pipeline with `nodes` (failover); created last, stopped first.
  std::map<std::string, std::unique_ptr<ownership_keeper>> keepers_;
  std::unique_ptr<metrics> metrics_;
  std::atomic<bool> stopped_{false};
  std::string http_secret_;
};

/// The factory for services.cpp: a sync_service when some pipeline runs on this
/// node, else nullptr.
std::unique_ptr<service> make_sync_service(node& n, std::string& error);

/// The pipeline settings for one configured pipeline.
binlog::pipeline_settings to_pipeline_settings(const sync_pipeline_config& p);

} // namespace shoal

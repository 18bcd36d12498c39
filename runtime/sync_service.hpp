// sync_service: the binlog sync pipelines this node runs (scenario 2).
//
// Every pipeline of the config's `sync.pipelines` whose `node` is this node is
// started here (actors/binlog/sync/pipeline.hpp): a reader on the source's binlog,
// P partition appliers on the target, checkpoints in the target. Its /status
// section lists each pipeline's state, source position, each partition's
// applied position, rows/s, lag and queue depths; /metrics has the same figures
// as shoal_sync_*.
//
//   auto* sync = eng->sync();                        // nullptr: no pipeline here
//   sync->wait_caught_up("orders", 30s);             // applied all the source has now
//   auto st = sync->status_of("orders");             // positions, lag, errors
//
// All member functions are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/binlog/sync/pipeline.hpp"
#include "runtime/config.hpp"
#include "runtime/service.hpp"

namespace shoal {

class node;

class sync_service : public service {
public:
  sync_service(node& n, const std::vector<sync_pipeline_config>& pipelines);
  ~sync_service() override;

  std::string name() const override { return "sync"; }
  nlohmann::json status() override;
  void stop() override;
  void update_metrics() override;
  std::vector<std::string> unhealthy() override;
  std::vector<std::string> not_ready() override;

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

  std::map<std::string, std::shared_ptr<binlog::pipeline>> pipelines_;
  std::map<std::string, sync_pipeline_config> configs_;
  std::unique_ptr<metrics> metrics_;
  std::atomic<bool> stopped_{false};
};

/// The factory for services.cpp: a sync_service when some pipeline runs on this
/// node, else nullptr.
std::unique_ptr<service> make_sync_service(node& n, std::string& error);

/// The pipeline settings for one configured pipeline.
binlog::pipeline_settings to_pipeline_settings(const sync_pipeline_config& p);

} // namespace shoal

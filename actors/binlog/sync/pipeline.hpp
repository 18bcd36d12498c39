// pipeline: one running binlog sync from a source to a target server.
//
//   auto p = shoal::binlog::pipeline::start(sys, settings);
//   p->wait_applied({"mariadb-bin.000001", 1234}, 10s);  // true once applied
//   auto s = p->status();                                 // positions, rates, lag
//   p->stop();
//
// Actors (all detached: they block on MySQL I/O):
//   reader      (binlog_reader.cpp) connects as a replica, decodes (event_decoder),
//               routes each row (router) to a partition; barriers for DDL and key
//               changes (ddl_plan, key_choice); XA holds (xa_tracker); bounded
//               rows in flight (credits from the appliers)
//   partition   (partition_applier.cpp) x P: one target session each
//               (target_session), applies its rows in binlog order in batches,
//               with its checkpoint in the same fenced transaction
// Their messages and typed handles are in messages/binlog.hpp; the reader and
// the partitions are linked and stop on an exit message (stop() sends one; an
// actor that fails ends with its error, which the links carry to the others).
// Their settings and status (pipeline::shared, read by status() and
// wait_applied() from any thread) are in detail/pipeline_state.hpp.
// A failure that must not be skipped (corrupt event, DDL the target rejects,
// statement-based binlog) stops the pipeline; status() then says why and where.
// Thread-safe: status(), wait_applied() and stop() may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/binlog/decoder/binlog_position.hpp"
#include "actors/binlog/decoder/table_filter.hpp"
#include "actors/binlog/sync/cache_keys.hpp"
#include "runtime/adapters/mysql_connection.hpp"
#include "runtime/adapters/redis_connection.hpp"

namespace shoal::binlog {

/// Where a pipeline starts when the target holds no checkpoint yet: the source's
/// current position, a snapshot of its tables (then the position it was taken
/// at), start_position, or start_gtid.
enum class start_point { current, snapshot, position, gtid };

/// What a pipeline writes to: a MySQL server (rows applied), a change stream
/// (one event per row change; stream_sink.hpp), or nothing: it reads only to
/// invalidate hot-cache keys (invalidation_rules), keeping its checkpoints on
/// the state server (`target`).
enum class target_kind { mysql, redis_stream, kafka, none };

/// A redis_stream or kafka target. Key templates take {pipeline}, {db},
/// {table} (the names after rename) and {partition}; {{ and }} are literal
/// braces. For kafka, stream_key names topics and schema_stream the DDL topic.
struct stream_target {
  redis_config redis;
  /// kafka: bootstrap servers and further librdkafka properties.
  std::string kafka_brokers;
  std::map<std::string, std::string> kafka_properties;
  /// Each row change's stream.
  std::string stream_key = "shoal:{pipeline}:{db}.{table}";
  /// The hash holding each partition's position and the writer epoch.
  std::string checkpoint_key = "shoal:{pipeline}:checkpoint";
  /// Every DDL event goes here too (and to the streams of the tables it names).
  std::string schema_stream = "shoal:{pipeline}:schema";
  /// Each stream trimmed to about this many entries (MAXLEN ~); 0: never.
  uint64_t maxlen = 0;
};

struct pipeline_settings {
  std::string name;
  mysql_config source;
  /// Other servers of the source's replication topology (GTID replicas with
  /// log_slave_updates), tried in order after `source` when it does not
  /// answer: the pipeline moves its checkpoints there by GTID.
  std::vector<mysql_config> source_candidates;
  /// How long the source in use may stay unreachable while running before
  /// the candidates are tried.
  std::chrono::milliseconds source_switch_after{5000};
  /// The MySQL target; for a stream target, the MySQL server that keeps the
  /// pipeline's state (epoch, source, XA floor, first position) in
  /// checkpoint_database, while the stream's positions live in the stream's server.
  mysql_config target;
  target_kind kind = target_kind::mysql;
  stream_target stream;
  /// The replica server id presented to the source.
  uint32_t server_id = 1000;
  uint32_t partitions = 4;
  /// Commit whole source transactions: a reader of the target never sees part
  /// of one. They go out in rounds, spread over the partitions by writeset
  /// (transactions that touch a common row stay on one partition, in source
  /// order; one partition per batch_rows / 8 rows of the round), each round
  /// committed before the next. Off: rows by key, a
  /// transaction's rows committed by different partitions at different times.
  bool whole_transactions = false;
  /// Where to start without a checkpoint.
  start_point start_mode = start_point::current;
  binlog_position start_position;
  std::string start_gtid;
  table_filter filter;
  /// Most rows in one target transaction of one partition. Larger batches keep
  /// fewer changes of a busy key and cost the target fewer statements and
  /// commits: 4000 against 1000 caught up 17% faster with evenly spread keys and
  /// 40-50% with sysbench's default skew (bench/binlog/README.md, finding 9). A
  /// source at a modest rate never fills one: a partition commits what it has
  /// as soon as nothing more is waiting.
  size_t batch_rows = 4000;
  /// Most rows read but not yet applied.
  int64_t max_inflight_rows = 50000;
  /// Most bytes of rows read but not yet applied (op_bytes); a single row or
  /// transaction larger than this still goes, alone.
  int64_t max_inflight_bytes = 64 << 20;
  std::string checkpoint_database = "shoal";
  /// Replay CREATE/ALTER/DROP of triggers, events, procedures and functions on
  /// the target. Off by default: a trigger copied to the target fires again on
  /// the rows shoal writes (they already carry its effects) and an event runs
  /// there a second time. Account statements (users, roles, grants) are never
  /// replayed.
  bool copy_routines = false;
  /// Who runs the pipeline, recorded with its epoch on the target ("host:pid"
  /// when empty).
  std::string owner;
  /// The pipeline runs under a lease (sync_lease) held as `owner`: its claim
  /// of the epoch fails unless `owner` is still the lease's holder.
  bool leased = false;
  /// Source heartbeat period: an idle source is noticed this often.
  std::chrono::milliseconds heartbeat{500};
  /// Hot-cache keys made stale by the source tables' changes
  /// (`hotkeys.invalidate_from`, cache_keys.hpp): a partition hands the keys of
  /// the rows of each target transaction to `invalidate` right before its
  /// commit and again after it, in commit order (the first send covers a crash
  /// between the commit and the second). A key that cannot be made (a column the
  /// table or the row image lacks, a type keys are not made from) stops the
  /// pipeline before that commit. Called from the partitions' threads.
  std::vector<invalidation_rule> invalidation_rules;
  std::function<void(const std::vector<std::string>& keys)> invalidate;
  /// The same for a DDL that changes a mapped table whole (TRUNCATE, DROP,
  /// ALTER, RENAME, or its database dropped): no row names the keys, so every
  /// key its templates can render is stale, given as the pieces of a
  /// hotkey::key_pattern (key_template::wildcard_pieces).
  std::function<void(const std::vector<std::vector<std::string>>& patterns)>
      invalidate_matching;
  /// Receives the pipeline's log lines (error: true for failures).
  std::function<void(bool error, const std::string& line)> log;
  /// Tests only: called at named points; returning true injects a fault there.
  /// "ddl_applied": the reader stops right after a DDL ran on the target, before
  /// its checkpoint (as a crash would). "commit_reply_lost": a partition treats
  /// a committed batch as if the connection broke before the reply came.
  /// "reader_exception" / "partition_exception": an unexpected exception in
  /// the reader (at an event) or a partition (at a batch).
  std::function<bool(const std::string& point)> fault;
};

struct partition_status {
  /// Key of the last change this partition committed to the target.
  change_key applied;
  uint64_t rows_applied = 0;
  uint64_t transactions = 0;
  /// Rows received and not yet committed.
  int64_t queued = 0;
};

/// Where a pipeline is in its life.
enum class pipeline_state { starting, snapshot, running, failed, stopped };

/// "starting", "snapshot", "running", "failed" or "stopped": how /status shows it.
const char* to_string(pipeline_state s);
std::ostream& operator<<(std::ostream& os, pipeline_state s);

struct pipeline_status {
  std::string name;
  pipeline_state state = pipeline_state::starting;
  /// pipeline_settings::whole_transactions ("apply": "transaction").
  bool whole_transactions = false;
  /// Why it failed: "FILE:POS: what" where the binlog was at fault.
  std::string error;
  /// It failed because another process claimed the pipeline since (a newer
  /// epoch): starting it here again would take it back from that one.
  bool claimed_elsewhere = false;
  /// End of the last event read from the source.
  binlog_position source;
  /// The server read from (host:port) and its @@server_id.
  std::string source_endpoint;
  uint64_t source_server_id = 0;
  /// The GTID of the last group read (MariaDB sources): where the pipeline is
  /// in the replication topology, whichever server it reads.
  mariadb_gtid gtid;
  /// Why the pipeline waits for a source: none answers, or none can take its
  /// checkpoints yet (empty: it does not wait).
  std::string waiting_for_source;
  /// Times the checkpoints moved to another server (source_switch.hpp).
  uint64_t source_switches = 0;
  /// End of the last event group handed on to the partitions.
  binlog_position handed_on;
  uint64_t rows_read = 0;
  uint64_t rows_applied = 0;
  /// Rows handed on and not yet applied.
  int64_t inflight = 0;
  /// Their size in memory (op_bytes), and the most it has been.
  int64_t inflight_bytes = 0;
  int64_t inflight_bytes_peak = 0;
  /// Seconds between now and the source time of the oldest unapplied change
  /// (0 when everything read is applied).
  double lag_seconds = 0;
  /// Rows applied per second over the last few seconds.
  double rows_per_second = 0;
  uint64_t reconnects = 0;
  /// Rows the initial snapshot has copied, and about how many it will copy (the
  /// source's row estimates), for progress.
  uint64_t snapshot_rows = 0;
  uint64_t snapshot_rows_expected = 0;
  /// The ownership epoch this run claimed on the target (0 before it did).
  uint64_t epoch = 0;
  /// Hot-cache keys handed to pipeline_settings::invalidate.
  uint64_t keys_invalidated = 0;
  /// DDL statements read but deliberately not applied (routines, triggers,
  /// events, accounts; see pipeline_settings::copy_routines), and the last one.
  uint64_t ddl_skipped = 0;
  std::string last_skipped_ddl;
  std::vector<partition_status> partitions;
};

class pipeline {
public:
  /// Spawns the pipeline's actors; returns at once (connecting, snapshot and
  /// catching up happen in the actors; see status()).
  static std::shared_ptr<pipeline> start(caf::actor_system& sys,
                                         pipeline_settings settings);

  ~pipeline();
  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;

  const std::string& name() const;

  pipeline_status status() const;

  /// Blocks until every partition has applied every change before `pos` (a
  /// source position such as SHOW MASTER STATUS gives); true then, false on
  /// timeout or when the pipeline failed or stopped first.
  bool wait_applied(const binlog_position& pos, std::chrono::milliseconds timeout) const;

  /// Blocks until every actor of the pipeline has ended (it failed, or stop()
  /// was called); true then, false on timeout.
  bool wait_ended(std::chrono::milliseconds timeout) const;

  /// Sends the actors an exit message and waits for them to end (at most as
  /// long as a target statement in progress takes). Idempotent. Uncommitted
  /// batches are dropped; the checkpoint covers them.
  void stop();

  struct shared;

private:
  pipeline(std::shared_ptr<shared> state, std::vector<caf::actor> actors);
  std::shared_ptr<shared> state_;
  /// The reader, then the partitions; emptied by stop().
  std::vector<caf::actor> actors_;
};

} // namespace shoal::binlog

// checkpoint: where each partition of a pipeline has applied up to, kept in a
// table on the target and written in the same transaction as the rows.
//
//   CREATE TABLE `shoal`.`sync_checkpoint` (
//     pipeline VARCHAR(128), partition_id INT,      -- primary key
//     file VARCHAR(255), pos BIGINT UNSIGNED, idx BIGINT UNSIGNED,
//     gtid VARCHAR(64),                            -- change_key::gtid
//     updated_at ...)
//   CREATE TABLE `shoal`.`sync_owner` (            -- one row per pipeline
//     pipeline VARCHAR(128) PRIMARY KEY, epoch BIGINT UNSIGNED, owner VARCHAR(255), ...)
//   CREATE TABLE `shoal`.`sync_ddl` (              -- a DDL under way, per pipeline
//     pipeline VARCHAR(128) PRIMARY KEY, file, pos, statement, before_state,
//     gtid, ...)
//
// A row (file, pos, idx) is the change_key of the partition's last applied
// change. On start the pipeline reads from the lowest position over all
// partitions, and each partition skips the changes at or below its own key.
//
// Fencing: a starting pipeline raises its row's epoch in sync_owner and keeps
// the new value; every transaction that writes a checkpoint first reads the
// epoch under a shared lock (owner_check_sql) and gives up if it moved. So a
// second process running the same pipeline, or an old one that hung and woke
// up, cannot commit once a newer one has started: the newest start wins.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "actors/binlog/decoder/binlog_position.hpp"
#include "runtime/adapters/mysql_connection.hpp"

namespace shoal::binlog {

/// Statements that create the checkpoint database and table if missing.
std::vector<std::string> checkpoint_schema_sql(const std::string& database);

/// Adds what later versions keep to tables an earlier one created (the gtid
/// columns); run after checkpoint_schema_sql.
mysql_expected<mysql_ok> upgrade_checkpoint_schema(mysql_connection& conn,
                                                   const std::string& database);

/// The statement that records `key` for one partition.
std::string checkpoint_store_sql(const std::string& database, const std::string& pipeline,
                                 uint32_t partition, const change_key& key);

/// The lowest key; nullopt when `keys` is empty or some partition has no key.
std::optional<change_key> lowest_key(const std::vector<std::optional<change_key>>& keys);

/// Where to resume reading: the lowest key's position. Nullopt when `keys` is
/// empty or some partition has no key.
std::optional<binlog_position>
resume_position(const std::vector<std::optional<change_key>>& keys);

/// The keys stored for `pipeline`, indexed by partition (`partitions` entries;
/// nullopt for a partition without a row). Fails with code 0 and a message
/// when the stored partition count differs from `partitions` and the stored keys
/// differ (see plan_checkpoints).
mysql_expected<std::vector<std::optional<change_key>>>
load_checkpoints(mysql_connection& conn, const std::string& database,
                 const std::string& pipeline, uint32_t partitions);

/// What the stored checkpoint rows mean for a pipeline with `partitions`
/// partitions. `stored` maps partition id -> key as read from the table.
struct checkpoint_plan {
  /// One key per partition; all nullopt for a first start.
  std::vector<std::optional<change_key>> keys;
  /// True when the stored rows were for another partition count and every
  /// stored key was the same, so each new partition starts there (the caller
  /// rewrites the rows before it applies anything).
  bool migrated = false;
  /// Non-empty when the rows cannot be used: why, and what to do.
  std::string error;
};

/// Rows move between partitions when their count changes (a row's partition is
/// its key's hash modulo the count), so per-partition keys only carry over
/// when they are all equal: then everything before that key is applied and
/// nothing after it. Otherwise the plan is an error that says how to get there.
checkpoint_plan
plan_checkpoints(const std::vector<std::pair<uint32_t, change_key>>& stored,
                 uint32_t partitions, const std::string& pipeline,
                 const std::string& database);

/// Statement that removes every partition row of `pipeline` (not its XA floor).
std::string checkpoint_clear_sql(const std::string& database,
                                 const std::string& pipeline);

// -- ownership ---------------------------------------------------------------

/// Raises the epoch of `pipeline` in sync_owner (creating the row at 1) with
/// `owner` as its holder, and returns the new epoch. Commits at once. With
/// `leased`, first locks the pipeline's sync_lease row and fails (code 0) unless
/// `owner` holds it: a process that lost the lease while it started cannot
/// fence the node that took it over.
mysql_expected<uint64_t> claim_pipeline(mysql_connection& conn,
                                        const std::string& database,
                                        const std::string& pipeline,
                                        const std::string& owner, bool leased = false);

/// Reads the pipeline's epoch and holder under a shared lock: run it first in a
/// transaction; the lock keeps a newer claim from committing until this one ends.
std::string owner_check_sql(const std::string& database, const std::string& pipeline);

/// owner_check_sql as one statement that fails by itself (error 1644,
/// SQLSTATE 45000, owner_fence_message) unless the epoch is still `epoch`, so
/// the statements sent after it in the same text, COMMIT included, never run
/// for a fenced process.
std::string owner_fence_sql(const std::string& database, const std::string& pipeline,
                            uint64_t epoch);

/// The message of owner_fence_sql's error.
inline constexpr const char* owner_fence_message =
    "shoal: pipeline claimed by another process";

// -- the writer lock --------------------------------------------------------
//
// DDL and the snapshot's copy cannot run inside a fenced transaction (each
// statement commits by itself), so the owner check before them would leave a
// window: a process frozen between its check and the statement runs it after
// another node took over. They run instead under a named lock of the target
// (GET_LOCK, held by the session across commits), taken before the owner
// check; a new owner, right after its claim, ends the session holding that
// lock (KILL CONNECTION) and takes the lock once. From then on an old owner
// either was killed (its statement never ran, or it ran before the new owner
// looked at the target) or finds the new epoch under the lock and stops.

/// The lock's name: "shoal-writer:" + checkpoint database + "." + pipeline,
/// or that prefix and a hash of both when longer than GET_LOCK's 64 characters.
std::string writer_lock_name(const std::string& database, const std::string& pipeline);

/// Takes the writer lock on `conn`, waiting up to `wait`; an error names the
/// session that kept it.
mysql_expected<mysql_ok> take_writer_lock(mysql_connection& conn, const std::string& name,
                                          std::chrono::seconds wait);

/// Releases it (a session that ends releases it too).
mysql_expected<mysql_ok> release_writer_lock(mysql_connection& conn,
                                             const std::string& name);

/// For a new owner, after its claim: kills the session that holds the writer
/// lock (an older owner's), then takes the lock and releases it, so whatever
/// that session ran has ended. All of it under a shared lock on the owner row,
/// after checking that `epoch` is still the pipeline's: an error with
/// owner_fence_message otherwise (this process lost the pipeline meanwhile and
/// must not touch the new owner's sessions). Returns how many sessions it
/// killed. Needs the right to kill them: the same user, or CONNECTION ADMIN.
mysql_expected<uint64_t> evict_older_writers(mysql_connection& conn,
                                             const std::string& database,
                                             const std::string& pipeline, uint64_t epoch,
                                             std::chrono::seconds wait);

// -- the ownership lease -------------------------------------------------------
//
// A pipeline that several nodes may run (`nodes` in its config) is run by the
// holder of its lease, a row of `sync_lease` on the target:
//
//   CREATE TABLE `shoal`.`sync_lease` (pipeline VARCHAR(128) PRIMARY KEY,
//     holder VARCHAR(255), node VARCHAR(255), expires_at DATETIME(6))
//
// Times are the target's clock in UTC (UTC_TIMESTAMP(6), whatever a session's
// time_zone), so the nodes' clocks and daylight saving do not matter.
// The holder renews it; another node takes it only once it has expired. The
// lease only decides who starts the pipeline: what keeps an old holder from
// writing after a takeover is the epoch (claim_pipeline, owner_fence_sql),
// which the new holder's pipeline raises before it reads a checkpoint.

/// What sync_lease says about one pipeline, by the target's clock.
struct lease_view {
  /// False: no row (no node ever held it).
  bool exists = false;
  std::string holder;
  std::string node;
  /// The lease has not expired.
  bool live = false;
  /// Milliseconds until it expires (negative: since it expired).
  int64_t remaining_ms = 0;
  /// The pipeline's epoch in sync_owner (0: never claimed).
  uint64_t epoch = 0;
  /// An operator paused the pipeline (set_paused): the node it was asked on
  /// ("" when it runs).
  std::string paused_by;
};

/// The pipeline's lease and epoch (the tables must exist: checkpoint_schema_sql).
mysql_expected<lease_view> read_lease(mysql_connection& conn, const std::string& database,
                                      const std::string& pipeline);

/// Takes the lease for `lease` from now when it is free (no row, expired) or
/// already `holder`'s; true when `holder` has it now.
mysql_expected<bool> acquire_lease(mysql_connection& conn, const std::string& database,
                                   const std::string& pipeline, const std::string& holder,
                                   const std::string& node,
                                   std::chrono::milliseconds lease);

/// Extends `holder`'s lease to `lease` from now; false when it is not
/// `holder`'s any more (taken over after it expired).
mysql_expected<bool> renew_lease(mysql_connection& conn, const std::string& database,
                                 const std::string& pipeline, const std::string& holder,
                                 std::chrono::milliseconds lease);

/// Ends `holder`'s lease now, so that a standby takes over at its next look
/// instead of after the lease; nothing when `holder` does not hold it.
mysql_expected<uint64_t> release_lease(mysql_connection& conn,
                                       const std::string& database,
                                       const std::string& pipeline,
                                       const std::string& holder);

/// Pauses (a row in `sync_pause`, naming the node that was asked) or resumes
/// the pipeline for every node that may run it: the lease's holder stops or
/// starts it at its next look, and a node that takes the lease over later
/// keeps it paused. True when it changed something (false: it was already so).
mysql_expected<bool> set_paused(mysql_connection& conn, const std::string& database,
                                const std::string& pipeline, bool paused,
                                const std::string& node);

// -- DDL in progress -----------------------------------------------------------
//
// DDL is not transactional: a crash between the DDL and the checkpoint after it
// would run it again on restart (a renamed column gone, an unnamed index added
// twice). Before running a DDL the pipeline records where it is and the state
// of what it touches (ddl_intent); on restart, meeting the DDL at that
// position, it compares that state with the target's: changed means applied.

struct ddl_intent {
  /// Where the DDL's event starts.
  binlog_position at;
  std::string statement;
  /// The touched objects' definitions before the DDL, as the pipeline renders them.
  std::string before_state;
  /// The GTID of the DDL's group (empty when the source gave none).
  mariadb_gtid gtid;
};

std::string ddl_intent_store_sql(const std::string& database, const std::string& pipeline,
                                 const ddl_intent& intent);

std::string ddl_intent_clear_sql(const std::string& database,
                                 const std::string& pipeline);

mysql_expected<std::optional<ddl_intent>> load_ddl_intent(mysql_connection& conn,
                                                          const std::string& database,
                                                          const std::string& pipeline);

// -- the XA floor ----------------------------------------------------------
//
// A prepared XA transaction's rows are held by the reader until its XA COMMIT,
// which may come long after partitions have checkpointed later changes. The
// floor row (partition_id -1) holds where the earliest such transaction's
// XA PREPARE begins until its commit is applied everywhere; resuming reads from
// there at the latest, so the held rows are read again after a crash.

/// partition_id of the floor row.
inline constexpr int xa_floor_partition = -1;

/// Records `at` as the pipeline's XA floor.
std::string xa_floor_store_sql(const std::string& database, const std::string& pipeline,
                               const binlog_position& at);

/// Removes the pipeline's XA floor (no XA transaction pending).
std::string xa_floor_clear_sql(const std::string& database, const std::string& pipeline);

/// The pipeline's XA floor; nullopt when none is stored.
mysql_expected<std::optional<binlog_position>> load_xa_floor(mysql_connection& conn,
                                                             const std::string& database,
                                                             const std::string& pipeline);

// -- rounds ("apply": "transaction") -----------------------------------------
//
// In transaction mode the reader hands on whole source transactions in
// rounds: every partition's checkpoint moves from the round's start to its
// end, but each partition commits only the transactions it was given. A
// crash can leave some partitions at the end and others at the start; the
// ones at the end say, in their sync_round row (written in the same
// transaction as their checkpoint), which groups of the round they committed,
// by ordinal (the n-th group to end after the round's start). Resuming reads
// the round again and applies only the other groups.
//
//   CREATE TABLE `shoal`.`sync_round` (
//     pipeline VARCHAR(128), partition_id INT,      -- primary key
//     epoch BIGINT UNSIGNED, round_id BIGINT UNSIGNED,  -- who wrote it
//     file VARCHAR(255), pos BIGINT UNSIGNED,       -- the round's end
//     done_groups LONGBLOB, ...)                    -- encode_groups

struct round_record {
  uint32_t partition = 0;
  uint64_t epoch = 0;
  uint64_t round = 0;
  binlog_position end;
  std::string groups;
};

/// The statement that stores `records` (partition, encoded groups) for the
/// round `round` of `epoch` that ends at `end`.
std::string round_store_sql(const std::string& database, const std::string& pipeline,
                            uint64_t epoch, uint64_t round, const binlog_position& end,
                            const std::vector<std::pair<uint32_t, std::string>>& records);

/// Every sync_round row of `pipeline`.
mysql_expected<std::vector<round_record>> load_rounds(mysql_connection& conn,
                                                      const std::string& database,
                                                      const std::string& pipeline);

// -- the source --------------------------------------------------------------
//
// Checkpoint positions are a file and an offset of one server's binlog. The
// server they belong to is recorded beside them, so that a pipeline started
// against another server (the source's config changed, or a candidate after
// a failover) translates them by GTID first (source_switch.hpp) instead of
// reading that server's binlog at positions that mean something else there.
//
//   CREATE TABLE `shoal`.`sync_source` (pipeline VARCHAR(128) PRIMARY KEY,
//     server_id BIGINT UNSIGNED, endpoint VARCHAR(255), updated_at ...)

struct source_identity {
  /// @@server_id: unique among the servers of one replication topology.
  uint64_t server_id = 0;
  /// host:port, for messages.
  std::string endpoint;
};

std::string source_store_sql(const std::string& database, const std::string& pipeline,
                             const source_identity& source);

/// The source the checkpoints belong to; nullopt when none is recorded (a
/// first start, or checkpoints written before this was recorded).
mysql_expected<std::optional<source_identity>> load_source(mysql_connection& conn,
                                                           const std::string& database,
                                                           const std::string& pipeline);

} // namespace shoal::binlog

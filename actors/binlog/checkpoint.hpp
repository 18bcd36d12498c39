// checkpoint: where each partition of a pipeline has applied up to, kept in a
// table on the target and written in the same transaction as the rows.
//
//   CREATE TABLE `shoal`.`sync_checkpoint` (
//     pipeline VARCHAR(128), partition_id INT,      -- primary key
//     file VARCHAR(255), pos BIGINT UNSIGNED, idx BIGINT UNSIGNED, updated_at ...)
//
// A row (file, pos, idx) is the change_key of the partition's last applied
// change. On start the pipeline reads from the lowest position over all
// partitions, and each partition skips the changes at or below its own key.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "actors/binlog/binlog_position.hpp"
#include "runtime/adapters/mysql_connection.hpp"

namespace shoal::binlog {

/// Statements that create the checkpoint database and table if missing.
std::vector<std::string> checkpoint_schema_sql(const std::string& database);

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
/// when the table holds partitions beyond `partitions` (the partition count
/// changed, which would move rows between partitions).
mysql_expected<std::vector<std::optional<change_key>>>
load_checkpoints(mysql_connection& conn, const std::string& database,
                 const std::string& pipeline, uint32_t partitions);

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
mysql_expected<std::optional<binlog_position>>
load_xa_floor(mysql_connection& conn, const std::string& database,
              const std::string& pipeline);

} // namespace shoal::binlog

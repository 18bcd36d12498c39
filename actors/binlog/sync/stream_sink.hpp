// stream_sink: the back end of a pipeline whose target is a change stream
// (target_kind::redis_stream). Partitions turn their row ops into change
// events (change_event.hpp) and append them with their position to Redis
// streams (redis_stream.hpp), one script per batch; the reader appends DDL
// events and key-changing updates the same way under a slot of its own.
//
//   auto sink = stream_sink::make(settings);            // or an error naming the template
//   auto entries = sink->entries(ops, partition, server_id);
//   std::string why;
//   auto r = sink->append(partition, epoch, ops.back().key, *entries, waiter, why);
//
// Each stream entry carries the change's stable id ("file:pos:index": the
// start of its source transaction and the change's index in it), so a consumer
// that reads an entry twice drops the second. A batch and its partition's
// position land in one script, so Redis holds a batch whole or not at all, and
// never twice: the pipeline resumes from the positions Redis holds (claim()).
// Ordering: a row's changes go to one partition (by key) and each partition
// appends in binlog order, so a row's events are in order in its stream.
// One stream_sink per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/binlog/sync/cache_keys.hpp"
#include "actors/binlog/sync/pipeline.hpp"
#include "actors/binlog/sync/redis_stream.hpp"
#include "messages/binlog_row.hpp"
#include "runtime/adapters/kafka_producer.hpp"
#include "runtime/base/expected.hpp"

namespace shoal::binlog {

/// The names a stream key template may use.
struct stream_names {
  std::string pipeline;
  std::string db;
  std::string table;
  uint32_t partition = 0;
};

/// Checks a stream key template ({pipeline}, {db}, {table}, {partition}); the
/// error says what is wrong and where.
expected<key_template, std::string> parse_stream_template(const std::string& text);

/// A template rendered with `names`.
std::string render_stream_key(const key_template& t, const stream_names& names);

/// The change id of entries: "file:pos:index".
std::string change_id(const change_key& key);

class stream_sink {
public:
  static expected<stream_sink, std::string> make(const pipeline_settings& settings);

  /// The entries of `ops` of partition `partition`, marks left out; an error
  /// names the table, the column and the change.
  expected<std::vector<stream_entry>, std::string>
  entries(const std::vector<row_op>& ops, uint32_t partition, uint32_t server_id) const;

  /// A key-changing UPDATE (the delete_ op of its old key, the upsert of its new
  /// one): one update event in a Redis stream (the new key's partition's); for
  /// Kafka, whose messages go to partitions by key, a delete of the old key and
  /// an insert of the new one, as Debezium sends them.
  expected<std::vector<stream_entry>, std::string> move_entries(const row_op& removed,
                                                                const row_op& added,
                                                                uint32_t partition,
                                                                uint32_t server_id) const;

  /// A DDL statement's event, for the schema stream and the streams of the
  /// tables it names (`tables`: source names; every partition's stream when
  /// the template has {partition}). Kafka: the schema topic only (a table's
  /// topic has several partitions, none of which orders it against all rows).
  std::vector<stream_entry>
  ddl_entries(const std::string& statement, const std::string& db,
              const std::vector<std::pair<std::string, std::string>>& tables,
              const change_key& at, uint32_t partitions, uint32_t server_id) const;

  enum class sent { appended, fenced, failed };

  /// Appends `entries` and moves slot `slot`'s position to `end` (a partition's
  /// number, or "r" for the reader), in one script,
  /// exactly once. While Redis cannot be reached it waits: `wait(d)` pauses d
  /// and returns false when the pipeline stops (failed then). After a
  /// reconnect, a position behind what this sink appended means Redis lost
  /// acknowledged entries (it restarted without persisting them): failed,
  /// saying so, since the pipeline must read them again from the positions
  /// Redis holds. `error` says why for fenced and failed.
  /// `wait(d, why)` is told why it waits.
  using waiter = std::function<bool(std::chrono::milliseconds, const std::string& why)>;
  sent append(const std::string& slot, uint64_t epoch, const change_key& end,
              const std::vector<stream_entry>& entries, const waiter& wait,
              std::string& error);

  /// Claims the checkpoint hash for `epoch` (redis_stream_writer::claim),
  /// waiting while Redis cannot be reached; nullopt with `error` set when a
  /// newer epoch holds it, a server error came, or the pipeline stops.
  std::optional<stream_claim> claim(uint64_t epoch, const waiter& wait,
                                    std::string& error);

  /// kafka: sends `entries` until the brokers acknowledged every one, waiting
  /// (`wait`) and sending the batch again whole after a failure (consumers
  /// drop repeats by id); false with `error` when the pipeline stops or the
  /// producer cannot be made. `alive` is asked while delivery reports are
  /// awaited: false gives up.
  bool deliver(const std::vector<stream_entry>& entries,
               const std::function<bool()>& alive, const waiter& wait,
               std::string& error);

  /// "redis host:port" or "kafka brokers".
  std::string endpoint() const {
    return kafka_target_ ? "kafka " + config_.kafka_brokers
                         : "redis " + config_.redis.endpoint();
  }

private:
  stream_sink(const pipeline_settings& settings, key_template stream, key_template schema,
              std::string checkpoint);

  stream_names names_of(const table_schema& t, uint32_t partition) const;
  /// The entry of one event (its message key for Kafka).
  stream_entry entry(std::string stream, const change_key& at, std::string event,
                     const table_schema& t) const;
  /// Connects when there is no connection yet; false with `error` while
  /// Redis cannot be reached.
  bool connected(std::string& error);

  std::string pipeline_;
  stream_target config_;
  table_filter filter_;
  key_template stream_;
  key_template schema_;
  redis_stream_writer writer_;
  std::optional<redis_connection> conn_;
  bool kafka_target_ = false;
  std::unique_ptr<kafka_producer> kafka_;
  /// The sortable position of each slot's last append from here.
  std::map<std::string, std::string> appended_;
};

} // namespace shoal::binlog

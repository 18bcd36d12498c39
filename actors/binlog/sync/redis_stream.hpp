// redis_stream: one partition's change events (change_event.hpp) appended to
// Redis streams together with the partition's checkpoint, in one Lua script, so
// Redis holds either the whole batch and the checkpoint after it, or neither (a
// key of another type is found before anything is written; Redis refuses a
// script over maxmemory at its first write).
//
//   redis_stream_writer w{"shop:{shoal}:checkpoint", 100000};
//   auto r = w.append(conn, partition, epoch, batch_end,
//                     {{"shop:{shoal}:sku", "binlog.000003:4711:2", event_json}, ...});
//   // appended; already_there (a retry after a lost reply: nothing added twice);
//   // fenced (a writer with a newer epoch has written: this one must stop)
//   auto at = w.checkpoint(conn, partition);   // where to resume reading
//
// Each entry is `XADD stream MAXLEN ~ maxlen * id <change id> event <json>`: the
// change id (file:position:row) is stable across retries and restarts, so a
// consumer that sees an entry twice (it read, crashed and read again) drops it
// by id. Entries of one batch keep their order; a partition's batches are
// appended in binlog order, so each row's changes are in order in its stream.
// The checkpoint hash holds per partition the sortable form of the last change
// appended (sortable_key) and the newest writer epoch; a batch whose end is not
// past the partition's checkpoint is not appended again. In a Redis Cluster
// every key of one writer must hash to one slot: give them one hash tag, as in
// "{shoal}" above.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/binlog/decoder/binlog_position.hpp"
#include "runtime/adapters/redis_connection.hpp"

namespace shoal::binlog {

/// A change key as text that sorts as the key does, within one server's binlog:
/// the file's numeric extension and the position zero-padded, then the index.
std::string sortable_key(const change_key& key);

struct stream_entry {
  /// The stream (a Kafka topic for a kafka target).
  std::string stream;
  /// The change's stable id (file:position:row).
  std::string id;
  std::string event;
  /// kafka: the message key, `db.table` and the row's key as JSON.
  std::string key = {};
};

enum class append_outcome { appended, already_there, fenced };

/// A change key as the checkpoint hash keeps it beside the sortable form
/// ("file<TAB>pos<TAB>index<TAB>gtid"), and back; nullopt for other text.
std::string key_text(const change_key& key);
std::optional<change_key> parse_key_text(const std::string& text);

/// What a writer finds when it claims the checkpoint hash (claim()).
struct stream_claim {
  /// The hash existed: this Redis holds the state of an earlier run.
  bool existed = false;
  /// Each partition's last appended change (slots named by a number).
  std::map<uint32_t, change_key> positions;
};

class redis_stream_writer {
public:
  /// `maxlen`: each stream is trimmed to about this many entries (MAXLEN ~); 0
  /// keeps every entry.
  redis_stream_writer(std::string checkpoint_key, uint64_t maxlen)
      : checkpoint_key_(std::move(checkpoint_key)), maxlen_(maxlen) {}

  /// Appends `entries` in order and moves slot `slot`'s checkpoint to `end`, as
  /// one script; nothing when the checkpoint is already at or past `end`, or a
  /// writer of a newer epoch has written. A server error reply (a key of another
  /// type, a cluster slot error, OOM) is a redis_error carrying its message.
  redis_expected<append_outcome> append(redis_connection& conn, const std::string& slot,
                                        uint64_t epoch, const change_key& end,
                                        const std::vector<stream_entry>& entries);

  /// Records `epoch` as the newest writer's, so that an older one's appends are
  /// fenced from here on, and returns what the hash holds; nullopt when a
  /// newer epoch holds it already.
  redis_expected<std::optional<stream_claim>> claim(redis_connection& conn,
                                                    uint64_t epoch);

  /// The slot's checkpoint (sortable_key form), nullopt when none. A slot is a
  /// partition's number, or another name for another writer of the pipeline.
  redis_expected<std::optional<std::string>> checkpoint(redis_connection& conn,
                                                        const std::string& slot);

private:
  std::string checkpoint_key_;
  uint64_t maxlen_;
};

} // namespace shoal::binlog

// shoal's decoder of MySQL and MariaDB binary log events (binlog format v4).
//
// Feed it each event's bytes in order (from a file, see binlog_file_reader, or from a
// replication stream); it returns a typed `binlog_event` or a `decode_error` naming
// the offset, event type and column. It keeps the state events depend on: the
// FORMAT_DESCRIPTION (header and post-header lengths, checksum algorithm) and the
// TABLE_MAPs that rows events refer to. Not thread-safe; one decoder per stream.
//
// Wire format of one event (all integers little-endian):
//
//   +-----------+------+-----------+------------+---------+-------+
//   | timestamp | type | server_id | event_size | log_pos | flags |   common header,
//   |    u32    |  u8  |    u32    |    u32     |   u32   |  u16  |   19 bytes (v4)
//   +-----------+------+-----------+------------+---------+-------+
//   | post-header: fixed fields, length per type from FORMAT_DESCRIPTION |
//   +--------------------------------------------------------------------+
//   | body: variable part, up to the checksum                            |
//   +--------------------------------------------------------------------+
//   | CRC32 of every byte above (u32), only if checksums are on          |
//   +--------------------------------------------------------------------+
//   event_size counts all of it; log_pos is the offset just past the event.
//
// A binlog file is the magic "\xfe" "bin" followed by events back to back; the first
// event is FORMAT_DESCRIPTION:
//
//   +----------------+-----------------+--------------+---------------+
//   | binlog_version | server_version  | create time  | header length |
//   | u16 (= 4)      | 50 bytes, NUL-  | u32          | u8 (= 19)     |
//   |                | padded          |              |               |
//   +----------------+-----------------+--------------+---------------+
//   | post-header length of event type 1, 2, ... (one u8 each)        |
//   +-----------------------------------------------------------------+
//   | checksum algorithm u8 (0 off, 1 CRC32) + CRC32 u32: present when |
//   | the server is checksum-aware (MySQL >= 5.6.1, MariaDB >= 5.3)    |
//   +-----------------------------------------------------------------+
//
// Other bodies (post-header | body):
//   QUERY       thread u32, exec time u32, db len u8, error u16, status len u16 |
//               status vars, db, \0, statement
//   ROTATE      position u64 | next file name
//   XID         xid u64
//   XA_PREPARE (38; MySQL 5.7.7+, MariaDB 10.5+)  no post-header |
//               one phase u8, format id u32, gtrid len u32 (0..64), bqual len u32
//               (0..64), gtrid bytes, bqual bytes
//               It ends the group of XA START xid / rows / XA END xid (MySQL writes
//               XA START as a QUERY; MariaDB puts the xid in the GTID event instead).
//               XA COMMIT xid / XA ROLLBACK xid follow later as a QUERY in a group of
//               their own; with one phase set the group is XA COMMIT ... ONE PHASE
//               and commits here. The statements spell the xid X'gtrid hex',X'bqual
//               hex',format id: lowercase hex, decimal format id, no blanks.
//   GTID (MariaDB 162)       seq u64, domain u32, flags u8, [commit id u64 if flag 2]
//   GTID_LOG (MySQL 33/34)   flags u8, uuid 16 bytes, gno u64, [2, last committed
//                            u64, sequence number u64]
//   GTID_LIST   count u32 (low 28 bits), count x (domain u32, server u32, seq u64)
//   BINLOG_CHECKPOINT        name len u32, name
//   ANNOTATE_ROWS / HEARTBEAT  statement / file name (log_pos = position)
//   TABLE_MAP   see table_map.hpp;  WRITE/UPDATE/DELETE_ROWS: see row_decoder.hpp
//   MariaDB compressed QUERY/ROWS: the statement / the row data is replaced by
//               header u8 (0x80 | width of length), length (big-endian), zlib data.
//   TRANSACTION_PAYLOAD (MySQL 40, binlog_transaction_compression=ON)  no
//               post-header | fields, each a packed type, packed length and packed
//               value: 1 payload size, 2 compression (0 zstd, 255 none),
//               3 uncompressed size; type 0 ends them | the payload: the
//               transaction's events (QUERY BEGIN, TABLE_MAPs, rows, XID) back to
//               back, each with its common header, log_pos 0 and no checksum. The
//               transaction's GTID event comes before it, outside.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "actors/binlog/decoder/binlog_position.hpp"
#include "actors/binlog/decoder/decode_error.hpp"
#include "actors/binlog/decoder/event_type.hpp"
#include "actors/binlog/decoder/row_decoder.hpp"
#include "actors/binlog/decoder/table_map.hpp"

namespace shoal::binlog {

/// Length of the v4 common header.
constexpr size_t event_header_length = 19;

/// The 4 magic bytes that open a binlog file.
constexpr std::string_view binlog_magic{"\xfe"
                                        "bin",
                                        4};

/// The common header every v4 event starts with.
struct event_header {
  uint32_t timestamp = 0;
  uint8_t type = 0;
  uint32_t server_id = 0;
  /// Size of the whole event, header and checksum included.
  uint32_t event_size = 0;
  /// Offset just past this event in the source's binlog (0 for artificial events).
  uint32_t log_pos = 0;
  uint16_t flags = 0;
};

/// Checksum algorithm announced by FORMAT_DESCRIPTION.
enum class checksum_algorithm : uint8_t { off = 0, crc32 = 1 };

struct format_description_event {
  uint16_t binlog_version = 0;
  std::string server_version;
  uint32_t create_timestamp = 0;
  uint8_t header_length = 0;
  /// post_header_lengths[t - 1] is the post-header length of event type t.
  std::vector<uint8_t> post_header_lengths;
  checksum_algorithm checksum = checksum_algorithm::off;
};

struct rotate_event {
  uint64_t position = 0;
  std::string next_file;
};

struct xid_event {
  uint64_t xid = 0;
};

/// XA_PREPARE_LOG_EVENT: the transaction opened by XA START xid is prepared (or, with
/// `one_phase`, committed) with the rows since then.
struct xa_prepare_event {
  /// True for XA COMMIT ... ONE PHASE: the transaction commits here, no XA COMMIT
  /// follows.
  bool one_phase = false;
  uint32_t format_id = 0;
  /// Global transaction id: raw bytes, at most 64.
  std::string gtrid;
  /// Branch qualifier: raw bytes, at most 64.
  std::string bqual;

  /// The xid as the server spells it in the XA statements of the binlog ("XA END
  /// X'6731',X'6231',7", "XA COMMIT X'6731',X'6231',7"): X'6731',X'6231',7.
  std::string xid() const;
};

/// What a QUERY event's statement does, for the router's barriers.
enum class query_kind : uint8_t {
  begin,     // BEGIN / START TRANSACTION / XA START
  commit,    // COMMIT / XA COMMIT / XA END / XA PREPARE
  rollback,  // ROLLBACK / XA ROLLBACK (not ROLLBACK TO SAVEPOINT)
  savepoint, // SAVEPOINT, ROLLBACK TO, RELEASE SAVEPOINT
  dml,       // INSERT, UPDATE, DELETE, REPLACE, LOAD (statement-based changes)
  ddl,       // CREATE, ALTER, DROP, RENAME, TRUNCATE
  other,     // anything else (GRANT, SET, FLUSH, ANALYZE, ...)
};

/// Classifies a statement; skips leading blanks and /* comments */.
query_kind classify_query(std::string_view statement);

struct query_event {
  uint32_t thread_id = 0;
  uint32_t exec_time = 0;
  uint16_t error_code = 0;
  /// The default database at the time of the statement (may be empty).
  std::string schema;
  std::string statement;
  query_kind kind = query_kind::other;
};

/// MariaDB GTID_EVENT: opens an event group (transaction or standalone statement).
struct mariadb_gtid_event {
  mariadb_gtid gtid;
  /// FL_* flags: 1 standalone, 2 group commit id, 4 transactional, 8 allow parallel,
  /// 16 waited, 32 DDL, 64 prepared XA, 128 completed XA.
  uint8_t flags = 0;
  std::optional<uint64_t> commit_id;

  /// True when the group is one statement with no BEGIN/COMMIT (DDL, non-transactional).
  bool standalone() const noexcept { return (flags & 1) != 0; }
  bool transactional() const noexcept { return (flags & 4) != 0; }
  bool ddl() const noexcept { return (flags & 32) != 0; }
};

/// MySQL GTID_LOG_EVENT (uuid:gno) or ANONYMOUS_GTID_LOG_EVENT. Fields after `gno`
/// came with later server versions; each is empty when the event ends before it.
///
///   flags:u8 sid:16 gno:i64
///   [lt_type:u8 (2) last_committed:i64 sequence_number:i64]       5.7.6
///   [immediate_commit_timestamp:u56, top bit: original follows      8.0.1
///    original_commit_timestamp:u56]
///   [transaction_length:packed]                                     8.0.2
///   [immediate_server_version:u32, top bit: original follows       8.0.14
///    original_server_version:u32]
///   [commit_group_ticket:u64]                                       8.0.33
struct mysql_gtid_event {
  bool anonymous = false;
  /// Bit 0: the transaction may commit in parallel with others (may_have_sbr_stmts
  /// cleared).
  uint8_t flags = 0;
  std::array<uint8_t, 16> sid{};
  int64_t gno = 0;
  std::optional<int64_t> last_committed;
  std::optional<int64_t> sequence_number;
  /// Microseconds since the epoch when this server committed the transaction, and
  /// when its originating server did (equal on the original server).
  std::optional<uint64_t> immediate_commit_timestamp;
  std::optional<uint64_t> original_commit_timestamp;
  /// Bytes of the whole transaction in the binlog, this event included.
  std::optional<uint64_t> transaction_length;
  /// Server versions as 80040 for 8.0.40, of this server and the originating one.
  std::optional<uint32_t> immediate_server_version;
  std::optional<uint32_t> original_server_version;
  std::optional<uint64_t> commit_group_ticket;

  /// "3e11fa47-71ca-11e1-9e33-c80aa9429562".
  std::string uuid() const { return uuid_text(sid.data()); }
  /// "3e11fa47-71ca-11e1-9e33-c80aa9429562:23".
  std::string to_string() const;
};

/// MySQL PREVIOUS_GTIDS_LOG_EVENT: every GTID in the binlog files before this one.
///
///   n_sids:u64 { sid:16 n_intervals:u64 { start:i64 end:i64 (excluded) }* }*
struct previous_gtids_event {
  mysql_gtid_set gtids;
};

/// MariaDB GTID_LIST: the binlog state at the start of a file.
struct gtid_list_event {
  std::vector<mariadb_gtid> gtids;
};

/// MariaDB BINLOG_CHECKPOINT: oldest file still needed for crash recovery.
struct binlog_checkpoint_event {
  std::string file;
};

/// MariaDB ANNOTATE_ROWS: the statement that produced the following rows events.
struct annotate_rows_event {
  std::string statement;
};

/// HEARTBEAT: the source is alive; its position is the header's log_pos.
struct heartbeat_event {
  std::string file;
};

/// INCIDENT: the source lost events (e.g. a non-transactional failure); a replica
/// must stop here.
struct incident_event {
  uint16_t number = 0;
  std::string message;
};

struct table_map_event {
  std::shared_ptr<const table_map> table;
};

struct stop_event {};
struct binlog_event;
/// TRANSACTION_PAYLOAD: the events of one transaction, decoded in order (their
/// TABLE_MAPs update the decoder's state as any other). Each keeps its own header
/// (log_pos 0) and carries the payload event's offset.
struct transaction_payload_event {
  /// 0 zstd, 255 none.
  uint8_t compression = 0;
  uint64_t uncompressed_size = 0;
  std::vector<binlog_event> events;
};

/// Events the decoder frames and checks but does not interpret (INTVAR, RAND,
/// USER_VAR, ROWS_QUERY, TRANSACTION_CONTEXT, ignorable ones). None
/// of them carries row data.
struct other_event {
  /// The bytes after the common header, checksum excluded.
  std::string body;
};

using event_body =
    std::variant<format_description_event, rotate_event, xid_event, xa_prepare_event,
                 query_event, mariadb_gtid_event, mysql_gtid_event, gtid_list_event,
                 binlog_checkpoint_event, annotate_rows_event, heartbeat_event,
                 incident_event, table_map_event, rows_event, stop_event, other_event,
                 transaction_payload_event, previous_gtids_event>;

/// One decoded event and where it was.
struct binlog_event {
  event_header header;
  /// Offset of the event's first byte in its file or stream.
  uint64_t offset = 0;
  event_body body;
};

/// Decoder options.
struct decoder_options {
  /// Verify CRC32 checksums when FORMAT_DESCRIPTION says they are on.
  bool verify_checksums = true;
  /// Fail rows events on columns the decoder cannot read right without the schema:
  /// integer columns whose signedness, and STRING (CHAR/BINARY) columns whose
  /// binary-ness, neither the TABLE_MAP's metadata nor the schema lookup gives. When
  /// false such integers decode as signed and such strings as written (a BINARY value
  /// without its trailing 0x00 bytes), as mariadb-binlog prints them.
  bool require_column_details = false;
};

class event_decoder {
public:
  explicit event_decoder(decoder_options options = {});

  // -- configuration ---------------------------------------------------------

  /// Names the file or stream in error messages.
  void set_source(std::string name) { source_ = std::move(name); }

  /// Supplies column signedness and binary-ness for tables whose TABLE_MAP has no
  /// optional metadata. Called on rows events whose table needs it, each time.
  void set_schema_lookup(schema_lookup lookup) { lookup_ = std::move(lookup); }

  /// Sets the checksum algorithm before any FORMAT_DESCRIPTION was seen (a
  /// replication stream starts with a fake ROTATE whose checksum the reader knows
  /// from @master_binlog_checksum).
  void set_checksum(checksum_algorithm alg) { checksum_ = alg; }

  // -- decoding --------------------------------------------------------------

  /// Reads the common header from the first 19 bytes of `bytes`.
  static decode_result<event_header> read_header(std::string_view bytes,
                                                 uint64_t offset = 0);

  /// Decodes one whole event (`event.size()` must equal its header's event_size)
  /// found at `offset`. Never reads outside `event`; errors carry the offset.
  decode_result<binlog_event> decode(std::string_view event, uint64_t offset);

  // -- state -----------------------------------------------------------------

  /// The checksum algorithm in force.
  checksum_algorithm checksum() const noexcept { return checksum_; }

  /// The last FORMAT_DESCRIPTION seen, if any.
  const std::optional<format_description_event>& format() const noexcept {
    return format_;
  }

  /// The table a TABLE_MAP mapped to `table_id`, or nullptr.
  std::shared_ptr<const table_map> table(uint64_t table_id) const;

private:
  uint8_t post_header_length(uint8_t type) const;
  decode_result<event_body> decode_body(const event_header& header,
                                        std::string_view body);
  decode_result<event_body> decode_format_description(std::string_view event);
  decode_result<event_body> decode_query(uint8_t type, std::string_view body);
  decode_result<event_body> decode_rows_event(uint8_t type, std::string_view body);
  decode_result<event_body> decode_transaction_payload(std::string_view body,
                                                       uint64_t offset);
  column_hints column_details(const table_map& table, std::string& missing) const;

  decoder_options options_;
  std::string source_;
  schema_lookup lookup_;
  checksum_algorithm checksum_ = checksum_algorithm::off;
  std::optional<format_description_event> format_;
  // invariant: holds the latest TABLE_MAP per table id since the last FORMAT_DESCRIPTION
  std::unordered_map<uint64_t, std::shared_ptr<const table_map>> tables_;
};

} // namespace shoal::binlog

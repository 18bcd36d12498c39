// binlog_stream: the replication connection to a source, over Connector/C's
// replication API (mariadb_rpl_open / mariadb_rpl_fetch) used as a transport
// only. It hands out each event's raw bytes; shoal's event_decoder decodes them.
//
//   auto s = binlog_stream::open(cfg, server_id, {"bin.000001", 4});
//   while (auto ev = s->next()) use(*ev);   // bytes of one whole event
//
// Before asking for the dump it sets @master_binlog_checksum (so the server
// keeps CRC32s on the events, verified by the decoder), @mariadb_slave_capability
// (GTID events) and @master_heartbeat_period (a HEARTBEAT when the source is idle,
// so a dead connection is noticed within the read timeout). Blocking; one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/adapters/mysql_connection.hpp"

struct st_mariadb_rpl;
struct st_mariadb_rpl_event;

namespace shoal {

struct stream_options {
  uint32_t server_id = 0;
  /// Where to start (binlog file name and byte offset); ignored when `gtid` is set.
  std::string start_file;
  uint64_t start_pos = 4;
  /// MariaDB GTID position ("0-1-100") to start after, instead of `start`.
  std::string gtid;
  std::chrono::milliseconds heartbeat{500};
};

class binlog_stream {
public:
  /// Connects, checks nothing, and starts the dump.
  static mysql_expected<std::unique_ptr<binlog_stream>>
  open(mysql_config cfg, const stream_options& options);

  ~binlog_stream();
  binlog_stream(const binlog_stream&) = delete;
  binlog_stream& operator=(const binlog_stream&) = delete;

  /// The next event's bytes (valid until the next call), or the error that
  /// ended the stream (connection lost, server error, read timeout).
  mysql_expected<std::string_view> next();

  /// True when the socket has bytes waiting (or the connection ended), so
  /// next() would not block; bytes the client library already buffered are
  /// not seen. For a reader that has other work while the source is quiet.
  bool readable() const;

  /// The checksum algorithm the source writes (@@global.binlog_checksum).
  bool checksums() const noexcept { return checksums_; }

private:
  explicit binlog_stream(mysql_connection conn);

  mysql_connection conn_;
  st_mariadb_rpl* rpl_ = nullptr;
  st_mariadb_rpl_event* event_ = nullptr;
  bool checksums_ = false;
};

} // namespace shoal

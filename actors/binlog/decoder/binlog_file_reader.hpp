// Reads a binlog file from disk event by event.
//
// Usage:
//   auto reader = binlog_file_reader::open("/var/lib/mysql/mariadb-bin.000001");
//   if (!reader) fail(reader.error().to_string());
//   while (true) {
//     auto ev = reader->next();
//     if (!ev) fail(ev.error().to_string());   // "FILE:POS: TYPE: what"
//     if (!*ev) break;                         // clean end of file
//     use(**ev);
//   }
//
// The whole file is read into memory at open (binlog files are bounded by
// max_binlog_size). A file that ends inside an event is an error with the position
// of that event, never a silent end. Not thread-safe.
#pragma once

#include <optional>
#include <string>

#include "actors/binlog/decoder/decode_error.hpp"
#include "actors/binlog/decoder/event_decoder.hpp"

namespace shoal::binlog {

class binlog_file_reader {
public:
  /// Opens `path`, reads it and checks the magic bytes.
  static decode_result<binlog_file_reader> open(const std::string& path,
                                                decoder_options options = {});

  /// Wraps bytes already in memory; `name` appears in error messages.
  static decode_result<binlog_file_reader> from_bytes(std::string bytes, std::string name,
                                                      decoder_options options = {});

  /// The next event, nullopt at the clean end of the file, or an error. After an
  /// error, further calls return the same error.
  decode_result<std::optional<binlog_event>> next();

  /// Offset of the next event to read.
  uint64_t position() const noexcept { return position_; }

  /// The decoder, to set a schema lookup or inspect TABLE_MAPs.
  event_decoder& decoder() noexcept { return decoder_; }

private:
  binlog_file_reader(std::string bytes, std::string name, decoder_options options);

  std::string bytes_;
  std::string name_;
  event_decoder decoder_;
  uint64_t position_ = binlog_magic.size(); // invariant: <= bytes_.size() once opened
  std::optional<decode_error> failed_;
};

} // namespace shoal::binlog

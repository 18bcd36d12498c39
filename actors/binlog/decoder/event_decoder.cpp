#include "actors/binlog/decoder/event_decoder.hpp"

#include <cctype>
#include <cstdio>
#include <memory>

#include <zlib.h>
#include <zstd.h>

#include "actors/binlog/decoder/byte_reader.hpp"
#include "actors/binlog/decoder/compressed_payload.hpp"

namespace shoal::binlog {

namespace {

constexpr size_t server_version_length = 50;

decode_error fail(std::string what) {
  decode_error err;
  err.what = std::move(what);
  return err;
}

// Post-header lengths of a v4 binlog for when no FORMAT_DESCRIPTION was seen.
uint8_t default_post_header_length(uint8_t type) {
  switch (static_cast<event_type>(type)) {
  case event_type::query:
  case event_type::mariadb_query_compressed:
    return 13;
  case event_type::rotate:
  case event_type::table_map:
  case event_type::write_rows_v1:
  case event_type::update_rows_v1:
  case event_type::delete_rows_v1:
  case event_type::mariadb_write_rows_compressed_v1:
  case event_type::mariadb_update_rows_compressed_v1:
  case event_type::mariadb_delete_rows_compressed_v1:
    return 8;
  case event_type::write_rows_v2:
  case event_type::update_rows_v2:
  case event_type::delete_rows_v2:
  case event_type::mysql_partial_update_rows:
  case event_type::mariadb_write_rows_compressed:
  case event_type::mariadb_update_rows_compressed:
  case event_type::mariadb_delete_rows_compressed:
    return 10;
  case event_type::incident:
    return 2;
  default:
    return 0;
  }
}

// True when a server of this version writes the checksum algorithm byte in its
// FORMAT_DESCRIPTION (MySQL 5.6.1, MariaDB 5.3.0).
bool is_checksum_aware(std::string_view version) {
  unsigned v[3] = {0, 0, 0};
  size_t part = 0;
  for (char c : version) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      v[part] = v[part] * 10 + static_cast<unsigned>(c - '0');
      if (v[part] > 1000)
        return false;
    } else if (c == '.' && part < 2) {
      ++part;
    } else {
      break;
    }
  }
  bool mariadb = version.find("MariaDB") != std::string_view::npos;
  unsigned have = v[0] * 1000000 + v[1] * 1000 + v[2];
  return have >= (mariadb ? 5003000u : 5006001u);
}

std::string_view trim_statement(std::string_view s) {
  for (;;) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
      s.remove_prefix(1);
    if (s.substr(0, 2) == "/*" && s.substr(0, 3) != "/*!") {
      auto end = s.find("*/", 2);
      if (end == std::string_view::npos)
        return {};
      s.remove_prefix(end + 2);
      continue;
    }
    if (s.substr(0, 1) == "#" || s.substr(0, 3) == "-- ") {
      auto end = s.find('\n');
      if (end == std::string_view::npos)
        return {};
      s.remove_prefix(end + 1);
      continue;
    }
    return s;
  }
}

std::string upper_words(std::string_view s, size_t count) {
  std::string out;
  size_t words = 0;
  bool in_word = false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalpha(u) || c == '_') {
      if (!in_word && words == count)
        break;
      if (!in_word) {
        if (words > 0)
          out += ' ';
        ++words;
      }
      in_word = true;
      out += static_cast<char>(std::toupper(u));
    } else {
      if (in_word && !std::isspace(u))
        break;
      if (!std::isspace(u) && words == 0)
        break;
      in_word = false;
    }
  }
  return out;
}

bool starts_with_word(const std::string& words, std::string_view prefix) {
  return words.compare(0, prefix.size(), prefix) == 0 &&
         (words.size() == prefix.size() || words[prefix.size()] == ' ');
}

} // namespace

query_kind classify_query(std::string_view statement) {
  auto words = upper_words(trim_statement(statement), 3);
  auto is = [&](std::string_view prefix) { return starts_with_word(words, prefix); };
  if (is("BEGIN") || is("START TRANSACTION") || is("XA START") || is("XA BEGIN"))
    return query_kind::begin;
  if (is("COMMIT") || is("XA COMMIT") || is("XA END") || is("XA PREPARE"))
    return query_kind::commit;
  if (is("ROLLBACK TO") || is("SAVEPOINT") || is("RELEASE SAVEPOINT"))
    return query_kind::savepoint;
  if (is("ROLLBACK") || is("XA ROLLBACK"))
    return query_kind::rollback;
  if (is("INSERT") || is("UPDATE") || is("DELETE") || is("REPLACE") || is("LOAD"))
    return query_kind::dml;
  if (is("CREATE") || is("ALTER") || is("DROP") || is("RENAME") || is("TRUNCATE"))
    return query_kind::ddl;
  return query_kind::other;
}

std::string xa_prepare_event::xid() const {
  static const char digits[] = "0123456789abcdef";
  auto hex = [](const std::string& bytes) {
    std::string out = "X'";
    for (char c : bytes) {
      out += digits[static_cast<uint8_t>(c) >> 4];
      out += digits[static_cast<uint8_t>(c) & 15];
    }
    return out + "'";
  };
  return hex(gtrid) + "," + hex(bqual) + "," + std::to_string(format_id);
}

std::string mysql_gtid_event::to_string() const {
  return uuid() + ":" + std::to_string(gno);
}

event_decoder::event_decoder(decoder_options options) : options_(options) {}

std::shared_ptr<const table_map> event_decoder::table(uint64_t table_id) const {
  auto i = tables_.find(table_id);
  return i == tables_.end() ? nullptr : i->second;
}

decode_result<event_header> event_decoder::read_header(std::string_view bytes,
                                                       uint64_t offset) {
  byte_reader in{bytes};
  event_header h;
  h.timestamp = in.u32();
  h.type = in.u8();
  h.server_id = in.u32();
  h.event_size = in.u32();
  h.log_pos = in.u32();
  h.flags = in.u16();
  if (!in.ok()) {
    auto err =
        fail("truncated event header (" + std::to_string(bytes.size()) + " of 19 bytes)");
    err.offset = offset;
    return err;
  }
  if (h.event_size < event_header_length) {
    auto err = fail("event size " + std::to_string(h.event_size) +
                    " is smaller than the 19-byte header");
    err.offset = offset;
    err.event_type = h.type;
    return err;
  }
  return h;
}

uint8_t event_decoder::post_header_length(uint8_t type) const {
  if (format_ && type >= 1 && type <= format_->post_header_lengths.size())
    return format_->post_header_lengths[type - 1u];
  return default_post_header_length(type);
}

decode_result<binlog_event> event_decoder::decode(std::string_view event,
                                                  uint64_t offset) {
  auto with_context = [&](decode_error err, std::optional<uint8_t> type) {
    err.source = source_;
    err.offset = offset;
    if (!err.event_type)
      err.event_type = type;
    return err;
  };
  auto header = read_header(event, offset);
  if (!header)
    return with_context(std::move(header).error(), std::nullopt);
  auto type = header->type;
  if (header->event_size != event.size())
    return with_context(fail("event size " + std::to_string(header->event_size) +
                             " in header but " + std::to_string(event.size()) +
                             " bytes given"),
                        type);
  if (type == static_cast<uint8_t>(event_type::start_v3))
    return with_context(fail("binlog format v1/v3 (MySQL < 5.0) is not supported"), type);
  binlog_event ev;
  ev.header = *header;
  ev.offset = offset;
  if (type == static_cast<uint8_t>(event_type::format_description)) {
    auto body = decode_format_description(event);
    if (!body)
      return with_context(std::move(body).error(), type);
    ev.body = std::move(*body);
    return ev;
  }
  size_t header_length = format_ ? format_->header_length : event_header_length;
  size_t trailer = checksum_ == checksum_algorithm::crc32 ? 4 : 0;
  if (event.size() < header_length + trailer)
    return with_context(fail("event of " + std::to_string(event.size()) +
                             " bytes is too short for its header and checksum"),
                        type);
  if (trailer > 0 && options_.verify_checksums) {
    byte_reader tail{event.substr(event.size() - 4)};
    uint32_t stored = tail.u32();
    auto computed =
        static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(event.data()),
                                    static_cast<uInt>(event.size() - 4)));
    if (stored != computed) {
      char buf[80];
      std::snprintf(buf, sizeof(buf), "checksum mismatch: stored 0x%08x, computed 0x%08x",
                    stored, computed);
      return with_context(fail(buf), type);
    }
  }
  auto payload = event.substr(header_length, event.size() - header_length - trailer);
  auto body = type == static_cast<uint8_t>(event_type::mysql_transaction_payload)
                  ? decode_transaction_payload(payload, offset)
                  : decode_body(*header, payload);
  if (!body)
    return with_context(std::move(body).error(), type);
  ev.body = std::move(*body);
  return ev;
}

decode_result<event_body>
event_decoder::decode_format_description(std::string_view event) {
  byte_reader in{event.substr(event_header_length)};
  format_description_event fd;
  fd.binlog_version = in.u16();
  auto version = in.bytes(server_version_length);
  fd.server_version = std::string{version.substr(0, version.find('\0'))};
  fd.create_timestamp = in.u32();
  fd.header_length = in.u8();
  if (!in.ok())
    return fail("truncated FORMAT_DESCRIPTION");
  if (fd.binlog_version != 4)
    return fail("binlog version " + std::to_string(fd.binlog_version) +
                " is not supported (only v4, MySQL 5.0+)");
  if (fd.header_length < event_header_length)
    return fail("header length " + std::to_string(fd.header_length) + " < 19");
  auto rest = in.rest();
  if (is_checksum_aware(fd.server_version)) {
    if (rest.size() < 5)
      return fail("FORMAT_DESCRIPTION too short for its checksum algorithm");
    auto alg = static_cast<uint8_t>(rest[rest.size() - 5]);
    if (alg != 0 && alg != 1)
      return fail("unknown checksum algorithm " + std::to_string(alg));
    fd.checksum = static_cast<checksum_algorithm>(alg);
    if (alg == 1 && options_.verify_checksums) {
      byte_reader tail{event.substr(event.size() - 4)};
      uint32_t stored = tail.u32();
      // The server clears LOG_EVENT_BINLOG_IN_USE_F when it closes the file, after
      // computing the checksum, so the checksum covers the flag as cleared.
      std::string copy{event.substr(0, event.size() - 4)};
      copy[17] = static_cast<char>(copy[17] & ~1);
      auto computed =
          static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(copy.data()),
                                      static_cast<uInt>(copy.size())));
      if (stored != computed) {
        char buf[80];
        std::snprintf(buf, sizeof(buf),
                      "checksum mismatch: stored 0x%08x, computed 0x%08x", stored,
                      computed);
        return fail(buf);
      }
    }
    rest = rest.substr(0, rest.size() - 5);
  }
  fd.post_header_lengths.assign(rest.begin(), rest.end());
  auto expect = [&](event_type t, std::initializer_list<uint8_t> allowed) -> bool {
    auto i = static_cast<size_t>(t) - 1;
    if (i >= fd.post_header_lengths.size())
      return true;
    for (auto a : allowed)
      if (fd.post_header_lengths[i] == a)
        return true;
    return false;
  };
  if (!expect(event_type::query, {11, 13}) || !expect(event_type::rotate, {8}) ||
      !expect(event_type::table_map, {6, 8}) ||
      !expect(event_type::write_rows_v1, {6, 8}) ||
      !expect(event_type::update_rows_v1, {6, 8}) ||
      !expect(event_type::delete_rows_v1, {6, 8}) ||
      !expect(event_type::write_rows_v2, {10}) ||
      !expect(event_type::update_rows_v2, {10}) ||
      !expect(event_type::delete_rows_v2, {10}))
    return fail("FORMAT_DESCRIPTION announces post-header lengths this decoder does "
                "not know");
  checksum_ = fd.checksum;
  tables_.clear();
  format_ = fd;
  return event_body{std::move(fd)};
}

decode_result<event_body> event_decoder::decode_query(uint8_t type,
                                                      std::string_view body) {
  byte_reader in{body};
  auto post = post_header_length(type);
  query_event q;
  q.thread_id = in.u32();
  q.exec_time = in.u32();
  auto db_len = in.u8();
  q.error_code = in.u16();
  uint16_t status_len = post >= 13 ? in.u16() : 0;
  if (post > 13)
    in.skip(post - 13u);
  in.skip(status_len);
  q.schema = std::string{in.bytes(db_len)};
  if (in.u8() != 0 && in.ok())
    return fail("database name is not NUL-terminated");
  auto statement = in.rest();
  if (!in.ok())
    return fail("truncated QUERY event");
  if (type == static_cast<uint8_t>(event_type::mariadb_query_compressed)) {
    auto inflated = uncompress_payload(statement);
    if (!inflated)
      return std::move(inflated).error();
    q.statement = std::move(*inflated);
  } else {
    q.statement = std::string{statement};
  }
  q.kind = classify_query(q.statement);
  return event_body{std::move(q)};
}

// Per column: signedness from the TABLE_MAP's metadata, else the schema lookup;
// binary-ness of STRING columns from the charset the metadata gives, else the lookup.
// Names in `missing` the first column that neither describes.
column_hints event_decoder::column_details(const table_map& table,
                                           std::string& missing) const {
  column_hints details;
  details.is_unsigned.assign(table.columns.size(), false);
  details.fixed_binary.assign(table.columns.size(), false);
  std::optional<column_hints> hints;
  bool asked = false;
  auto lookup = [&]() -> const column_hints* {
    if (!asked && lookup_) {
      hints = lookup_(table.schema, table.table);
      asked = true;
    }
    return hints ? &*hints : nullptr;
  };
  auto unknown = [&](std::string_view what, size_t i) {
    if (missing.empty())
      missing = std::string{what} + std::to_string(i) + " of `" + table.schema + "`.`" +
                table.table + "` is unknown (no TABLE_MAP metadata, no schema)";
  };
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const auto& col = table.columns[i];
    if (col.is_unsigned) {
      details.is_unsigned[i] = *col.is_unsigned;
    } else if (is_numeric_type(col.type)) {
      if (auto* h = lookup(); h && i < h->is_unsigned.size())
        details.is_unsigned[i] = h->is_unsigned[i];
      else if (col.real_type != static_cast<uint8_t>(column_type::float_) &&
               col.real_type != static_cast<uint8_t>(column_type::double_) &&
               col.real_type != static_cast<uint8_t>(column_type::newdecimal))
        unknown("signedness of column ", i);
    } else if (col.real_type == static_cast<uint8_t>(column_type::string)) {
      if (col.charset)
        details.fixed_binary[i] = *col.charset == binary_collation;
      else if (auto* h = lookup(); h && i < h->fixed_binary.size())
        details.fixed_binary[i] = h->fixed_binary[i];
      else
        unknown("charset (text or binary) of CHAR/BINARY column ", i);
    }
  }
  return details;
}

decode_result<event_body> event_decoder::decode_rows_event(uint8_t type,
                                                           std::string_view body) {
  auto post = post_header_length(type);
  auto id = rows_table_id(body, post);
  if (!id)
    return fail("truncated rows event");
  auto map = table(*id);
  if (!map)
    return fail("rows event for table id " + std::to_string(*id) +
                " without a preceding TABLE_MAP");
  std::string missing;
  auto details = column_details(*map, missing);
  if (options_.require_column_details && !missing.empty())
    return fail(missing);
  auto rows = decode_rows(body, type, post, map, details);
  if (!rows)
    return std::move(rows).error();
  return event_body{std::move(*rows)};
}

decode_result<event_body> event_decoder::decode_transaction_payload(std::string_view body,
                                                                    uint64_t offset) {
  byte_reader in{body};
  std::optional<uint64_t> size, compression, uncompressed;
  for (;;) {
    auto field = in.packed_int();
    if (!in.ok())
      return fail("truncated field list");
    if (field == 0)
      break;
    auto length = in.packed_int();
    auto bytes = in.bytes(length);
    if (!in.ok())
      return fail("truncated field " + std::to_string(field));
    // Other fields: from a later server version, and not needed to read the events.
    if (field < 1 || field > 3)
      continue;
    byte_reader value_in{bytes};
    auto value = value_in.packed_int();
    if (!value_in.ok())
      return fail("field " + std::to_string(field) + " has no value");
    (field == 1 ? size : field == 2 ? compression : uncompressed) = value;
  }
  if (!size)
    return fail("no payload size field");
  if (*size != in.remaining())
    return fail("payload size " + std::to_string(*size) + " but " +
                std::to_string(in.remaining()) + " bytes follow the fields");
  auto payload = in.bytes(*size);
  transaction_payload_event out;
  std::string raw;
  if (compression.value_or(0) == 255) {
    out.compression = 255;
    raw = std::string{payload};
  } else if (compression.value_or(0) == 0) {
    if (!compression)
      return fail("no compression field");
    if (!uncompressed)
      return fail("no uncompressed size field");
    if (*uncompressed > max_uncompressed_length)
      return fail("uncompressed size " + std::to_string(*uncompressed) +
                  " exceeds the largest transaction accepted (" +
                  std::to_string(max_uncompressed_length) + ")");
    // In steps: memory follows what the frame really holds, never more than
    // announced, whatever the announced size.
    std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx{ZSTD_createDCtx(),
                                                           ZSTD_freeDCtx};
    if (!ctx)
      return fail("zstd: out of memory");
    std::string chunk(ZSTD_DStreamOutSize(), '\0');
    ZSTD_inBuffer from{payload.data(), payload.size(), 0};
    for (;;) {
      ZSTD_outBuffer to{chunk.data(), chunk.size(), 0};
      auto left = ZSTD_decompressStream(ctx.get(), &to, &from);
      if (ZSTD_isError(left))
        return fail(std::string{"zstd: "} + ZSTD_getErrorName(left));
      if (to.pos > *uncompressed - raw.size())
        return fail("zstd: more than the " + std::to_string(*uncompressed) +
                    " bytes announced");
      raw.append(chunk.data(), to.pos);
      if (from.pos == from.size && (left == 0 || to.pos < to.size)) {
        if (left != 0)
          return fail("zstd: the frame ends early");
        break;
      }
    }
    if (raw.size() != *uncompressed)
      return fail("zstd: " + std::to_string(raw.size()) + " bytes uncompressed, " +
                  std::to_string(*uncompressed) + " announced");
  } else {
    return fail("compression type " + std::to_string(*compression) +
                " is unknown (0 zstd and 255 none are)");
  }
  out.uncompressed_size = raw.size();
  // The events inside carry no checksum, whatever the file's algorithm.
  struct checksum_off {
    checksum_algorithm& alg;
    checksum_algorithm saved;
    ~checksum_off() { alg = saved; }
  } restore{checksum_, checksum_};
  checksum_ = checksum_algorithm::off;
  std::string_view events{raw};
  for (size_t at = 0, n = 1; at < events.size(); ++n) {
    auto inside = [&](const std::string& type, const std::string& what) {
      return fail("event " + std::to_string(n) + " inside" + type + " at byte " +
                  std::to_string(at) + " of " + std::to_string(events.size()) +
                  " uncompressed: " + what);
    };
    auto h = read_header(events.substr(at));
    if (!h)
      return inside("", h.error().what);
    std::string type = std::string{" ("} + std::string{event_type_name(h->type)} + ")";
    if (h->event_size < event_header_length || h->event_size > events.size() - at)
      return inside(type,
                    "event size " + std::to_string(h->event_size) + " does not fit");
    if (h->type == static_cast<uint8_t>(event_type::mysql_transaction_payload) ||
        h->type == static_cast<uint8_t>(event_type::format_description) ||
        h->type == static_cast<uint8_t>(event_type::rotate))
      return inside(type, "not allowed in a transaction payload");
    auto ev = decode(events.substr(at, h->event_size), offset);
    if (!ev) {
      auto& err = ev.error();
      return inside(type, (err.column ? "column " + std::to_string(*err.column) + ": "
                                      : std::string{}) +
                              err.what);
    }
    out.events.push_back(std::move(*ev));
    at += h->event_size;
  }
  return event_body{std::move(out)};
}

decode_result<event_body> event_decoder::decode_body(const event_header& header,
                                                     std::string_view body) {
  byte_reader in{body};
  auto type = static_cast<event_type>(header.type);
  switch (type) {
  case event_type::query:
  case event_type::mariadb_query_compressed:
    return decode_query(header.type, body);
  case event_type::rotate: {
    rotate_event r;
    r.position = in.u64();
    r.next_file = std::string{in.rest()};
    if (!in.ok())
      return fail("truncated ROTATE event");
    return event_body{std::move(r)};
  }
  case event_type::xid: {
    xid_event x{in.u64()};
    if (!in.ok())
      return fail("truncated XID event");
    return event_body{x};
  }
  case event_type::mysql_xa_prepare: {
    in.skip(post_header_length(header.type));
    xa_prepare_event x;
    x.one_phase = in.u8() != 0;
    x.format_id = in.u32();
    auto gtrid_length = in.u32();
    auto bqual_length = in.u32();
    if (in.ok() && (gtrid_length > 64 || bqual_length > 64))
      return fail("XA_PREPARE xid lengths " + std::to_string(gtrid_length) + " and " +
                  std::to_string(bqual_length) + " are not 0..64 each");
    x.gtrid = std::string{in.bytes(gtrid_length)};
    x.bqual = std::string{in.bytes(bqual_length)};
    if (!in.ok())
      return fail("truncated XA_PREPARE event");
    return event_body{std::move(x)};
  }
  case event_type::stop:
    return event_body{stop_event{}};
  case event_type::incident: {
    incident_event e;
    e.number = in.u16();
    auto len = in.u8();
    e.message = std::string{in.bytes(len)};
    if (!in.ok())
      return fail("truncated INCIDENT event");
    return event_body{std::move(e)};
  }
  case event_type::heartbeat:
    return event_body{heartbeat_event{std::string{body}}};
  case event_type::mariadb_annotate_rows:
    return event_body{annotate_rows_event{std::string{body}}};
  case event_type::mariadb_binlog_checkpoint: {
    auto len = in.u32();
    binlog_checkpoint_event c{std::string{in.bytes(len)}};
    if (!in.ok())
      return fail("truncated BINLOG_CHECKPOINT event");
    return event_body{std::move(c)};
  }
  case event_type::mariadb_gtid: {
    mariadb_gtid_event g;
    g.gtid.seq_no = in.u64();
    g.gtid.domain_id = in.u32();
    g.gtid.server_id = header.server_id;
    g.flags = in.u8();
    if (g.flags & 2)
      g.commit_id = in.u64();
    if (!in.ok())
      return fail("truncated GTID event");
    return event_body{g};
  }
  case event_type::mariadb_gtid_list: {
    gtid_list_event l;
    auto count = in.u32() & 0x0fffffffu;
    if (uint64_t{count} * 16 > in.remaining())
      return fail("GTID_LIST of " + std::to_string(count) +
                  " entries overruns the event");
    for (uint32_t i = 0; i < count; ++i) {
      mariadb_gtid g;
      g.domain_id = in.u32();
      g.server_id = in.u32();
      g.seq_no = in.u64();
      l.gtids.push_back(g);
    }
    if (!in.ok())
      return fail("truncated GTID_LIST event");
    return event_body{std::move(l)};
  }
  case event_type::mysql_gtid:
  case event_type::mysql_anonymous_gtid: {
    mysql_gtid_event g;
    g.anonymous = type == event_type::mysql_anonymous_gtid;
    g.flags = in.u8();
    auto sid = in.bytes(16);
    g.gno = static_cast<int64_t>(in.u64());
    if (!in.ok())
      return fail("truncated GTID_LOG event");
    for (size_t i = 0; i < 16; ++i)
      g.sid[i] = static_cast<uint8_t>(sid[i]);
    if (in.at_end())
      return event_body{g};
    if (in.u8() != 2)
      return fail("GTID_LOG event with an unknown logical clock type");
    g.last_committed = static_cast<int64_t>(in.u64());
    g.sequence_number = static_cast<int64_t>(in.u64());
    if (!in.ok())
      return fail("truncated logical clock of a GTID_LOG event");
    if (in.at_end())
      return event_body{g};
    constexpr uint64_t ts_more = uint64_t{1} << 55;
    auto immediate = in.uint_le(7);
    g.immediate_commit_timestamp = immediate & (ts_more - 1);
    g.original_commit_timestamp =
        immediate & ts_more ? in.uint_le(7) : *g.immediate_commit_timestamp;
    if (!in.ok())
      return fail("truncated commit timestamps of a GTID_LOG event");
    if (in.at_end())
      return event_body{g};
    g.transaction_length = in.packed_int();
    if (!in.ok())
      return fail("truncated transaction length of a GTID_LOG event");
    if (in.at_end())
      return event_body{g};
    constexpr uint32_t version_more = uint32_t{1} << 31;
    auto version = in.u32();
    g.immediate_server_version = version & (version_more - 1);
    g.original_server_version =
        version & version_more ? in.u32() : *g.immediate_server_version;
    if (!in.ok())
      return fail("truncated server versions of a GTID_LOG event");
    if (in.remaining() >= 8)
      g.commit_group_ticket = in.u64();
    return event_body{g};
  }
  case event_type::mysql_previous_gtids: {
    previous_gtids_event p;
    auto sids = in.u64();
    if (!in.ok() || sids > in.remaining() / 24)
      return fail("PREVIOUS_GTIDS event announces more uuids than it holds");
    for (uint64_t i = 0; i < sids; ++i) {
      auto sid = in.bytes(16);
      auto intervals = in.u64();
      if (!in.ok() || intervals > in.remaining() / 16)
        return fail("PREVIOUS_GTIDS event announces more intervals than it holds");
      auto uuid = uuid_text(reinterpret_cast<const uint8_t*>(sid.data()));
      for (uint64_t k = 0; k < intervals; ++k) {
        auto start = static_cast<int64_t>(in.u64());
        auto end = static_cast<int64_t>(in.u64());
        if (!in.ok() || !p.gtids.add(uuid, start, end - 1))
          return fail("PREVIOUS_GTIDS event has an invalid interval of " + uuid);
      }
    }
    if (!in.at_end())
      return fail("PREVIOUS_GTIDS event has " + std::to_string(in.remaining()) +
                  " bytes past its intervals");
    return event_body{std::move(p)};
  }
  case event_type::mysql_gtid_tagged:
    return fail("tagged GTIDs (GTID_TAGGED_LOG_EVENT, MySQL 8.3+, gtid_next with a "
                "tag) are not supported");
  case event_type::table_map: {
    auto map = decode_table_map(body, post_header_length(header.type));
    if (!map)
      return std::move(map).error();
    auto shared = std::make_shared<const table_map>(std::move(*map));
    tables_[shared->table_id] = shared;
    return event_body{table_map_event{std::move(shared)}};
  }
  case event_type::write_rows_v1:
  case event_type::update_rows_v1:
  case event_type::delete_rows_v1:
  case event_type::write_rows_v2:
  case event_type::update_rows_v2:
  case event_type::delete_rows_v2:
  case event_type::mariadb_write_rows_compressed:
  case event_type::mariadb_update_rows_compressed:
  case event_type::mariadb_delete_rows_compressed:
  case event_type::mariadb_write_rows_compressed_v1:
  case event_type::mariadb_update_rows_compressed_v1:
  case event_type::mariadb_delete_rows_compressed_v1:
  case event_type::mysql_partial_update_rows:
    return decode_rows_event(header.type, body);
  case event_type::pre_ga_write_rows:
  case event_type::pre_ga_update_rows:
  case event_type::pre_ga_delete_rows:
    return fail("pre-GA rows events (MySQL 5.1.0-5.1.15) are not supported");
  case event_type::mysql_transaction_payload: // decode() handles it
    return fail("TRANSACTION_PAYLOAD inside another one");
  case event_type::mariadb_start_encryption:
    return fail("encrypted binlogs (START_ENCRYPTION) are not supported");
  case event_type::load:
  case event_type::slave:
  case event_type::create_file:
  case event_type::append_block:
  case event_type::exec_load:
  case event_type::delete_file:
  case event_type::new_load:
  case event_type::begin_load_query:
  case event_type::execute_load_query:
  case event_type::intvar:
  case event_type::rand:
  case event_type::user_var:
  case event_type::ignorable:
  case event_type::rows_query:
  case event_type::mysql_transaction_context:
  case event_type::mysql_view_change:
  case event_type::mysql_heartbeat_v2:
    return event_body{other_event{std::string{body}}};
  default:
    if ((header.flags & 0x80) == 0) // LOG_EVENT_IGNORABLE_F
      return fail("unknown event type that is not marked ignorable");
    return event_body{other_event{std::string{body}}};
  }
}

std::string decode_error::to_string() const {
  std::string out = source.empty() ? "<binlog>" : source;
  out += ":" + std::to_string(offset) + ": ";
  if (event_type)
    out += std::string{event_type_name(*event_type)} + ": ";
  if (column)
    out += "column " + std::to_string(*column) + ": ";
  return out + what;
}

} // namespace shoal::binlog

// Decodes the binlog files Debian's mariadb-test-data ships (MariaDB 5.5-10.x, MySQL
// 5.1-8.0) and compares decoded rows with what `mariadb-binlog -v` prints; then the
// MariaDB 10.11 files of data/make-binlogs: BINARY, UUID and INET6 values under each
// binlog_row_metadata setting, and XA transactions.
#include "actors/binlog/decoder/binlog_file_reader.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

namespace shoal::binlog {
namespace {

namespace fs = std::filesystem;

const fs::path test_data{"/usr/share/mysql/mysql-test"};
const fs::path own_data{SHOAL_BINLOG_TEST_DATA};

std::string slurp(const fs::path& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

// Every file under the test data that starts with the binlog magic.
std::vector<fs::path> binlog_files() {
  std::vector<fs::path> result;
  if (!fs::exists(test_data))
    return result;
  for (auto& entry : fs::recursive_directory_iterator{test_data}) {
    if (!entry.is_regular_file() || entry.file_size() < 4)
      continue;
    std::ifstream in{entry.path(), std::ios::binary};
    char magic[4];
    if (in.read(magic, 4) && std::string_view{magic, 4} == binlog_magic)
      result.push_back(entry.path());
  }
  std::sort(result.begin(), result.end());
  return result;
}

struct file_outcome {
  size_t events = 0;
  size_t rows = 0;
  std::optional<decode_error> error;
};

// `ev`, or the events inside it when it is a TRANSACTION_PAYLOAD.
std::vector<const binlog_event*> flattened(const binlog_event& ev) {
  std::vector<const binlog_event*> out;
  if (auto* p = std::get_if<transaction_payload_event>(&ev.body))
    for (auto& inner : p->events)
      out.push_back(&inner);
  else
    out.push_back(&ev);
  return out;
}

file_outcome read_all(binlog_file_reader& reader) {
  file_outcome out;
  for (;;) {
    auto ev = reader.next();
    if (!ev) {
      out.error = ev.error();
      return out;
    }
    if (!*ev)
      return out;
    ++out.events;
    for (auto* e : flattened(**ev))
      if (auto* rows = std::get_if<rows_event>(&e->body))
        out.rows += rows->rows.size();
  }
}

file_outcome read_file(const fs::path& path) {
  auto reader = binlog_file_reader::open(path.string());
  if (!reader) {
    file_outcome out;
    out.error = reader.error();
    return out;
  }
  return read_all(*reader);
}

// The "### " lines mariadb-binlog prints for the row events of a file, one string per
// line, with the unsigned reading of negative integers (" (4294967295)") removed.
std::vector<std::string> reference_rows(const fs::path& path) {
  std::string cmd =
      "mariadb-binlog --base64-output=decode-rows -v '" + path.string() + "' 2>/dev/null";
  std::vector<std::string> lines;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe)
    return lines;
  char buf[4096];
  std::string line;
  while (fgets(buf, sizeof(buf), pipe)) {
    line += buf;
    if (line.empty() || line.back() != '\n')
      continue;
    line.pop_back();
    if (line.rfind("### ", 0) == 0) {
      if (line.rfind("###   @", 0) == 0 && line.back() == ')') {
        auto open = line.rfind(" (");
        if (open != std::string::npos)
          line.erase(open);
      }
      lines.push_back(line);
    }
    line.clear();
  }
  pclose(pipe);
  return lines;
}

void print_image(std::vector<std::string>& out, const row_image& image) {
  for (size_t i = 0; i < image.values.size(); ++i)
    if (image.present[i])
      out.push_back("###   @" + std::to_string(i + 1) + "=" + to_string(image.values[i]));
}

// One rows event as `mariadb-binlog -v` prints it.
template <class Printer>
void print_rows(std::vector<std::string>& lines, const rows_event& event,
                Printer print_image) {
  auto name = "`" + event.table->schema + "`.`" + event.table->table + "`";
  for (auto& row : event.rows) {
    switch (event.kind) {
    case row_kind::write:
      lines.push_back("### INSERT INTO " + name);
      lines.push_back("### SET");
      print_image(lines, row.after);
      break;
    case row_kind::update:
      lines.push_back("### UPDATE " + name);
      lines.push_back("### WHERE");
      print_image(lines, row.before);
      lines.push_back("### SET");
      print_image(lines, row.after);
      break;
    case row_kind::delete_:
      lines.push_back("### DELETE FROM " + name);
      lines.push_back("### WHERE");
      print_image(lines, row.before);
      break;
    }
  }
}

// The same lines, printed from the rows `reader` decodes; `print` prints one image.
// Stops at the first error and returns it in `error`.
template <class Printer>
std::vector<std::string> decoded_rows(binlog_file_reader& reader, std::string& error,
                                      Printer print_image) {
  std::vector<std::string> lines;
  for (;;) {
    auto ev = reader.next();
    if (!ev) {
      error = ev.error().to_string();
      return lines;
    }
    if (!*ev)
      return lines;
    for (auto* e : flattened(**ev))
      if (auto* rows = std::get_if<rows_event>(&e->body))
        print_rows(lines, *rows, print_image);
  }
}

std::vector<std::string> decoded_rows(const fs::path& path, std::string& error) {
  auto reader = binlog_file_reader::open(path.string());
  if (!reader) {
    error = reader.error().to_string();
    return {};
  }
  return decoded_rows(*reader, error, print_image);
}

TEST(binlog_files, test_data_is_installed) {
  auto files = binlog_files();
  ASSERT_GE(files.size(), 30u) << "install mariadb-test-data";
}

TEST(binlog_files, every_file_decodes_to_its_end_or_reports_where_it_stops) {
  for (auto& path : binlog_files()) {
    auto outcome = read_file(path);
    if (outcome.error) {
      auto text = outcome.error->to_string();
      EXPECT_EQ(text.rfind(path.string() + ":", 0), 0u) << text;
      EXPECT_FALSE(outcome.error->what.empty());
    }
    std::printf("%-70s events=%zu rows=%zu %s\n",
                path.lexically_relative(test_data).c_str(), outcome.events, outcome.rows,
                outcome.error ? outcome.error->to_string().c_str() : "ok");
  }
}

// Row-format files of several server versions and row-event flavours.
struct row_file {
  const char* name;
  // Where both decoders stop, as a substring of shoal's error; nullptr: the end.
  const char* stops_at;
};

const row_file row_files[] = {
    {"std_data/mdev6020-mysql-bin.000001", nullptr},         // MariaDB 10.0, INT/CHAR
    {"std_data/rpl/master-bin-seq_10.3.36.000001", nullptr}, // MariaDB 10.3, CRC32
    // (MySQL 8.0's mdev35643_mysql_80_binlog.000001: see its own test below)
    {"suite/binlog/std_data/update-full-row.binlog", nullptr},    // UPDATE/DELETE
    {"suite/binlog/std_data/update-partial-row.binlog", nullptr}, // minimal images
    {"suite/binlog/std_data/write-full-row.binlog", nullptr},
    {"suite/binlog/std_data/write-partial-row.binlog", nullptr},
    {"suite/binlog/std_data/ver_5_1_23.001", nullptr},       // MySQL 5.1, v1 rows
    {"suite/binlog/std_data/ver_trunk_row_v2.001", nullptr}, // MySQL 5.6, v2 rows
};

TEST(binlog_files, rows_match_mariadb_binlog) {
  if (std::system("mariadb-binlog --version >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "mariadb-binlog is not installed";
  for (auto& file : row_files) {
    SCOPED_TRACE(file.name);
    auto path = test_data / file.name;
    auto expected = reference_rows(path);
    std::string error;
    auto actual = decoded_rows(path, error);
    if (file.stops_at)
      EXPECT_NE(error.find(file.stops_at), std::string::npos) << error;
    else
      EXPECT_EQ(error, "");
    ASSERT_FALSE(expected.empty());
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i)
      ASSERT_EQ(actual[i], expected[i]) << "line " << i;
  }
}

// MySQL 8.0, v2 rows, CRC32, then a transaction compressed with zstd
// (binlog_transaction_compression=ON) that mariadb-binlog does not read, and at
// 3403 a PARTIAL_UPDATE_ROWS event. The generator of the file (the comment of
// suite/rpl/t/rpl_from_mysql80.test) says what the compressed one holds: 100
// rows (i + 1000, i, CONCAT("--", i, "--", REPEAT("\\/", 100), "--")), and what
// the partial one changed: t2 (a INT PRIMARY KEY, b JSON) held (1, '{"a": "hulu",
// "b": "<[zyzzy] 100 times>", "c": "bulu"}') from a statement-logged INSERT, and
// `UPDATE t2 SET b=JSON_REPLACE(b, '$.b', REPEAT("oOo", 50))` ran with
// binlog_row_value_options=PARTIAL_JSON: the before image holds the document, the
// after image only the replacement of $.b.
TEST(binlog_files, a_mysql_8_compressed_transaction_decodes_to_its_rows) {
  if (std::system("mariadb-binlog --version >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "mariadb-binlog is not installed";
  auto path = test_data / "std_data/mdev35643_mysql_80_binlog.000001";
  auto expected = reference_rows(path); // up to the compressed transaction
  std::string error;
  auto actual = decoded_rows(path, error);
  EXPECT_EQ(error, "");
  ASSERT_EQ(expected.size(), 4u * 5); // rows 1..4, five lines each
  ASSERT_EQ(actual.size(), expected.size() + 100 * 5 + 5 + 7);
  for (size_t i = 0; i < expected.size(); ++i)
    ASSERT_EQ(actual[i], expected[i]) << "line " << i;
  // The server got "\/" (mysqltest unescapes the "\\"), which it reads as "/".
  const std::string repeated(100, '/');
  for (int i = 0; i < 100; ++i) {
    auto at = expected.size() + static_cast<size_t>(i) * 5;
    std::vector<std::string> want{
        "### INSERT INTO `test`.`t1`", "### SET", "###   @1=" + std::to_string(i + 1000),
        "###   @2=" + std::to_string(i),
        "###   @3='--" + std::to_string(i) + "--" + repeated + "--'"};
    for (size_t l = 0; l < want.size(); ++l)
      ASSERT_EQ(actual[at + l], want[l]) << "row " << i;
  }
  auto last = expected.size() + 100 * 5;
  EXPECT_EQ(actual[last + 2], "###   @1=5");
  EXPECT_EQ(actual[last + 4], "###   @3='after compressed'");
  std::string zyzzy, ooo;
  for (int i = 0; i < 100; ++i)
    zyzzy += "[zyzzy]";
  for (int i = 0; i < 50; ++i)
    ooo += "oOo";
  std::vector<std::string> update{
      "### UPDATE `test`.`t2`",
      "### WHERE",
      "###   @1=1",
      "###   @2='{\"a\": \"hulu\", \"b\": \"" + zyzzy + "\", \"c\": \"bulu\"}'",
      "### SET",
      "###   @1=1",
      "###   @2='{\"a\": \"hulu\", \"b\": \"" + ooo + "\", \"c\": \"bulu\"}'"};
  for (size_t l = 0; l < update.size(); ++l)
    EXPECT_EQ(actual[last + 5 + l], update[l]) << "line " << l;
}

// The MySQL 8.0.40 file's GTID events (anonymous: gtid_mode=OFF) carry what the
// file itself shows: each transaction's length is the bytes from its GTID event to
// the next transaction (or the ROTATE at the end); its commit timestamp lies within
// the second of its event header; the server version is the one the
// FORMAT_DESCRIPTION names (8.0.40); sequence numbers count transactions.
TEST(binlog_files, mysql_8_gtid_events_agree_with_the_file_around_them) {
  auto reader = binlog_file_reader::open(
      (test_data / "std_data/mdev35643_mysql_80_binlog.000001").string());
  ASSERT_TRUE(reader) << reader.error().to_string();
  struct gtid_at {
    uint64_t offset;
    uint32_t timestamp;
    mysql_gtid_event gtid;
  };
  std::vector<gtid_at> gtids;
  std::optional<uint64_t> rotate_at;
  std::optional<previous_gtids_event> previous;
  for (;;) {
    auto ev = reader->next();
    ASSERT_TRUE(ev) << ev.error().to_string();
    if (!*ev)
      break;
    auto& e = **ev;
    if (auto* g = std::get_if<mysql_gtid_event>(&e.body))
      gtids.push_back({e.offset, e.header.timestamp, *g});
    else if (auto* p = std::get_if<previous_gtids_event>(&e.body))
      previous = *p;
    else if (std::holds_alternative<rotate_event>(e.body))
      rotate_at = e.offset;
  }
  ASSERT_TRUE(previous);
  EXPECT_TRUE(previous->gtids.empty());
  ASSERT_EQ(gtids.size(), 9u);
  ASSERT_TRUE(rotate_at);
  for (size_t i = 0; i < gtids.size(); ++i) {
    SCOPED_TRACE("GTID event at " + std::to_string(gtids[i].offset));
    auto& g = gtids[i].gtid;
    EXPECT_TRUE(g.anonymous);
    auto end = i + 1 < gtids.size() ? gtids[i + 1].offset : *rotate_at;
    EXPECT_EQ(g.transaction_length, std::optional<uint64_t>{end - gtids[i].offset});
    ASSERT_TRUE(g.immediate_commit_timestamp);
    EXPECT_EQ(*g.immediate_commit_timestamp / 1000000, gtids[i].timestamp);
    EXPECT_EQ(g.original_commit_timestamp, g.immediate_commit_timestamp);
    EXPECT_EQ(g.immediate_server_version, std::optional<uint32_t>{80040});
    EXPECT_EQ(g.original_server_version, g.immediate_server_version);
    EXPECT_EQ(g.sequence_number, std::optional<int64_t>{static_cast<int64_t>(i + 1)});
    ASSERT_TRUE(g.last_committed);
    EXPECT_LT(*g.last_committed, *g.sequence_number);
  }
}

// -- files of data/make-binlogs (MariaDB 10.11) -----------------------------------

// Like print_image, with byte strings in hex: "###   @2=0a00".
void print_hex_image(std::vector<std::string>& out, const row_image& image) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < image.values.size(); ++i) {
    if (!image.present[i])
      continue;
    auto* bytes = std::get_if<bytes_value>(&image.values[i]);
    std::string text;
    if (!bytes) {
      text = to_string(image.values[i]);
    } else {
      for (char c : bytes->bytes) {
        text += digits[static_cast<uint8_t>(c) >> 4];
        text += digits[static_cast<uint8_t>(c) & 15];
      }
    }
    out.push_back("###   @" + std::to_string(i + 1) + "=" + text);
  }
}

// The row images of fixed-binary-*.binlog as the table holds them: UUID, INET6,
// BINARY(16) and BINARY(4) (@2-@5) at their full length, trailing 0x00 included;
// CHAR (@6, @7) without trailing spaces; VARBINARY (@8) as stored.
std::vector<std::string> fixed_binary_rows() {
  auto row = [](std::vector<std::string> values) {
    std::vector<std::string> lines;
    for (size_t i = 0; i < values.size(); ++i)
      lines.push_back("###   @" + std::to_string(i + 1) + "=" + values[i]);
    return lines;
  };
  std::string zeros16(32, '0');
  auto one =
      row({"1", "11111111222243338444555555555500", "20010db8000000000000000000000000",
           "0102030405060708090a0b0c0d0e0f00", "61000000", "6162", "c3a9", "6100"});
  auto two = row({"2", zeros16, zeros16, zeros16, "00000000", "", "", "00"});
  auto three =
      row({"3", "6ccd780cbaba102695645b8c656024db", "00000000000000000000ffff01020300",
           "000102030405060708090a0b0c0d0e0f", "00616200", "78", "79", ""});
  auto four = row({"4", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"});
  auto three_after = three;
  three_after[4] = "###   @5=01020300";
  std::vector<std::string> lines;
  auto add = [&](std::initializer_list<std::string> text) {
    lines.insert(lines.end(), text.begin(), text.end());
  };
  auto add_image = [&](const std::vector<std::string>& image) {
    lines.insert(lines.end(), image.begin(), image.end());
  };
  for (auto* image : {&one, &two, &three, &four}) {
    add({"### INSERT INTO `d`.`t`", "### SET"});
    add_image(*image);
  }
  add({"### UPDATE `d`.`t`", "### WHERE"});
  add_image(three);
  add({"### SET"});
  add_image(three_after);
  add({"### DELETE FROM `d`.`t`", "### WHERE"});
  add_image(two);
  return lines;
}

TEST(binlog_files, fixed_binary_values_get_their_trailing_zero_bytes_back) {
  for (auto name : {"fixed-binary-full.binlog", "fixed-binary-minimal.binlog"}) {
    SCOPED_TRACE(name);
    // The TABLE_MAP's charsets say which columns are binary (63), whatever a schema
    // lookup says.
    auto reader = binlog_file_reader::open((own_data / name).string());
    ASSERT_TRUE(reader) << reader.error().to_string();
    reader->decoder().set_schema_lookup([](std::string_view, std::string_view) {
      return std::optional<column_hints>{{{}, std::vector<bool>(8, false)}};
    });
    std::string error;
    auto rows = decoded_rows(*reader, error, print_hex_image);
    EXPECT_EQ(error, "");
    EXPECT_EQ(rows, fixed_binary_rows());
  }
}

TEST(binlog_files, without_metadata_binary_columns_come_from_the_schema) {
  auto path = (own_data / "fixed-binary-no-log.binlog").string();
  // No lookup: values as written, as mariadb-binlog prints them.
  if (std::system("mariadb-binlog --version >/dev/null 2>&1") == 0) {
    std::string error;
    EXPECT_EQ(decoded_rows(path, error), reference_rows(path));
    EXPECT_EQ(error, "");
  }
  // A lookup that knows the schema: u, i6, b and b4 have no charset.
  decoder_options strict;
  strict.require_column_details = true;
  auto reader = binlog_file_reader::open(path, strict);
  ASSERT_TRUE(reader) << reader.error().to_string();
  reader->decoder().set_schema_lookup([](std::string_view db, std::string_view table) {
    if (db != "d" || table != "t")
      return std::optional<column_hints>{};
    column_hints hints;
    hints.is_unsigned.assign(8, false);
    hints.fixed_binary = {false, true, true, true, true, false, false, false};
    return std::optional<column_hints>{hints};
  });
  std::string error;
  EXPECT_EQ(decoded_rows(*reader, error, print_hex_image), fixed_binary_rows());
  EXPECT_EQ(error, "");
  // A lookup that gives signedness only, with details required: the first rows
  // event stops, naming the column.
  auto partial = binlog_file_reader::open(path, strict);
  ASSERT_TRUE(partial);
  partial->decoder().set_schema_lookup([](std::string_view, std::string_view) {
    return std::optional<column_hints>{{std::vector<bool>(8, false), {}}};
  });
  decoded_rows(*partial, error, print_hex_image);
  EXPECT_NE(error.find(": WRITE_ROWS_EVENT_V1: charset (text or binary) of CHAR/BINARY "
                       "column 1 of `d`.`t` is unknown"),
            std::string::npos)
      << error;
}

TEST(binlog_files, xa_prepare_events_name_the_xid_of_the_statements_around_them) {
  // MariaDB writes XA_PREPARE_LOG_EVENT after "XA END xid" as MySQL does; the XA
  // COMMIT or XA ROLLBACK comes in a later group of its own.
  auto reader = binlog_file_reader::open((own_data / "xa.binlog").string());
  ASSERT_TRUE(reader) << reader.error().to_string();
  std::vector<std::string> seen;
  for (;;) {
    auto ev = reader->next();
    ASSERT_TRUE(ev) << ev.error().to_string();
    if (!*ev)
      break;
    if (auto* q = std::get_if<query_event>(&(*ev)->body);
        q && q->statement.rfind("XA ", 0) == 0)
      seen.push_back(q->statement);
    if (auto* x = std::get_if<xa_prepare_event>(&(*ev)->body))
      seen.push_back("prepare " + x->xid() + (x->one_phase ? " one phase" : "") +
                     " gtrid " + std::to_string(x->gtrid.size()) + " bqual " +
                     std::to_string(x->bqual.size()));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "XA END X'6731',X'6231',7",
                      "prepare X'6731',X'6231',7 gtrid 2 bqual 2",
                      "XA COMMIT X'6731',X'6231',7",
                      "XA END X'abcd00',X'',1",
                      "prepare X'abcd00',X'',1 gtrid 3 bqual 0",
                      "XA ROLLBACK X'abcd00',X'',1",
                  }));
}

TEST(binlog_files, every_truncation_of_a_file_is_reported_with_its_position) {
  auto path = test_data / "std_data/rpl/master-bin-seq_10.3.36.000001";
  auto bytes = slurp(path);
  ASSERT_GT(bytes.size(), 100u);
  auto full = binlog_file_reader::from_bytes(bytes, "full");
  ASSERT_TRUE(full);
  std::vector<uint64_t> starts;
  for (;;) {
    starts.push_back(full->position());
    auto ev = full->next();
    ASSERT_TRUE(ev) << ev.error().to_string();
    if (!*ev)
      break;
  }
  for (size_t cut = 4; cut < bytes.size(); ++cut) {
    auto reader = binlog_file_reader::from_bytes(bytes.substr(0, cut), "cut");
    ASSERT_TRUE(reader);
    auto outcome = read_all(*reader);
    bool at_boundary = std::find(starts.begin(), starts.end(), cut) != starts.end();
    if (at_boundary) {
      EXPECT_FALSE(outcome.error) << cut;
      continue;
    }
    ASSERT_TRUE(outcome.error) << "cut at " << cut << " was not reported";
    // The reported offset is the start of the event the cut falls into.
    auto event_start = *std::prev(std::upper_bound(starts.begin(), starts.end(), cut));
    EXPECT_EQ(outcome.error->offset, event_start) << cut;
    EXPECT_NE(outcome.error->what.find("truncated"), std::string::npos)
        << outcome.error->to_string();
  }
}

TEST(binlog_files, every_flipped_byte_of_a_checksummed_file_is_reported) {
  auto path = test_data / "std_data/rpl/master-bin-seq_10.3.36.000001";
  auto bytes = slurp(path);
  for (size_t i = 4; i < bytes.size(); ++i) {
    auto copy = bytes;
    copy[i] = static_cast<char>(copy[i] ^ 0x10);
    auto reader = binlog_file_reader::from_bytes(copy, "flipped");
    ASSERT_TRUE(reader);
    auto outcome = read_all(*reader);
    ASSERT_TRUE(outcome.error) << "flipped byte " << i << " was not reported";
    // Damage to the FORMAT_DESCRIPTION (bytes 4..255) can turn its checksum off, so
    // it may surface in a later event; after it, the damaged event itself fails.
    if (i >= 256) {
      EXPECT_LE(outcome.error->offset, i);
    }
    EXPECT_EQ(outcome.error->to_string().rfind("flipped:", 0), 0u);
  }
}

TEST(binlog_files, corrupt_rows_without_checksums_fail_with_event_and_column) {
  // MariaDB 10.0 file without checksums: damage a row value's length prefix.
  auto path = test_data / "std_data/mdev6020-mysql-bin.000001";
  auto bytes = slurp(path);
  auto reader = binlog_file_reader::from_bytes(bytes, "mdev6020");
  ASSERT_TRUE(reader);
  std::optional<uint64_t> rows_at;
  uint32_t rows_size = 0;
  while (!rows_at) {
    auto pos = reader->position();
    auto ev = reader->next();
    ASSERT_TRUE(ev && *ev);
    if (std::holds_alternative<rows_event>((*ev)->body)) {
      rows_at = pos;
      rows_size = (*ev)->header.event_size;
    }
  }
  // The last byte of the event is inside the last row; cutting the event short
  // (smaller event_size, file shifted) must name this event's offset.
  auto copy = bytes;
  auto size_field = *rows_at + 9;
  copy[size_field] = static_cast<char>(rows_size - 1);
  copy.erase(*rows_at + rows_size - 1, 1);
  auto broken = binlog_file_reader::from_bytes(copy, "broken");
  ASSERT_TRUE(broken);
  auto outcome = read_all(*broken);
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->offset, *rows_at);
  EXPECT_TRUE(outcome.error->column.has_value()) << outcome.error->to_string();
  EXPECT_EQ(outcome.error->event_type, std::optional<uint8_t>{23});
}

TEST(binlog_files, a_file_without_magic_is_rejected) {
  auto reader = binlog_file_reader::from_bytes("not a binlog", "junk");
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().to_string().rfind("junk:", 0), 0u);
  auto missing = binlog_file_reader::open("/nonexistent/binlog.000001");
  ASSERT_FALSE(missing);
}

} // namespace
} // namespace shoal::binlog

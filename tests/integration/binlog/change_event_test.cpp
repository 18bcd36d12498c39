// Change events (change_event.hpp) of rows a real server wrote, decoded from its
// binlog file, against the server's own rendering of the same values: every
// column of every row must read as the server prints it (DATE_FORMAT, CAST,
// TO_BASE64, CONVERT ... USING utf8mb4). The envelope and the errors:
// tests/unit/binlog/change_event_test.cpp.
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "actors/binlog/decoder/binlog_file_reader.hpp"
#include "actors/binlog/sync/change_event.hpp"
#include "tests/integration/binlog/sync_test_support.hpp"

namespace shoal::test {
namespace {

using nlohmann::json;

class change_event_test : public sync_fixture {};

// The formats of `db`.`table`'s columns, from information_schema.
std::vector<binlog::column_format> formats(mysql_connection& conn, const std::string& db,
                                           const std::string& table) {
  auto r =
      run(conn,
          "SELECT c.COLUMN_NAME, c.CHARACTER_SET_NAME, c.DATA_TYPE, c.COLUMN_TYPE, "
          "c.DATETIME_PRECISION, (SELECT COUNT(*) FROM "
          "information_schema.CHECK_CONSTRAINTS k WHERE k.CONSTRAINT_SCHEMA = "
          "c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME AND k.CHECK_CLAUSE = "
          "CONCAT('json_valid(`', c.COLUMN_NAME, '`)')) FROM information_schema.COLUMNS "
          "c WHERE c.TABLE_SCHEMA = '" +
              db + "' AND c.TABLE_NAME = '" + table + "' ORDER BY c.ORDINAL_POSITION");
  std::vector<binlog::column_format> out;
  for (auto& row : r.rows) {
    binlog::column_format f;
    f.name = row.at(0).value_or("");
    f.charset = row.at(1).value_or("");
    auto type = row.at(2).value_or("");
    f.json = type == "json" || row.at(5).value_or("0") != "0";
    if (type == "enum" || type == "set") {
      // enum('a','b'): members in quotes, '' for a quote inside.
      auto text = row.at(3).value_or("");
      for (size_t i = text.find('\''); i != std::string::npos && i < text.size();) {
        std::string m;
        size_t j = i + 1;
        for (; j < text.size(); ++j) {
          if (text[j] == '\'' && j + 1 < text.size() && text[j + 1] == '\'') {
            m += '\'';
            ++j;
          } else if (text[j] == '\'') {
            break;
          } else {
            m += text[j];
          }
        }
        f.members.push_back(m);
        i = text.find('\'', j + 1);
      }
    }
    f.fsp = static_cast<uint8_t>(std::stoi(row.at(4).value_or("0")));
    out.push_back(f);
  }
  return out;
}

struct written {
  std::vector<binlog::row_image> rows;
  std::shared_ptr<const binlog::table_map> map;
};

// Every row image written to `table` after `from` in the server's binlog, and
// the last TABLE_MAP of the table.
written written_rows(mariadb_server& server, const binlog::binlog_position& from,
                     const std::string& table) {
  auto reader = binlog::binlog_file_reader::open((server.datadir() / from.file).string());
  if (!reader)
    throw std::runtime_error(reader.error().to_string());
  written out;
  while (true) {
    auto e = reader->next();
    if (!e)
      throw std::runtime_error(e.error().to_string());
    if (!*e)
      break;
    if ((*e)->offset < from.pos)
      continue;
    if (auto* rows = std::get_if<binlog::rows_event>(&(*e)->body);
        rows && rows->table->table == table) {
      out.map = rows->table;
      for (auto& r : rows->rows)
        out.rows.push_back(r.after);
    }
  }
  return out;
}

TEST_F(change_event_test, every_value_reads_as_the_server_prints_it) {
  auto src = source().connect();
  run(src, "CREATE DATABASE ce");
  run(src,
      "CREATE TABLE ce.t (id INT UNSIGNED PRIMARY KEY, bi BIGINT UNSIGNED, sm "
      "SMALLINT, f FLOAT, d DOUBLE, dc DECIMAL(12,4), dt DATE, tm TIME(3), dtm "
      "DATETIME(6), ts TIMESTAMP(2) NULL DEFAULT NULL, y YEAR, vc VARCHAR(40) "
      "CHARACTER SET utf8mb4, l1 VARCHAR(20) CHARACTER SET latin1, vb VARBINARY(20), "
      "bl BLOB, e ENUM('red','gr''een'), s SET('a','b','c'), b BIT(10), j JSON)");
  auto from = master_position(src);
  run(src, "SET SESSION time_zone = '+00:00'");
  run(src, "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION,ALLOW_INVALID_DATES'");
  run(src,
      "INSERT INTO ce.t VALUES (4294967295, 18446744073709551615, -32768, 1.1, "
      "3.141592653589793, -12345678.1234, '2026-12-07', '-838:59:59.999', "
      "'2026-12-07 10:11:12.000001', '2026-12-07 10:11:12.5', 2026, _utf8mb4 "
      "x'4772C3BCC39F6520F09F909F', "
      "x'80e9ff9d818a', x'00ff27', x'000102030405060708090a0b0c0d0e0f10', 'gr''een', "
      "'a,c', b'1000000001', '{\"k\": [1, 2.5, \"x\"], \"n\": null}')");
  run(src, "INSERT INTO ce.t VALUES (0, 0, 0, -0.25, 0.5, 0, '0000-00-00', '00:00:00', "
           "'2026-02-31 00:00:00', '1970-01-01 00:00:01', 0, '', '', '', '', 'red', '', "
           "b'0', '[]')");
  run(src, "INSERT INTO ce.t (id) VALUES (7)");
  run(src, "INSERT INTO ce.t (id, e) VALUES (8, '')"); // ENUM's empty error value

  auto cols = formats(src, "ce", "t");
  auto [rows, map] = written_rows(source(), from, "t");
  ASSERT_EQ(rows.size(), 4u);
  // The binlog's own metadata (FULL) says the same, but for MariaDB's JSON,
  // which is LONGTEXT to the binlog.
  std::map<uint32_t, std::string> collations;
  for (auto& row : run(src, "SELECT ID, CHARACTER_SET_NAME FROM "
                            "information_schema.COLLATIONS")
                       .rows)
    collations[static_cast<uint32_t>(std::stoul(row.at(0).value_or("0")))] =
        row.at(1).value_or("");
  auto from_binlog =
      binlog::formats_of(*map, [&](uint32_t id) { return collations[id]; });
  ASSERT_TRUE(from_binlog) << from_binlog.error();
  ASSERT_EQ(from_binlog->size(), cols.size());
  for (size_t c = 0; c < cols.size(); ++c) {
    SCOPED_TRACE("column " + cols[c].name);
    auto& b = (*from_binlog)[c];
    EXPECT_EQ(b.name, cols[c].name);
    EXPECT_EQ(b.charset.empty() ? "binary" : b.charset,
              cols[c].charset.empty() ? "binary" : cols[c].charset);
    EXPECT_EQ(b.members, cols[c].members);
    EXPECT_EQ(b.fsp, cols[c].fsp);
    EXPECT_EQ(b.json, cols[c].json && cols[c].name != "j");
  }
  // The server's rendering of each column in change_event's format; NULL stays NULL.
  std::vector<std::string> exprs = {
      "CAST(id AS CHAR)",
      "CAST(bi AS CHAR)",
      "CAST(sm AS CHAR)",
      "CAST(f AS CHAR)",
      "CAST(d AS CHAR)",
      "CAST(dc AS CHAR)",
      "CAST(dt AS CHAR)",
      "CAST(tm AS CHAR)",
      "REPLACE(CAST(dtm AS CHAR), ' ', 'T')",
      "CONCAT(REPLACE(CAST(ts AS CHAR), ' ', 'T'), 'Z')",
      "CAST(y + 0 AS CHAR)",
      "HEX(CONVERT(vc USING utf8mb4))",
      "HEX(CONVERT(l1 USING utf8mb4))",
      "REPLACE(TO_BASE64(vb), '\\n', '')",
      "REPLACE(TO_BASE64(bl), '\\n', '')",
      "CAST(e AS CHAR)",
      "CAST(s AS CHAR)",
      "CAST(b + 0 AS CHAR)",
      "j",
  };
  ASSERT_EQ(cols.size(), exprs.size());
  std::string select = "SELECT ";
  for (size_t i = 0; i < exprs.size(); ++i)
    select += (i ? ", " : "") + exprs[i];
  auto expected = run(src, select + " FROM ce.t ORDER BY FIELD(id, 4294967295, 0, 7, 8)");
  ASSERT_EQ(expected.rows.size(), rows.size());

  for (size_t r = 0; r < rows.size(); ++r) {
    binlog::change_source where;
    where.pipeline = "p";
    where.db = "ce";
    where.table = "t";
    auto doc =
        binlog::change_event(binlog::change_op::insert, cols, {0}, {}, rows[r], where);
    ASSERT_TRUE(doc) << doc.error();
    auto after = json::parse(*doc).at("after");
    for (size_t c = 0; c < cols.size(); ++c) {
      auto& name = cols[c].name;
      SCOPED_TRACE("row " + std::to_string(r) + ", column " + name);
      auto& want = expected.rows[r].at(c);
      auto& got = after.at(name);
      if (!want) {
        EXPECT_TRUE(got.is_null()) << got.dump();
        continue;
      }
      if (name == "j") {
        EXPECT_EQ(got, json::parse(*want));
      } else if (name == "vc" || name == "l1") {
        std::string hex;
        for (unsigned char ch : got.get<std::string>()) {
          static constexpr char digits[] = "0123456789ABCDEF";
          hex += digits[ch >> 4];
          hex += digits[ch & 15];
        }
        EXPECT_EQ(hex, *want);
      } else if (got.is_string()) {
        EXPECT_EQ(got.get<std::string>(), *want);
      } else {
        EXPECT_EQ(got.dump(), *want);
      }
    }
  }
}

} // namespace
} // namespace shoal::test

// Change events (change_event.hpp) of rows a real server wrote, decoded from its
// binlog file, against the server's own rendering of the same values: every
// column of every row must read as the server prints it (DATE_FORMAT, CAST,
// TO_BASE64, CONVERT ... USING utf8mb4).
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

TEST_F(change_event_test, an_update_has_both_images_and_a_delete_the_key_of_its_before) {
  std::vector<binlog::column_format> cols = {{"id", "", false, {}, 0},
                                             {"name", "utf8mb4", false, {}, 0}};
  binlog::row_image before{{true, true}, {uint64_t{7}, binlog::bytes_value{"old"}}};
  binlog::row_image after{{true, true}, {uint64_t{8}, binlog::bytes_value{"new"}}};
  binlog::change_source where;
  where.pipeline = "shop";
  where.server_id = 1;
  where.db = "shop";
  where.table = "sku";
  where.at = {"binlog.000003", 4711};
  where.row = 2;
  where.gtid = "0-1-100";
  where.ts_ms = 1765130000000;
  where.transaction_id = "0-1-100";
  where.total_order = 3;
  where.data_collection_order = 1;
  auto u =
      binlog::change_event(binlog::change_op::update, cols, {0}, before, after, where);
  ASSERT_TRUE(u) << u.error();
  auto doc = json::parse(*u);
  EXPECT_EQ(doc.at("op"), "u");
  EXPECT_EQ(doc.at("key"), (json{{"id", 8}}));
  EXPECT_EQ(doc.at("before"), (json{{"id", 7}, {"name", "old"}}));
  EXPECT_EQ(doc.at("after"), (json{{"id", 8}, {"name", "new"}}));
  EXPECT_EQ(doc.at("source").at("file"), "binlog.000003");
  EXPECT_EQ(doc.at("source").at("pos"), 4711);
  EXPECT_EQ(doc.at("source").at("row"), 2);
  EXPECT_EQ(doc.at("source").at("gtid"), "0-1-100");
  EXPECT_EQ(doc.at("transaction").at("total_order"), 3);

  auto d = binlog::change_event(binlog::change_op::delete_, cols, {0}, before, {}, where);
  ASSERT_TRUE(d) << d.error();
  doc = json::parse(*d);
  EXPECT_EQ(doc.at("op"), "d");
  EXPECT_EQ(doc.at("key"), (json{{"id", 7}}));
  EXPECT_TRUE(doc.at("after").is_null());

  // A column the image lacks (binlog_row_image=MINIMAL) is left out, not null.
  binlog::row_image partial{{true, false}, {uint64_t{8}, binlog::null_value{}}};
  auto m =
      binlog::change_event(binlog::change_op::update, cols, {0}, partial, partial, where);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(json::parse(*m).at("after"), (json{{"id", 8}}));
}

TEST_F(change_event_test,
       formats_from_the_binlog_convert_members_and_need_full_metadata) {
  binlog::table_map tm;
  tm.schema = "shop";
  tm.table = "sku";
  binlog::column_def e;
  e.type = static_cast<uint8_t>(binlog::column_type::string);
  e.real_type = static_cast<uint8_t>(binlog::column_type::enum_);
  e.name = "size";
  e.charset = 8; // latin1_swedish_ci
  e.enum_values = {"S", "\xe9t\xe9"};
  binlog::column_def t;
  t.type = t.real_type = static_cast<uint8_t>(binlog::column_type::datetime2);
  t.length = 3;
  t.name = "at";
  tm.columns = {e, t};
  auto latin1 = [](uint32_t id) {
    return id == 8 ? std::string{"latin1"} : std::string{};
  };
  auto f = binlog::formats_of(tm, latin1);
  ASSERT_TRUE(f) << f.error();
  EXPECT_EQ(f->at(0).members, (std::vector<std::string>{"S", "\xc3\xa9t\xc3\xa9"}));
  EXPECT_EQ(f->at(1).fsp, 3);
  // Without names (binlog_row_metadata MINIMAL or NO_LOG) there is nothing to go by.
  tm.columns[1].name.reset();
  f = binlog::formats_of(tm, latin1);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().find("binlog_row_metadata = 'FULL'"), std::string::npos)
      << f.error();
  // A collation the source does not list.
  tm.columns[1].name = "at";
  tm.columns[0].charset = 9999;
  f = binlog::formats_of(tm, latin1);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().find("9999"), std::string::npos) << f.error();
}

TEST_F(change_event_test,
       a_value_it_cannot_write_faithfully_is_an_error_naming_the_column) {
  binlog::change_source where;
  where.db = "shop";
  where.table = "sku";
  auto one = [&](binlog::column_format f, binlog::column_value v) {
    binlog::row_image image{{true}, {std::move(v)}};
    auto r = binlog::change_event(binlog::change_op::insert, {f}, {}, {}, image, where);
    return r ? std::string{} : r.error();
  };
  EXPECT_EQ(one({"c", "utf8mb4", false, {}, 0}, binlog::bytes_value{"\xff"}),
            "column `c` of `shop`.`sku` holds bytes that are not valid utf8mb4");
  EXPECT_EQ(one({"c", "utf8mb3", false, {}, 0}, binlog::bytes_value{"\xf0\x9f\x90\x9f"}),
            "column `c` of `shop`.`sku` holds bytes that are not valid utf8mb3");
  EXPECT_NE(one({"c", "gbk", false, {}, 0}, binlog::bytes_value{"a"}).find("gbk"),
            std::string::npos);
  EXPECT_EQ(one({"e", "", false, {"red"}, 0}, binlog::enum_value{2}),
            "column `e` of `shop`.`sku` holds ENUM index 2 past its 1 members");
  EXPECT_EQ(one({"c", "utf8mb4", false, {}, 0}, binlog::bytes_value{"ok"}), "");
}

} // namespace
} // namespace shoal::test

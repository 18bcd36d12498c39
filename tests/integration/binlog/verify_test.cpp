// The verifier against real servers: identical tables of every type family are
// identical; each kind of difference (changed value, missing row, extra row, NULL
// vs '', duplicate rows without a key, missing table, column definition) is found
// and named; chunks cover every key; `shoal verify` exits 0, 1 and 2.
#include "actors/binlog/verify/verifier.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/shared_servers.hpp"
#include "tests/support/temp_dir.hpp"

using namespace std::chrono_literals;
using shoal::mysql_connection;
using shoal::binlog::row_difference;
using shoal::binlog::table_filter;
using shoal::binlog::table_report;
using shoal::binlog::verify_options;
using shoal::binlog::verify_report;

namespace {

using kind = row_difference::kind;

void run(mysql_connection& conn, const std::string& sql) {
  auto r = conn.exec(sql);
  if (!r)
    throw std::runtime_error(sql.substr(0, 120) + ": " + r.error().to_string());
}

class verify_test : public shoal::test::server_test {
protected:
  void SetUp() override {
    server_test::SetUp();
    src_.emplace(source().connect());
    dst_.emplace(target().connect());
    run(src(), "SET time_zone = '+00:00'");
    run(dst(), "SET time_zone = '+00:00'");
  }

  mysql_connection& src() { return *src_; }
  mysql_connection& dst() { return *dst_; }

  /// Runs each statement on both servers.
  void both(std::initializer_list<std::string> statements) {
    for (auto& sql : statements) {
      run(src(), sql);
      run(dst(), sql);
    }
  }

  verify_report verify(table_filter filter = {}, int64_t chunk_rows = 1000) {
    verify_options options;
    options.chunk_rows = chunk_rows;
    shoal::binlog::verifier v{src(), dst(), std::move(filter), options};
    auto report = v.run();
    if (!report)
      throw std::runtime_error(report.error().to_string());
    return std::move(*report);
  }

  static const table_report& table(const verify_report& r, const std::string& name) {
    for (auto& t : r.tables)
      if (t.source_table == name)
        return t;
    throw std::runtime_error("no table " + name + " in report:\n" + r.to_text());
  }

  /// The listed keys of one kind, in report order.
  static std::vector<std::string> keys(const table_report& t, kind what) {
    std::vector<std::string> out;
    for (auto& r : t.rows)
      if (r.what == what)
        out.push_back(r.key);
    return out;
  }

private:
  std::optional<mysql_connection> src_;
  std::optional<mysql_connection> dst_;
};

using strings = std::vector<std::string>;

const char* all_types_table =
    "CREATE TABLE d.types ("
    " id INT PRIMARY KEY,"
    " ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT, bi BIGINT,"
    " bu BIGINT UNSIGNED, de DECIMAL(30,10), fl FLOAT, dbl DOUBLE,"
    " da DATE, tm TIME(3), dt DATETIME(6), ts TIMESTAMP(6) NULL, yr YEAR,"
    " ch CHAR(10), vc VARCHAR(100) CHARACTER SET utf8mb4, lat VARCHAR(20) CHARACTER SET "
    "latin1,"
    " bn BINARY(4), vb VARBINARY(64), bl BLOB, tx LONGTEXT,"
    " en ENUM('a','b','c'), st SET('x','y','z'), bt BIT(10), js JSON)";

const char* all_types_rows =
    "INSERT INTO d.types VALUES"
    " (1, -128, 255, -32768, -8388608, -9223372036854775808, 18446744073709551615,"
    "  -12345678901234567890.0123456789, -1.5, 2.25e300, '1000-01-01', '-838:59:59.999',"
    "  '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', 2155,"
    "  'abc', 'caf\xC3\xA9 \xF0\x9F\x90\x9F', 'd\xC3\xA9j\xC3\xA0', 0x00000001, 0x00FF00,"
    "  0x000102, 'text', 'a', 'x,z', b'1010101010', '{\"k\": [1, 2]}'),"
    " (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    "  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
    " (3, 0, 0, 0, 0, 0, 0, 0, 0, 0, '0000-00-00', '00:00:00', '0000-00-00 00:00:00',"
    "  NULL, 0, '', '', '', 0x00000000, '', '', '', 'c', '', b'0', '{}')";

TEST_F(verify_test, identical_tables_of_every_type_family_are_identical) {
  both({"CREATE DATABASE d", all_types_table, all_types_rows,
        "CREATE TABLE d.composite (a INT, b VARCHAR(20), c DOUBLE, PRIMARY KEY (a, b))",
        "INSERT INTO d.composite VALUES (1, 'x', 1.5), (1, 'y', NULL), (2, '', 0)",
        "CREATE TABLE d.nokey (a INT, b VARCHAR(10))",
        "INSERT INTO d.nokey VALUES (1, 'x'), (1, 'x'), (NULL, NULL), (2, '')",
        "CREATE TABLE d.empty (id INT PRIMARY KEY)"});
  auto r = verify();
  EXPECT_TRUE(r.identical()) << r.to_text();
  ASSERT_EQ(r.tables.size(), 4u) << r.to_text();
  EXPECT_EQ(table(r, "types").source_rows, 3u);
  EXPECT_EQ(table(r, "types").target_rows, 3u);
  EXPECT_EQ(table(r, "composite").primary_key, (strings{"a", "b"}));
  EXPECT_TRUE(table(r, "nokey").primary_key.empty());
  EXPECT_EQ(table(r, "nokey").source_rows, 4u);
  EXPECT_NE(r.to_text().find("identical: 4 tables"), std::string::npos) << r.to_text();
}

TEST_F(verify_test, each_changed_column_of_every_type_is_found) {
  both({"CREATE DATABASE d", all_types_table, all_types_rows});
  const strings changes = {"ti = -127",
                           "tu = 254",
                           "bi = bi + 1",
                           "bu = 18446744073709551614",
                           "de = de - 0.0000000001",
                           "fl = -1.25",
                           "dbl = 2.5e300",
                           "tm = '-838:59:59.998'",
                           "dt = '9999-12-31 23:59:59.999998'",
                           "ts = '2038-01-19 03:14:07.999998'",
                           "ch = 'abd'",
                           "vc = 'caf\xC3\xA9 \xF0\x9F\x90\xA0'",
                           "bn = 0x00000002",
                           "vb = 0x00FF01",
                           "bl = 0x000103",
                           "en = 'b'",
                           "st = 'x,y,z'",
                           "bt = b'1010101011'",
                           "js = '{\"k\": [1, 3]}'"};
  for (auto& change : changes) {
    run(dst(), "UPDATE d.types SET " + change + " WHERE id = 1");
    auto r = verify();
    auto& t = table(r, "types");
    EXPECT_EQ(t.different_rows, 1u) << change << '\n' << r.to_text();
    EXPECT_EQ(keys(t, kind::different), (strings{"id=1"})) << change;
    run(dst(), "DROP TABLE d.types");
    run(dst(), all_types_table);
    run(dst(), all_types_rows);
    ASSERT_TRUE(verify().identical()) << "after restoring " << change;
  }
}

TEST_F(verify_test, null_and_empty_string_and_column_boundaries_differ) {
  both({"CREATE DATABASE d",
        "CREATE TABLE d.t (id INT PRIMARY KEY, a VARCHAR(10), b VARCHAR(10))"});
  run(src(), "INSERT INTO d.t VALUES (1, '', 'x'), (2, 'ab', 'c'), (3, 'N', NULL), (4, "
             "'#', '')");
  run(dst(), "INSERT INTO d.t VALUES (1, NULL, 'x'), (2, 'a', 'bc'), (3, NULL, 'N'), (4, "
             "'', '#')");
  auto r = verify();
  auto& t = table(r, "t");
  EXPECT_EQ(t.status, table_report::state::rows_differ);
  EXPECT_EQ(keys(t, kind::different), (strings{"id=1", "id=2", "id=3", "id=4"}))
      << r.to_text();
}

TEST_F(verify_test, changed_missing_and_extra_rows_are_named) {
  both({"CREATE DATABASE d", "CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(20))",
        "INSERT INTO d.t SELECT seq, CONCAT('v', seq) FROM d.seq_1_to_50"});
  run(dst(), "UPDATE d.t SET v = 'changed' WHERE id = 10");
  run(dst(), "DELETE FROM d.t WHERE id IN (20, 50)");
  run(dst(), "INSERT INTO d.t VALUES (0, 'before'), (100, 'after')");
  run(src(), "DELETE FROM d.t WHERE id = 25");
  auto r = verify({}, 7);
  EXPECT_FALSE(r.identical());
  auto& t = table(r, "t");
  EXPECT_EQ(t.status, table_report::state::rows_differ);
  EXPECT_EQ(keys(t, kind::different), (strings{"id=10"})) << r.to_text();
  EXPECT_EQ(keys(t, kind::missing_on_target), (strings{"id=20", "id=50"})) << r.to_text();
  EXPECT_EQ(keys(t, kind::extra_on_target), (strings{"id=0", "id=25", "id=100"}))
      << r.to_text();
  EXPECT_EQ(t.different_rows, 1u);
  EXPECT_EQ(t.missing_rows, 2u);
  EXPECT_EQ(t.extra_rows, 3u);
  EXPECT_EQ(t.source_rows, 49u);
  EXPECT_EQ(t.target_rows, 50u);
  auto text = r.to_text();
  EXPECT_NE(text.find("DIFFERENT  d.t"), std::string::npos) << text;
  EXPECT_NE(text.find("missing on target: id=20"), std::string::npos) << text;
  auto json = nlohmann::json::parse(r.to_json());
  EXPECT_FALSE(json["identical"].get<bool>());
  EXPECT_EQ(json["tables"][0]["missing_rows"].get<int>(), 2);
}

TEST_F(verify_test, composite_and_string_keys_are_named_with_every_part) {
  both({"CREATE DATABASE d",
        "CREATE TABLE d.t (region VARCHAR(10), id BIGINT, b VARBINARY(4), v INT,"
        " PRIMARY KEY (region, id, b))",
        "INSERT INTO d.t VALUES ('eu', 1, 0x00, 1), ('eu', 2, 0x00, 2), ('us', 1, 0x01, "
        "3),"
        " ('us', 1, 0x02, 4), ('it''s', 5, 'k', 5)"});
  run(dst(), "UPDATE d.t SET v = 40 WHERE region = 'us' AND b = 0x02");
  run(dst(), "DELETE FROM d.t WHERE region = 'eu' AND id = 2");
  run(dst(), "UPDATE d.t SET v = 50 WHERE id = 5");
  auto r = verify({}, 2);
  auto& t = table(r, "t");
  EXPECT_EQ(keys(t, kind::different),
            (strings{"region='it\\'s', id=5, b='k'", "region='us', id=1, b=0x02"}))
      << r.to_text();
  EXPECT_EQ(keys(t, kind::missing_on_target), (strings{"region='eu', id=2, b=0x00"}))
      << r.to_text();
}

TEST_F(verify_test, case_insensitive_keys_chunk_in_collation_order) {
  both({"CREATE DATABASE d",
        "CREATE TABLE d.t (k VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
        " PRIMARY KEY, v INT)",
        "INSERT INTO d.t VALUES ('a', 1), ('B', 2), ('c', 3), ('D', 4), "
        "('\xC3\xA9t\xC3\xA9', 5),"
        " ('Z', 6), ('\xF0\x9F\x90\x9F', 7)"});
  EXPECT_TRUE(verify({}, 2).identical()) << verify({}, 2).to_text();
  run(dst(), "UPDATE d.t SET v = 0 WHERE k = 'c'");
  auto r = verify({}, 2);
  EXPECT_EQ(keys(table(r, "t"), kind::different), (strings{"k='c'"})) << r.to_text();
  EXPECT_EQ(table(r, "t").mismatched_chunks, 1u);
}

TEST_F(verify_test, tables_without_a_key_compare_as_multisets) {
  both({"CREATE DATABASE d", "CREATE TABLE d.t (a INT, b VARCHAR(10))"});
  run(src(), "INSERT INTO d.t VALUES (1, 'x'), (1, 'x'), (1, 'x'), (2, 'y'), (3, NULL)");
  run(dst(), "INSERT INTO d.t VALUES (1, 'x'), (2, 'y'), (2, 'y'), (3, NULL), (4, 'z')");
  auto r = verify();
  auto& t = table(r, "t");
  EXPECT_EQ(t.status, table_report::state::rows_differ) << r.to_text();
  EXPECT_TRUE(t.primary_key.empty());
  EXPECT_EQ(t.missing_rows, 2u) << r.to_text();
  EXPECT_EQ(t.extra_rows, 2u) << r.to_text();
  ASSERT_EQ(keys(t, kind::missing_on_target).size(), 1u) << r.to_text();
  EXPECT_EQ(keys(t, kind::missing_on_target)[0], "(1, 'x')");
  auto extra = keys(t, kind::extra_on_target);
  std::sort(extra.begin(), extra.end());
  EXPECT_EQ(extra, (strings{"(2, 'y')", "(4, 'z')"})) << r.to_text();
  auto text = r.to_text();
  EXPECT_NE(text.find("missing on target: (1, 'x') (x2)"), std::string::npos) << text;
}

TEST_F(verify_test, missing_tables_and_column_differences_are_reported) {
  both({"CREATE DATABASE d", "CREATE TABLE d.same (id INT PRIMARY KEY)"});
  run(src(), "CREATE TABLE d.only_source (id INT PRIMARY KEY)");
  run(src(), "INSERT INTO d.only_source VALUES (1), (2)");
  run(dst(), "CREATE TABLE d.only_target (id INT PRIMARY KEY)");
  run(src(), "CREATE TABLE d.cols (id INT PRIMARY KEY, a INT, b VARCHAR(10), c INT)");
  run(dst(), "CREATE TABLE d.cols (id INT PRIMARY KEY, a BIGINT, b VARCHAR(10) NOT NULL, "
             "extra INT)");
  run(src(), "INSERT INTO d.cols VALUES (1, 5, 'x', 7)");
  run(dst(), "INSERT INTO d.cols VALUES (1, 5, 'x', 9)");
  run(src(), "CREATE DATABASE only_src_db");
  run(src(), "CREATE TABLE only_src_db.t (id INT PRIMARY KEY)");
  auto r = verify();
  EXPECT_FALSE(r.identical());
  EXPECT_TRUE(table(r, "same").identical());
  EXPECT_EQ(table(r, "only_source").status, table_report::state::missing_on_target);
  EXPECT_EQ(table(r, "only_source").source_rows, 2u);
  EXPECT_EQ(table(r, "only_target").status, table_report::state::missing_on_source);
  EXPECT_EQ(table(r, "t").status, table_report::state::missing_on_target);
  auto& cols = table(r, "cols");
  EXPECT_TRUE(cols.rows.empty()) << "rows equal over the common columns\n" << r.to_text();
  auto diffs = cols.column_differences;
  auto has = [&](const std::string& needle) {
    return std::any_of(diffs.begin(), diffs.end(), [&](const std::string& d) {
      return d.find(needle) != std::string::npos;
    });
  };
  EXPECT_TRUE(has("column `a`: source int(11) NULL, target bigint(20) NULL"))
      << r.to_text();
  EXPECT_TRUE(has("column `b`")) << r.to_text();
  EXPECT_TRUE(has("column `c` missing on target")) << r.to_text();
  EXPECT_TRUE(has("column `extra` extra on target")) << r.to_text();
  auto text = r.to_text();
  EXPECT_NE(text.find("MISSING    d.only_source"), std::string::npos) << text;
  EXPECT_NE(text.find("EXTRA      d.only_target"), std::string::npos) << text;
}

TEST_F(verify_test, filter_and_renames_choose_and_map_the_tables) {
  run(src(), "CREATE DATABASE shop");
  run(src(), "CREATE TABLE shop.orders (id INT PRIMARY KEY, v INT)");
  run(src(), "CREATE TABLE shop.items (id INT PRIMARY KEY, v INT)");
  run(src(), "CREATE TABLE shop.tmp_x (id INT PRIMARY KEY)");
  run(src(), "INSERT INTO shop.tmp_x VALUES (1)");
  run(src(), "INSERT INTO shop.orders VALUES (1, 1), (2, 2)");
  run(src(), "INSERT INTO shop.items VALUES (7, 7)");
  run(dst(), "CREATE DATABASE mirror");
  run(dst(), "CREATE DATABASE archive");
  run(dst(), "CREATE TABLE mirror.items (id INT PRIMARY KEY, v INT)");
  run(dst(), "CREATE TABLE archive.orders_old (id INT PRIMARY KEY, v INT)");
  run(dst(), "INSERT INTO archive.orders_old VALUES (1, 1), (2, 2)");
  run(dst(), "INSERT INTO mirror.items VALUES (7, 7)");
  run(dst(), "CREATE DATABASE shoal");
  run(dst(), "CREATE TABLE shoal.checkpoint (p INT PRIMARY KEY)");
  table_filter filter{{"shop.*"},
                      {"shop.tmp_*"},
                      {{"shop", "mirror"}, {"shop.orders", "archive.orders_old"}}};
  auto r = verify(filter);
  EXPECT_TRUE(r.identical()) << r.to_text();
  ASSERT_EQ(r.tables.size(), 2u) << r.to_text();
  EXPECT_EQ(table(r, "orders").name(), "shop.orders -> archive.orders_old");
  run(dst(), "CREATE TABLE mirror.stray (id INT PRIMARY KEY)");
  run(dst(), "UPDATE archive.orders_old SET v = 3 WHERE id = 2");
  r = verify(filter);
  EXPECT_EQ(keys(table(r, "orders"), kind::different), (strings{"id=2"})) << r.to_text();
  EXPECT_EQ(table(r, "stray").status, table_report::state::missing_on_source)
      << r.to_text();
  EXPECT_EQ(table(r, "stray").source_database, "shop");
}

TEST_F(verify_test, big_table_spans_many_chunks_and_one_bad_chunk_is_narrowed) {
  both({"CREATE DATABASE d",
        "CREATE TABLE d.big (id INT PRIMARY KEY, a VARCHAR(40), b DOUBLE, c BLOB)",
        "INSERT INTO d.big SELECT seq, MD5(seq), seq / 7, IF(seq % 3 = 0, NULL, "
        "UNHEX(MD5(seq))) FROM d.seq_1_to_20000"});
  auto r = verify({}, 1000);
  EXPECT_TRUE(r.identical()) << r.to_text();
  EXPECT_EQ(table(r, "big").chunks, 21u) << "20 full chunks and the open end";
  EXPECT_EQ(table(r, "big").source_rows, 20000u);
  run(dst(), "UPDATE d.big SET c = 'changed' WHERE id = 12345");
  run(dst(), "DELETE FROM d.big WHERE id = 19999");
  r = verify({}, 1000);
  auto& t = table(r, "big");
  EXPECT_EQ(t.mismatched_chunks, 2u) << r.to_text();
  EXPECT_EQ(keys(t, kind::different), (strings{"id=12345"})) << r.to_text();
  EXPECT_EQ(keys(t, kind::missing_on_target), (strings{"id=19999"})) << r.to_text();
}

// -- the command line -------------------------------------------------------

class verify_cli_test : public verify_test {
protected:
  std::string write_config(uint16_t source_port, uint16_t target_port) {
    nlohmann::json server = {{"host", "127.0.0.1"},
                             {"user", "root"},
                             {"password_env", "SHOAL_VERIFY_TEST_PW"}};
    auto src = server;
    src["port"] = source_port;
    src["server_id"] = 1001;
    auto tgt = server;
    tgt["port"] = target_port;
    auto pipeline = nlohmann::json::object();
    pipeline["name"] = "main";
    pipeline["source"] = src;
    pipeline["target"] = tgt;
    pipeline["include"] = nlohmann::json::array({"d.*"});
    auto cfg = nlohmann::json::object();
    cfg["node"] = {{"name", "n1"}, {"host", "127.0.0.1"}, {"port", 0}};
    cfg["sync"]["pipelines"] = nlohmann::json::array({pipeline});
    auto path = dir_.path() / "shoal.json";
    std::ofstream(path) << cfg.dump(2);
    return path.string();
  }

  shoal::test::child_process verify_cli(const std::string& config,
                                        std::vector<std::string> extra = {}) {
    shoal::test::process_options opts;
    opts.program = shoal::test::shoal_binary();
    opts.args = {"verify", "--config", config, "--pipeline", "main"};
    opts.args.insert(opts.args.end(), extra.begin(), extra.end());
    opts.env = {{"SHOAL_VERIFY_TEST_PW", source().password()}};
    opts.output_dir = dir_.path();
    opts.name = "verify";
    return shoal::test::child_process(opts);
  }

  static int exit_code(shoal::test::child_process& p) {
    auto status = p.wait_for_exit(60s);
    if (!status) {
      p.kill();
      throw std::runtime_error("shoal verify did not exit\n" + p.output_tail());
    }
    if (!status->exited)
      throw std::runtime_error("shoal verify: " + status->to_string() + "\n" +
                               p.output_tail());
    return status->code;
  }

  shoal::test::temp_dir dir_{"verify-cli"};
};

TEST_F(verify_cli_test, exit_codes_say_identical_different_or_unusable) {
  ASSERT_EQ(source().password(), target().password());
  both({"CREATE DATABASE d", "CREATE TABLE d.t (id INT PRIMARY KEY, v INT)",
        "INSERT INTO d.t SELECT seq, seq FROM d.seq_1_to_100"});
  auto config = write_config(source().port(), target().port());
  {
    auto p = verify_cli(config);
    EXPECT_EQ(exit_code(p), 0) << p.output_tail();
    EXPECT_NE(p.output().find("identical  d.t (100 rows"), std::string::npos)
        << p.output_tail();
  }
  run(dst(), "DELETE FROM d.t WHERE id = 42");
  {
    auto p = verify_cli(config, {"--chunk-rows", "10"});
    EXPECT_EQ(exit_code(p), 1) << p.output_tail();
    EXPECT_NE(p.output().find("missing on target: id=42"), std::string::npos)
        << p.output_tail();
  }
  {
    auto p = verify_cli(config, {"--json"});
    EXPECT_EQ(exit_code(p), 1) << p.output_tail();
    auto doc = nlohmann::json::parse(p.output(shoal::test::output_stream::out));
    EXPECT_FALSE(doc["identical"].get<bool>());
    EXPECT_EQ(doc["tables"][0]["rows"][0]["key"], "id=42");
  }
  {
    auto p = verify_cli(config, {"--chunk-rows", "0"});
    EXPECT_EQ(exit_code(p), 2) << p.output_tail();
  }
  {
    shoal::test::process_options opts;
    opts.program = shoal::test::shoal_binary();
    opts.args = {"verify", "--config", config, "--pipeline", "nope"};
    opts.output_dir = dir_.path();
    shoal::test::child_process p(opts);
    EXPECT_EQ(exit_code(p), 2) << p.output_tail();
    EXPECT_NE(p.output().find("no pipeline \"nope\""), std::string::npos)
        << p.output_tail();
  }
  {
    auto port = shoal::test::free_port();
    auto unreachable = write_config(source().port(), port);
    auto p = verify_cli(unreachable);
    EXPECT_EQ(exit_code(p), 2) << p.output_tail();
    EXPECT_NE(p.output().find("target at 127.0.0.1:" + std::to_string(port)),
              std::string::npos)
        << p.output_tail();
  }
}

} // namespace

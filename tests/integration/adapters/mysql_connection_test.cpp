#include "runtime/adapters/mysql_connection.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <stdexcept>

#include "tests/support/free_port.hpp"
#include "tests/support/shared_servers.hpp"

using namespace std::chrono_literals;
using shoal::mysql_connection;
using shoal::mysql_expected;

namespace {

class mysql_connection_test : public shoal::test::server_test {
protected:
  // Runs `sql` and fails the test with the error if it does not succeed.
  static shoal::mysql_result run(mysql_connection& conn, std::string_view sql) {
    auto result = conn.query(sql);
    if (!result)
      throw std::runtime_error(std::string{sql.substr(0, 80)} + ": " +
                               result.error().to_string());
    return std::move(*result);
  }

  static std::string hex(std::string_view bytes) {
    static const char* digits = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : bytes) {
      out += digits[c >> 4];
      out += digits[c & 15];
    }
    return out;
  }
};

std::string all_bytes() {
  std::string bytes;
  for (int round = 0; round < 3; ++round)
    for (int c = 0; c < 256; ++c)
      bytes += static_cast<char>(c);
  return bytes;
}

} // namespace

TEST_F(mysql_connection_test, binary_data_with_zero_bytes_round_trips) {
  auto conn = source().connect();
  run(conn, "CREATE DATABASE d");
  run(conn, "CREATE TABLE d.t (id INT PRIMARY KEY, b LONGBLOB, v VARBINARY(64))");
  auto bytes = all_bytes();
  std::string short_bytes{"a\0b\0\0'\"\\\n\r\x1a", 12};
  auto inserted = conn.exec("INSERT INTO d.t VALUES (1, " + conn.quote(bytes) + ", " +
                            conn.quote(short_bytes) + ")");
  ASSERT_TRUE(inserted) << inserted.error().to_string();
  EXPECT_EQ(*inserted, 1u);

  auto rows =
      run(conn, "SELECT b, v, HEX(b), LENGTH(b), LENGTH(v) FROM d.t WHERE id = 1");
  ASSERT_EQ(rows.rows.size(), 1u);
  auto& row = rows.rows[0];
  ASSERT_TRUE(row[0] && row[1]);
  EXPECT_EQ(row[0]->size(), bytes.size());
  EXPECT_EQ(*row[0], bytes);
  EXPECT_EQ(*row[1], short_bytes);
  // The server holds exactly these bytes, not just something that reads back.
  EXPECT_EQ(row[2], hex(bytes));
  EXPECT_EQ(row[3], std::to_string(bytes.size()));
  EXPECT_EQ(row[4], "12");
}

TEST_F(mysql_connection_test, null_and_empty_string_are_different) {
  auto conn = source().connect();
  run(conn, "CREATE DATABASE d");
  run(conn, "CREATE TABLE d.t (id INT PRIMARY KEY, s VARCHAR(10) NULL)");
  run(conn, "INSERT INTO d.t VALUES (1, NULL), (2, ''), (3, '0')");
  auto rows = run(conn, "SELECT id, s FROM d.t ORDER BY id");
  ASSERT_EQ(rows.columns, (std::vector<std::string>{"id", "s"}));
  ASSERT_EQ(rows.rows.size(), 3u);
  EXPECT_FALSE(rows.rows[0][1].has_value());
  ASSERT_TRUE(rows.rows[1][1].has_value());
  EXPECT_EQ(*rows.rows[1][1], "");
  EXPECT_EQ(rows.rows[2][1], "0");

  auto null_value = conn.scalar("SELECT NULL");
  ASSERT_TRUE(null_value);
  EXPECT_FALSE(null_value->has_value());
  auto no_row = conn.scalar("SELECT 1 FROM DUAL WHERE 1 = 0");
  ASSERT_TRUE(no_row);
  EXPECT_FALSE(no_row->has_value());
}

TEST_F(mysql_connection_test, utf8mb4_four_byte_characters_round_trip) {
  auto conn = source().connect();
  run(conn, "CREATE DATABASE d CHARACTER SET utf8mb4");
  run(conn, "CREATE TABLE d.t (id INT PRIMARY KEY, s VARCHAR(20) CHARACTER SET utf8mb4)");
  const std::string text = "a\xF0\x9F\x98\x80\xF0\x9D\x84\x9E\xE4\xB8\xAD"; // a😀𝄞中
  run(conn, "INSERT INTO d.t VALUES (1, " + conn.quote(text) + ")");
  auto rows = run(conn, "SELECT s, CHAR_LENGTH(s), LENGTH(s), HEX(s) FROM d.t");
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(rows.rows[0][0], text);
  EXPECT_EQ(rows.rows[0][1], "4");
  EXPECT_EQ(rows.rows[0][2], std::to_string(text.size()));
  EXPECT_EQ(rows.rows[0][3], hex(text));
  EXPECT_EQ(conn.scalar("SELECT @@character_set_client")->value_or(""), "utf8mb4");
}

TEST_F(mysql_connection_test, statement_errors_carry_errno_sqlstate_and_server) {
  auto conn = source().connect();
  run(conn, "CREATE DATABASE d");
  run(conn, "CREATE TABLE d.t (id INT PRIMARY KEY)");
  run(conn, "INSERT INTO d.t VALUES (1)");
  auto dup = conn.exec("INSERT INTO d.t VALUES (1)");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, 1062u);
  EXPECT_EQ(dup.error().sqlstate, "23000");
  EXPECT_EQ(dup.error().endpoint, source().endpoint());
  EXPECT_NE(dup.error().message.find("Duplicate entry"), std::string::npos);
  auto text = dup.error().to_string();
  EXPECT_NE(text.find(source().endpoint()), std::string::npos) << text;
  EXPECT_NE(text.find("1062"), std::string::npos) << text;
  EXPECT_NE(text.find("23000"), std::string::npos) << text;
  EXPECT_EQ(text.find(source().password()), std::string::npos) << text;
  EXPECT_FALSE(shoal::is_connection_lost(dup.error()));

  auto syntax = conn.query("SELEKT 1");
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().code, 1064u);
  EXPECT_EQ(syntax.error().sqlstate, "42000");
  // The connection stays usable after statement errors.
  EXPECT_EQ(conn.scalar("SELECT 41 + 1")->value_or(""), "42");
}

TEST_F(mysql_connection_test, login_errors_never_contain_the_password) {
  auto admin = source().connect();
  const std::string secret = "known-S3cret-pw-4711";
  run(admin, "CREATE USER 'app'@'%' IDENTIFIED BY " + admin.quote(secret));
  run(admin, "GRANT SELECT ON *.* TO 'app'@'%'");

  auto cfg = source().connection_config();
  cfg.user = "app";
  cfg.password = secret + "-wrong";
  auto denied = mysql_connection::connect(cfg);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, 1045u);
  EXPECT_EQ(denied.error().sqlstate, "28000");
  EXPECT_EQ(denied.error().operation, "connect");
  auto text = denied.error().to_string();
  EXPECT_NE(text.find(source().endpoint()), std::string::npos) << text;
  EXPECT_EQ(text.find(secret), std::string::npos) << text;
  EXPECT_EQ(text.find("known-S3cret"), std::string::npos) << text;

  cfg.password = secret;
  auto allowed = mysql_connection::connect(cfg);
  ASSERT_TRUE(allowed) << allowed.error().to_string();
  EXPECT_EQ(allowed->scalar("SELECT CURRENT_USER()")->value_or(""), "app@%");
  auto forbidden = allowed->exec("CREATE DATABASE nope");
  ASSERT_FALSE(forbidden);
  EXPECT_EQ(forbidden.error().code, 1044u);
  EXPECT_EQ(forbidden.error().to_string().find(secret), std::string::npos);
}

TEST_F(mysql_connection_test, refused_connection_is_a_lost_connection) {
  auto cfg = source().connection_config();
  cfg.port = shoal::test::free_port();
  auto refused = mysql_connection::connect(cfg);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().code == 2002u || refused.error().code == 2003u)
      << refused.error().to_string();
  EXPECT_TRUE(shoal::is_connection_lost(refused.error()));
  EXPECT_NE(refused.error().to_string().find(cfg.endpoint()), std::string::npos);
}

TEST_F(mysql_connection_test, results_report_columns_affected_rows_and_insert_id) {
  auto conn = source().connect();
  run(conn, "CREATE DATABASE d");
  run(conn, "CREATE TABLE d.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
  auto insert = run(conn, "INSERT INTO d.t (v) VALUES (10), (20), (30)");
  EXPECT_EQ(insert.affected_rows, 3u);
  EXPECT_EQ(insert.insert_id, 1u);
  EXPECT_TRUE(insert.columns.empty());
  auto updated = conn.exec("UPDATE d.t SET v = v + 1 WHERE v >= 20");
  ASSERT_TRUE(updated);
  EXPECT_EQ(*updated, 2u);
  auto rows = run(conn, "SELECT id AS `the id`, v FROM d.t ORDER BY id");
  EXPECT_EQ(rows.columns, (std::vector<std::string>{"the id", "v"}));
  ASSERT_EQ(rows.rows.size(), 3u);
  EXPECT_EQ(rows.rows[2][1], "31");
}

TEST_F(mysql_connection_test, quoted_identifiers_and_procedures_with_several_results) {
  auto conn = source().connect();
  run(conn, "CREATE DATABASE " + mysql_connection::quote_identifier("we`ird db"));
  run(conn, "CREATE TABLE `we``ird db`.t (id INT PRIMARY KEY)");
  run(conn, "INSERT INTO `we``ird db`.t VALUES (7)");
  run(conn, "CREATE PROCEDURE `we``ird db`.p() BEGIN SELECT id FROM `we``ird db`.t; "
            "SELECT 'second'; END");
  auto rows = run(conn, "CALL `we``ird db`.p()");
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(rows.rows[0][0], "7");
  // The extra result sets were drained: the connection is in sync.
  EXPECT_EQ(conn.scalar("SELECT 'next'")->value_or(""), "next");
}

TEST_F(mysql_connection_test, transaction_commits_or_rolls_back) {
  auto conn = source().connect();
  run(conn, "CREATE DATABASE d");
  run(conn, "CREATE TABLE d.t (id INT PRIMARY KEY) ENGINE=InnoDB");

  auto committed = conn.transaction(
      [](mysql_connection& c) { return c.exec("INSERT INTO d.t VALUES (1)"); });
  ASSERT_TRUE(committed) << committed.error().to_string();

  auto failed = conn.transaction([](mysql_connection& c) -> mysql_expected<uint64_t> {
    auto first = c.exec("INSERT INTO d.t VALUES (2)");
    if (!first)
      return first;
    return c.exec("INSERT INTO d.t VALUES (1)"); // duplicate: rolls back (2) too
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, 1062u);

  EXPECT_THROW(conn.transaction([](mysql_connection& c) -> mysql_expected<uint64_t> {
    c.exec("INSERT INTO d.t VALUES (3)");
    throw std::runtime_error("body failed");
  }),
               std::runtime_error);

  auto other = source().connect();
  auto ids = run(other, "SELECT GROUP_CONCAT(id ORDER BY id) FROM d.t");
  EXPECT_EQ(ids.rows[0][0], "1");
}

// query_batch: one round trip for several statements, each result in order; the
// server stops at the first error, which names its index; the connection stays
// usable, and the option survives a reconnect.
TEST_F(mysql_connection_test, a_batch_runs_in_order_and_stops_at_the_first_error) {
  auto conn = source().connect();
  run(conn, "CREATE DATABASE d");
  run(conn, "CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB");

  auto ok = conn.query_batch({"START TRANSACTION", "INSERT INTO d.t VALUES (1, 'a;b')",
                              "INSERT INTO d.t VALUES (2, 'x') -- a trailing comment",
                              "SELECT COUNT(*), MAX(v) FROM d.t", "COMMIT"});
  ASSERT_TRUE(ok) << ok.error().to_string();
  ASSERT_EQ(ok->size(), 5u);
  EXPECT_EQ((*ok)[1].affected_rows, 1u);
  ASSERT_EQ((*ok)[3].rows.size(), 1u);
  EXPECT_EQ((*ok)[3].rows[0][0], "2");
  EXPECT_EQ((*ok)[3].rows[0][1], "x");

  size_t failed = 99;
  auto bad = conn.query_batch({"START TRANSACTION", "INSERT INTO d.t VALUES (3, 'c')",
                               "INSERT INTO d.t VALUES (1, 'duplicate')",
                               "INSERT INTO d.t VALUES (4, 'never run')"},
                              &failed);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, 1062u);
  EXPECT_EQ(failed, 2u);
  EXPECT_NE(bad.error().operation.find("statement 3 of 4"), std::string::npos)
      << bad.error().operation;
  ASSERT_TRUE(conn.rollback());
  auto ids = run(conn, "SELECT GROUP_CONCAT(id ORDER BY id) FROM d.t");
  EXPECT_EQ(ids.rows[0][0], "1,2") << "the failed batch's transaction rolled back";

  failed = 99;
  auto first_bad = conn.query_batch({"SELECT nope FROM d.t", "SELECT 1"}, &failed);
  ASSERT_FALSE(first_bad);
  EXPECT_EQ(failed, 0u);

  ASSERT_TRUE(conn.reconnect());
  auto again = conn.query_batch({"SELECT 1", "SELECT 2"});
  ASSERT_TRUE(again) << again.error().to_string();
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ((*again)[1].rows[0][0], "2");
  // A statement with a ";" of its own is reported, not miscounted.
  auto smuggled = conn.query_batch({"SELECT 1; SELECT 2"});
  EXPECT_FALSE(smuggled);
}

TEST_F(mysql_connection_test, reconnects_after_the_server_restarts) {
  auto conn = source().connect("mysql");
  run(conn, "CREATE DATABASE d");
  run(conn, "CREATE TABLE d.t (id INT PRIMARY KEY)");
  run(conn, "INSERT INTO d.t VALUES (1)");
  auto port = source().port();

  source().kill();
  source().start();
  EXPECT_EQ(source().port(), port);

  auto lost = conn.query("SELECT COUNT(*) FROM d.t");
  ASSERT_FALSE(lost);
  EXPECT_TRUE(shoal::is_connection_lost(lost.error())) << lost.error().to_string();
  auto again = conn.reconnect();
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(conn.scalar("SELECT COUNT(*) FROM d.t")->value_or(""), "1")
      << "committed rows survive kill -9";
  EXPECT_EQ(conn.scalar("SELECT DATABASE()")->value_or(""), "mysql")
      << "reconnect keeps the default database";

  source().restart();
  EXPECT_FALSE(conn.ping());
  ASSERT_TRUE(conn.reconnect());
  EXPECT_TRUE(conn.ping());
}

TEST_F(mysql_connection_test, reads_from_a_frozen_server_time_out) {
  auto cfg = source().connection_config();
  cfg.read_timeout = 1s;
  cfg.write_timeout = 1s;
  cfg.connect_timeout = 1s;
  auto conn = mysql_connection::connect(cfg);
  ASSERT_TRUE(conn) << conn.error().to_string();

  source().freeze();
  auto start = std::chrono::steady_clock::now();
  auto result = conn->query("SELECT 1");
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(result);
  EXPECT_TRUE(shoal::is_connection_lost(result.error())) << result.error().to_string();
  EXPECT_GE(waited, 900ms);
  EXPECT_LT(waited, 4s) << "read timeout 1 s";

  start = std::chrono::steady_clock::now();
  auto fresh = mysql_connection::connect(cfg);
  waited = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(fresh);
  EXPECT_LT(waited, 4s) << "connect timeout 1 s";
  source().thaw();
}

TEST_F(mysql_connection_test, server_writes_a_row_format_binlog) {
  auto conn = source().connect();
  EXPECT_EQ(conn.scalar("SELECT @@log_bin")->value_or(""), "1");
  auto vars = run(conn, "SHOW VARIABLES WHERE Variable_name IN "
                        "('binlog_format', 'binlog_row_metadata', 'binlog_row_image')");
  std::map<std::string, std::string> values;
  for (auto& row : vars.rows)
    values[row[0].value_or("")] = row[1].value_or("");
  EXPECT_EQ(values["binlog_format"], "ROW");
  EXPECT_EQ(values["binlog_row_metadata"], "FULL");
  EXPECT_EQ(values["binlog_row_image"], "FULL");

  run(conn, "CREATE DATABASE d");
  run(conn, "CREATE TABLE d.t (id INT PRIMARY KEY)");
  run(conn, "INSERT INTO d.t VALUES (1)");
  auto events = run(conn, "SHOW BINLOG EVENTS");
  bool write_rows = false;
  for (auto& row : events.rows)
    write_rows = write_rows || row[2].value_or("").find("Write_rows") == 0;
  EXPECT_TRUE(write_rows);
}

TEST_F(mysql_connection_test, source_and_target_run_side_by_side) {
  auto src = source().connect();
  auto dst = target().connect();
  EXPECT_NE(source().port(), target().port());
  EXPECT_EQ(src.scalar("SELECT @@server_id")->value_or(""), "1");
  EXPECT_EQ(dst.scalar("SELECT @@server_id")->value_or(""), "2");
  run(src, "CREATE DATABASE only_on_source");
  EXPECT_FALSE(dst.scalar("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
                          "WHERE SCHEMA_NAME = 'only_on_source'")
                   ->has_value());
}

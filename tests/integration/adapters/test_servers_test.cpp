// The test servers themselves: several at once, restart on the same port,
// options applied, reset, cleanup.

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <iostream>

#include "tests/support/mariadb_server.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/shared_servers.hpp"

using namespace std::chrono_literals;
using shoal::test::mariadb_options;
using shoal::test::mariadb_server;

namespace {

std::string value_of(shoal::mysql_connection&& conn, const std::string& sql);
std::string value_of(shoal::mysql_connection& conn, const std::string& sql) {
  auto v = conn.scalar(sql);
  if (!v)
    return "error: " + v.error().to_string();
  return v->value_or("NULL");
}

std::string value_of(shoal::mysql_connection&& conn, const std::string& sql) {
  return value_of(conn, sql);
}

} // namespace

TEST(mariadb_server, two_servers_and_redis_at_once_with_their_options) {
  auto t0 = std::chrono::steady_clock::now();
  mariadb_options a_opts;
  a_opts.name = "a";
  mariadb_server a(a_opts);
  auto t1 = std::chrono::steady_clock::now();
  mariadb_options b_opts;
  b_opts.name = "b";
  b_opts.server_id = 7;
  b_opts.binlog_row_metadata = "MINIMAL";
  b_opts.binlog_row_image = "MINIMAL";
  b_opts.extra_args = {"--max-connections=42"};
  mariadb_server b(b_opts);
  auto t2 = std::chrono::steady_clock::now();
  shoal::test::redis_server redis;
  auto t3 = std::chrono::steady_clock::now();
  auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  std::cout << "start times: mariadb a " << ms(t1 - t0) << " ms (includes the template "
            << "on first use), mariadb b " << ms(t2 - t1) << " ms, redis " << ms(t3 - t2)
            << " ms\n";

  EXPECT_NE(a.port(), b.port());
  EXPECT_NE(a.port(), redis.port());
  auto ca = a.connect();
  auto cb = b.connect();
  EXPECT_EQ(value_of(ca, "SELECT @@binlog_row_metadata"), "FULL");
  EXPECT_EQ(value_of(cb, "SELECT @@binlog_row_metadata"), "MINIMAL");
  EXPECT_EQ(value_of(cb, "SELECT @@binlog_row_image"), "MINIMAL");
  EXPECT_EQ(value_of(cb, "SELECT @@server_id"), "7");
  EXPECT_EQ(value_of(cb, "SELECT @@max_connections"), "42");
  EXPECT_EQ(value_of(ca, "SELECT @@binlog_format"), "ROW");
  EXPECT_EQ(value_of(ca, "SELECT @@character_set_server"), "utf8mb4");
  EXPECT_EQ(value_of(ca, "SELECT @@bind_address"), "127.0.0.1");
  EXPECT_TRUE(redis.connect().command({"PING"})->is_status("PONG"));
}

TEST(mariadb_server, keeps_port_and_data_across_kill_and_stop) {
  mariadb_options opts;
  opts.name = "restart";
  mariadb_server server(opts);
  auto port = server.port();
  {
    auto conn = server.connect();
    ASSERT_TRUE(conn.exec("CREATE DATABASE d"));
    ASSERT_TRUE(conn.exec("CREATE TABLE d.t (id INT PRIMARY KEY) ENGINE=InnoDB"));
    ASSERT_TRUE(conn.exec("INSERT INTO d.t VALUES (1), (2)"));
  }
  auto killed = server.kill();
  EXPECT_EQ(killed.signal, SIGKILL);
  EXPECT_FALSE(server.running());
  EXPECT_THROW(server.connect(), std::runtime_error);
  auto t0 = std::chrono::steady_clock::now();
  server.start();
  std::cout << "restart after kill -9 (crash recovery): "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - t0)
                   .count()
            << " ms\n";
  EXPECT_EQ(server.port(), port);
  auto conn = server.connect();
  EXPECT_EQ(value_of(conn, "SELECT COUNT(*) FROM d.t"), "2");

  auto stopped = server.stop();
  EXPECT_TRUE(stopped.success()) << stopped.to_string() << "\n" << server.log_tail();
  EXPECT_FALSE(server.running());
  server.start();
  EXPECT_EQ(value_of(server.connect(), "SELECT COUNT(*) FROM d.t"), "2");
  EXPECT_THROW(server.start(), std::runtime_error) << "already running";
}

TEST(mariadb_server, destructor_kills_the_server_and_removes_its_folder) {
  pid_t pid;
  std::filesystem::path datadir;
  {
    mariadb_options opts;
    opts.name = "gone";
    mariadb_server server(opts);
    pid = server.process().pid();
    datadir = server.datadir();
    ASSERT_TRUE(std::filesystem::exists(datadir));
  }
  EXPECT_EQ(::kill(pid, 0), -1);
  if (!shoal::test::keep_tmp()) {
    EXPECT_FALSE(std::filesystem::exists(datadir));
  }
}

class shared_servers_test : public shoal::test::server_test {};

TEST_F(shared_servers_test, reset_leaves_an_empty_server_with_an_empty_binlog) {
  auto conn = source().connect();
  ASSERT_TRUE(conn.exec("CREATE DATABASE leftover"));
  ASSERT_TRUE(conn.exec("CREATE TABLE leftover.t (id INT PRIMARY KEY)"));
  ASSERT_TRUE(conn.exec("INSERT INTO leftover.t VALUES (1)"));
  ASSERT_TRUE(conn.exec("CREATE USER 'someone'@'%' IDENTIFIED BY 'x'"));
  ASSERT_TRUE(conn.exec("SET GLOBAL binlog_format = 'MIXED'"));
  ASSERT_TRUE(redis().connect().command({"SET", "leftover", "1"}));
  source().freeze();

  shoal::test::reset_shared_servers();

  EXPECT_FALSE(conn.ping()) << "reset kills connections left open by a test";
  auto fresh = source().connect();
  EXPECT_EQ(value_of(fresh, "SELECT COUNT(*) FROM information_schema.SCHEMATA "
                            "WHERE SCHEMA_NAME = 'leftover'"),
            "0");
  EXPECT_EQ(value_of(fresh, "SELECT COUNT(*) FROM mysql.user WHERE User = 'someone'"),
            "0");
  EXPECT_EQ(value_of(fresh, "SELECT @@global.binlog_format"), "ROW");
  auto logs = fresh.query("SHOW BINARY LOGS");
  ASSERT_TRUE(logs);
  ASSERT_EQ(logs->rows.size(), 1u);
  auto events = fresh.query("SHOW BINLOG EVENTS");
  ASSERT_TRUE(events);
  for (auto& row : events->rows)
    EXPECT_EQ(row[5].value_or("").find("leftover"), std::string::npos);
  EXPECT_TRUE(redis().connect().command({"GET", "leftover"})->is_nil());
  EXPECT_FALSE(source().frozen());
}

TEST_F(shared_servers_test, reset_restarts_a_server_a_test_left_down) {
  source().kill();
  redis().kill();
  shoal::test::reset_shared_servers();
  EXPECT_TRUE(source().running());
  EXPECT_TRUE(redis().running());
  auto conn = source().connect();
  EXPECT_EQ(value_of(conn, "SELECT 1"), "1");
}

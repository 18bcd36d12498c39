// Servers shared by every test of one test binary, so that a suite pays for
// starting MariaDB and Redis once, not per test.
//
//   class sync_test : public shoal::test::server_test {};
//   TEST_F(sync_test, copies_rows) {                // servers reset before each test
//     auto src = source().connect();                // started on first use
//     auto dst = target().connect();
//     auto r = redis().connect();
//   }
//
// Each server starts on first use (from the thread that first asks: keep it the
// test's main thread, see child_process) and is killed when the binary exits.
// server_test::SetUp() resets the servers that have been started: it revives a
// server a previous test left frozen or stopped, drops its databases, empties
// its binlog (RESET MASTER) or its keys (FLUSHALL). A test that needs special
// server options starts its own mariadb_server instead.

#pragma once

#include <gtest/gtest.h>

#include "tests/support/mariadb_server.hpp"
#include "tests/support/redis_server.hpp"

namespace shoal::test {

/// The shared source MariaDB: server_id 1, ROW binlog, FULL row metadata.
mariadb_server& shared_source();

/// The shared target MariaDB: server_id 2, ROW binlog, FULL row metadata.
mariadb_server& shared_target();

/// The shared Redis: no password, no persistence.
redis_server& shared_redis();

/// Resets every shared server started so far (see mariadb_server::reset and
/// redis_server::reset). Throws std::runtime_error if one cannot be reset.
void reset_shared_servers();

/// A GoogleTest fixture that resets the shared servers before each test.
class server_test : public ::testing::Test {
protected:
  void SetUp() override { reset_shared_servers(); }

  static mariadb_server& source() { return shared_source(); }
  static mariadb_server& target() { return shared_target(); }
  static redis_server& redis() { return shared_redis(); }
};

} // namespace shoal::test

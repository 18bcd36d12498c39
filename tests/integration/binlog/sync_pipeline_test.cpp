// The sync pipeline against real MariaDB servers: rows, DDL, key changes,
// tables without keys, restarts and the checks at start.
#include <chrono>
#include <thread>

#include "tests/integration/binlog/sync_test_support.hpp"

using namespace std::chrono_literals;

namespace shoal::test {
namespace {

class sync_pipeline_test : public sync_fixture {};

TEST_F(sync_pipeline_test, streams_inserts_updates_and_deletes_in_order) {
  auto p = start(settings("basic", 4));
  auto src = source().connect();
  run(src, "CREATE DATABASE shop");
  run(src, "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(40), qty INT)");
  for (int i = 0; i < 200; ++i)
    run(src, "INSERT INTO shop.items VALUES (" + std::to_string(i) + ", 'item" +
               std::to_string(i) + "', " + std::to_string(i * 3) + ")");
  run(src, "UPDATE shop.items SET qty = qty + 1 WHERE id % 3 = 0");
  run(src, "DELETE FROM shop.items WHERE id % 7 = 0");
  run(src, "BEGIN");
  for (int i = 0; i < 20; ++i)
    run(src, "UPDATE shop.items SET qty = " + std::to_string(i) + " WHERE id = 5");
  run(src, "COMMIT");
  ASSERT_TRUE(caught_up(*p));
  auto dst = target().connect();
  EXPECT_EQ(rows_of(dst, "shop.items"), rows_of(src, "shop.items"));
  EXPECT_EQ(checksum(dst, "shop.items"), checksum(src, "shop.items"));
  auto s = p->status();
  EXPECT_EQ(s.state, "running");
  EXPECT_GE(s.rows_applied, 200u);
}

} // namespace
} // namespace shoal::test

// Hot-cache keys from committed row changes (pipeline_settings::invalidate),
// against real servers, under each binlog_row_image.
#include <algorithm>
#include <mutex>
#include <set>

#include "tests/integration/binlog/sync_test_support.hpp"
#include "tests/support/eventually.hpp"

using namespace std::chrono_literals;

namespace shoal::test {
namespace {

class sync_invalidation_test : public sync_fixture {
protected:
  // Keys handed to `invalidate`, in the order of the calls.
  struct received {
    std::mutex mtx;
    std::vector<std::string> keys;
    std::set<std::string> distinct() {
      std::lock_guard<std::mutex> guard{mtx};
      return {keys.begin(), keys.end()};
    }
  };

  binlog::pipeline_settings invalidating(const std::string& name,
                                         const std::vector<std::string>& templates,
                                         received& into) {
    auto s = settings(name, 2);
    for (auto& t : templates)
      s.invalidation_rules.push_back({"inv.sku", *binlog::key_template::parse(t)});
    s.invalidate = [&into](const std::vector<std::string>& keys) {
      std::lock_guard<std::mutex> guard{into.mtx};
      into.keys.insert(into.keys.end(), keys.begin(), keys.end());
    };
    return s;
  }

  void create_tables() {
    auto ddl = "CREATE TABLE inv.sku (id INT UNSIGNED PRIMARY KEY, code VARCHAR(20), "
               "price DECIMAL(10,2), note BLOB)";
    auto src = source().connect();
    run(src, "CREATE DATABASE inv");
    run(src, ddl);
    run(src, "CREATE TABLE inv.other (id INT PRIMARY KEY, code VARCHAR(20))");
    auto dst = target().connect();
    run(dst, "CREATE DATABASE inv");
    run(dst, ddl);
    run(dst, "CREATE TABLE inv.other (id INT PRIMARY KEY, code VARCHAR(20))");
  }

  // Inserts, changes the code (a non-key column) and the key, deletes; another
  // table's rows make no keys.
  void write_changes(const std::string& row_image) {
    auto conn = source().connect();
    run(conn, "SET SESSION binlog_row_image = '" + row_image + "'");
    run(conn,
        "INSERT INTO inv.sku VALUES (1, 'A', 1.50, 'x'), (4294967295, 'Z', 2, NULL)");
    run(conn, "INSERT INTO inv.other VALUES (1, 'O')");
    run(conn, "UPDATE inv.sku SET code = 'B' WHERE id = 1");
    run(conn, "UPDATE inv.sku SET id = 2 WHERE id = 1");
    run(conn, "DELETE FROM inv.sku WHERE id = 4294967295");
  }
};

TEST_F(sync_invalidation_test, full_and_noblob_images_name_the_keys_of_both_images) {
  create_tables();
  // Key mode applies a key change itself, between barriers; transaction mode in
  // a round: both paths send keys. Column names come from the binlog only with
  // binlog_row_metadata FULL; MariaDB's default is NO_LOG.
  struct run_case {
    const char* image;
    bool whole;
    const char* metadata;
  };
  for (auto c : {run_case{"FULL", false, "NO_LOG"}, run_case{"NOBLOB", false, "MINIMAL"},
                 run_case{"FULL", true, "FULL"}, run_case{"FULL", true, "NO_LOG"}}) {
    auto [image, whole, metadata] = c;
    SCOPED_TRACE(std::string{image} + (whole ? ", apply transaction" : ", apply key") +
                 ", binlog_row_metadata " + metadata);
    {
      auto admin = source().connect();
      run(admin, std::string{"SET GLOBAL binlog_row_metadata = '"} + metadata + "'");
    }
    received got;
    auto s = invalidating(std::string{"inv_"} + image + (whole ? "_tx" : ""),
                          {"sku:{id}", "code:{CODE}"}, got);
    s.whole_transactions = whole;
    s.name += std::string{"_"} + metadata;
    auto p = start(std::move(s));
    ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
    write_changes(image);
    ASSERT_TRUE(caught_up(*p));
    // The unsigned maximum is one key, not -1; the code's old value (A, from the
    // before image) is stale as well as its new one; the key change makes sku:1
    // and sku:2 stale.
    EXPECT_EQ(got.distinct(), (std::set<std::string>{"sku:1", "sku:2", "sku:4294967295",
                                                     "code:A", "code:B", "code:Z"}));
    EXPECT_GE(p->status().keys_invalidated, 6u);
    p->stop();
    auto dst = target().connect();
    run(dst, "DELETE FROM inv.sku");
    run(dst, "DELETE FROM inv.other");
    auto src = source().connect();
    run(src, "DELETE FROM inv.sku");
    run(src, "DELETE FROM inv.other");
  }
  auto admin = source().connect();
  run(admin, "SET GLOBAL binlog_row_metadata = 'FULL'");
}

TEST_F(sync_invalidation_test,
       a_ddl_on_a_mapped_table_makes_every_key_of_its_templates_stale) {
  create_tables();
  received got;
  std::mutex mtx;
  std::vector<std::vector<std::string>> patterns;
  auto s = invalidating("inv_ddl", {"sku:{id}", "code:{code}"}, got);
  s.invalidate_matching = [&](const std::vector<std::vector<std::string>>& p) {
    std::lock_guard<std::mutex> guard{mtx};
    patterns.insert(patterns.end(), p.begin(), p.end());
  };
  auto p = start(std::move(s));
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  auto conn = source().connect();
  run(conn, "INSERT INTO inv.sku VALUES (1, 'A', 1, NULL)");
  // Every key of the templates at the start (a previous run may have died
  // between a commit and its second send); then another table's DDL names no
  // key, and this table's does, before and after it ran.
  run(conn, "TRUNCATE TABLE inv.other");
  run(conn, "TRUNCATE TABLE inv.sku");
  ASSERT_TRUE(caught_up(*p));
  std::lock_guard<std::mutex> guard{mtx};
  using pieces = std::vector<std::string>;
  EXPECT_EQ(patterns, (std::vector<pieces>{{"sku:", ""},
                                           {"code:", ""},
                                           {"sku:", ""},
                                           {"code:", ""},
                                           {"sku:", ""},
                                           {"code:", ""}}));
}

TEST_F(sync_invalidation_test, keys_go_out_before_the_commit_and_again_after_it) {
  create_tables();
  // For each send of sku:77: whether the target held the row then.
  std::mutex mtx;
  std::vector<bool> committed_at_send;
  auto s = settings("inv_order", 2);
  s.invalidation_rules.push_back({"inv.sku", *binlog::key_template::parse("sku:{id}")});
  s.invalidate = [&](const std::vector<std::string>& keys) {
    if (std::find(keys.begin(), keys.end(), "sku:77") == keys.end())
      return;
    auto dst = target().connect();
    auto n = run(dst, "SELECT COUNT(*) FROM inv.sku WHERE id = 77").rows.at(0).at(0);
    std::lock_guard<std::mutex> guard{mtx};
    committed_at_send.push_back(n == "1");
  };
  auto p = start(std::move(s));
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  auto conn = source().connect();
  run(conn, "INSERT INTO inv.sku VALUES (77, 'Q', 1, NULL)");
  ASSERT_TRUE(caught_up(*p));
  std::lock_guard<std::mutex> guard{mtx};
  EXPECT_EQ(committed_at_send, (std::vector<bool>{false, true}));
  EXPECT_EQ(p->status().keys_invalidated, 1u) << "counted once, after the commit";
}

TEST_F(sync_invalidation_test, minimal_images_make_key_column_templates_only) {
  create_tables();
  received got;
  auto p = start(invalidating("inv_minimal", {"sku:{id}"}, got));
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  write_changes("MINIMAL");
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(got.distinct(), (std::set<std::string>{"sku:1", "sku:2", "sku:4294967295"}));
  p->stop();
  // A template over a column MINIMAL leaves out of an UPDATE's images cannot be
  // made: the pipeline stops at that change with nothing of it committed.
  received none;
  auto q = start(invalidating("inv_minimal_code", {"code:{code}"}, none));
  ASSERT_EQ(q->status().state, binlog::pipeline_state::running) << q->status().error;
  auto conn = source().connect();
  run(conn, "SET SESSION binlog_row_image = 'MINIMAL'");
  run(conn, "UPDATE inv.sku SET price = 9.99 WHERE id = 2");
  ASSERT_TRUE(eventually(
      [&] { return q->status().state == binlog::pipeline_state::failed; }, 30s));
  auto error = q->status().error;
  EXPECT_NE(error.find("hotkeys.invalidate_from: cache key \"code:{code}\" of inv.sku"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("column code is not in the row image"), std::string::npos)
      << error;
  EXPECT_TRUE(none.distinct().empty());
  auto dst = target().connect();
  EXPECT_EQ(run(dst, "SELECT price FROM inv.sku WHERE id = 2").rows.at(0).at(0), "1.50");
}

TEST_F(sync_invalidation_test,
       a_template_naming_no_column_of_the_table_stops_the_pipeline) {
  create_tables();
  received got;
  auto p = start(invalidating("inv_bad", {"sku:{sku_id}"}, got));
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  auto conn = source().connect();
  run(conn, "INSERT INTO inv.sku VALUES (7, 'G', 1, NULL)");
  ASSERT_TRUE(eventually(
      [&] { return p->status().state == binlog::pipeline_state::failed; }, 30s));
  auto error = p->status().error;
  EXPECT_NE(error.find("the table has no column sku_id (its columns: id, code, price, "
                       "note)"),
            std::string::npos)
      << error;
  auto dst = target().connect();
  EXPECT_EQ(run(dst, "SELECT COUNT(*) FROM inv.sku").rows.at(0).at(0), "0");
}

// target none: the pipeline reads only to invalidate, its checkpoints on the
// state server; nothing is written there but them, and a change made while it
// was stopped is invalidated once it runs again.
TEST_F(sync_invalidation_test, without_a_target_it_reads_only_to_invalidate_and_resumes) {
  auto src = source().connect();
  run(src, "SET GLOBAL binlog_row_metadata = 'FULL'");
  run(src, "CREATE DATABASE inv");
  run(src, "CREATE TABLE inv.sku (id INT UNSIGNED PRIMARY KEY, code VARCHAR(20), "
           "price DECIMAL(10,2), note BLOB)");
  run(src, "CREATE TABLE inv.other (id INT PRIMARY KEY, code VARCHAR(20))");
  received got;
  auto s = invalidating("inv_none", {"sku:{id}"}, got);
  s.kind = binlog::target_kind::none;
  auto p = start(s);
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  write_changes("MINIMAL"); // the key column is in every image
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(got.distinct(), (std::set<std::string>{"sku:1", "sku:2", "sku:4294967295"}));
  auto dst = target().connect();
  EXPECT_EQ(run(dst, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE "
                     "SCHEMA_NAME = 'inv'")
                .rows.at(0)
                .at(0),
            "0")
      << "rows were written to the state server";
  p->stop();

  run(src, "UPDATE inv.sku SET code = 'C' WHERE id = 2");
  run(src, "INSERT INTO inv.sku VALUES (77, 'N', 1, NULL)");
  received after;
  auto resumed = invalidating("inv_none", {"sku:{id}"}, after);
  resumed.kind = binlog::target_kind::none;
  auto again = start(resumed);
  ASSERT_TRUE(eventually(
      [&] {
        auto keys = after.distinct();
        return keys.count("sku:2") && keys.count("sku:77");
      },
      30s))
      << again->status().error;
  // Resumed from its checkpoint: the changes before the stop are not read again.
  EXPECT_EQ(after.distinct().count("sku:4294967295"), 0u);
}

} // namespace
} // namespace shoal::test

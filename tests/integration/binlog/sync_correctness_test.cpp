// The sync pipeline never diverges silently: values the binlog does not
// describe, a strict target, statements that must not run twice, lost commit
// replies, a changed partition count, two processes on one pipeline, DDL re-run
// after a crash, and failures that must end in "failed" with a reason.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "actors/binlog/sync/checkpoint.hpp"
#include "actors/binlog/sync/detail/pipeline_state.hpp"
#include "actors/binlog/sync/sql_builder.hpp"
#include "actors/binlog/sync/target_session.hpp"
#include "tests/integration/binlog/sync_test_support.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/free_port.hpp"

using namespace std::chrono_literals;

namespace shoal::test {
namespace {

class sync_correctness_test : public sync_fixture {
protected:
  /// Waits until `p` is "failed" (or the deadline passes); its status then.
  binlog::pipeline_status failed(binlog::pipeline& p,
                                 std::chrono::seconds timeout = 30s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (p.status().state != binlog::pipeline_state::failed &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    return p.status();
  }

  static bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }
};

// binlog_row_metadata=NO_LOG (MariaDB's default) carries no signedness: the
// values above the signed maximum used to arrive as negatives, clamped to 0.
TEST_F(sync_correctness_test,
       unsigned_integers_above_the_signed_maximum_without_metadata) {
  auto src = source().connect();
  run(src, "SET GLOBAL binlog_row_metadata = 'NO_LOG'");
  const char* ddl = "CREATE TABLE u.t (id INT PRIMARY KEY, a TINYINT UNSIGNED, "
                    "b SMALLINT UNSIGNED, c MEDIUMINT UNSIGNED, d INT UNSIGNED, "
                    "e BIGINT UNSIGNED, f BIGINT, g DECIMAL(20,0) UNSIGNED)";
  auto dst = target().connect();
  for (auto* conn : {&src, &dst}) {
    run(*conn, "CREATE DATABASE u");
    run(*conn, ddl);
  }
  auto p = start(settings("unsigned", 2));
  auto conn = source().connect(); // a session that starts after the SET GLOBAL
  run(conn, "INSERT INTO u.t VALUES (1, 255, 65535, 16777215, 4294967295, "
            "18446744073709551615, -9223372036854775808, 18446744073709551615),"
            "(2, 200, 59315, 9000000, 4126277360, 18123546406788494144, "
            "9223372036854775807, 1), (3, 128, 32768, 8388608, 2147483648, "
            "9223372036854775808, -1, 0), (4, 0, 0, 0, 0, 0, 0, 0)");
  run(conn, "UPDATE u.t SET e = e - 1, d = d - 1 WHERE id = 1");
  run(conn, "DELETE FROM u.t WHERE id = 4");
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(rows_of(dst, "u.t"), rows_of(src, "u.t"));
  EXPECT_EQ(checksum(dst, "u.t"), checksum(src, "u.t"));
}

// Without metadata the target's table describes the columns: a table it lacks
// is named, not guessed at.
TEST_F(sync_correctness_test,
       rows_of_a_table_the_target_lacks_stop_naming_it_without_metadata) {
  auto src = source().connect();
  run(src, "SET GLOBAL binlog_row_metadata = 'NO_LOG'");
  run(src, "CREATE DATABASE m");
  run(src, "CREATE TABLE m.t (id INT PRIMARY KEY, n INT UNSIGNED)");
  auto p = start(settings("missing_table", 2));
  auto conn = source().connect();
  run(conn, "INSERT INTO m.t VALUES (1, 4000000000)");
  auto s = failed(*p);
  EXPECT_EQ(s.state, binlog::pipeline_state::failed);
  EXPECT_TRUE(contains(s.error, "m.t")) << s.error;
  EXPECT_TRUE(contains(s.error, "target does not have")) << s.error;
}

// The server drops trailing zero bytes of fixed-length binary values in row
// images; a UUID ending in 0x00 used to arrive short and become NULL.
TEST_F(sync_correctness_test,
       fixed_binary_values_ending_in_zero_bytes_on_every_metadata_setting) {
  for (auto metadata : {"NO_LOG", "MINIMAL", "FULL"}) {
    SCOPED_TRACE(metadata);
    SetUp();
    auto src = source().connect();
    run(src, std::string{"SET GLOBAL binlog_row_metadata = '"} + metadata + "'");
    const char* ddl =
        "CREATE TABLE fb.t (id INT PRIMARY KEY, u UUID, i6 INET6, i4 INET4, "
        "b BINARY(6), c CHAR(6), vb VARBINARY(6))";
    auto dst = target().connect();
    for (auto* conn : {&src, &dst}) {
      run(*conn, "CREATE DATABASE fb");
      run(*conn, ddl);
    }
    auto p = start(settings(std::string{"fixed_binary_"} + metadata, 2));
    auto conn = source().connect();
    run(conn,
        "INSERT INTO fb.t VALUES "
        "(1, '11111111-2222-3333-4444-555555555500', '2001:db8::', '10.0.0.0', "
        "x'616200000000', 'ab  ', x'6100'),"
        "(2, '00000000-0000-0000-0000-000000000000', '::', '0.0.0.0', x'000000000000', "
        "'', x''),"
        "(3, UUID(), '::1', '1.2.3.4', x'010203040506', 'abcdef', x'00')");
    run(conn, "UPDATE fb.t SET u = '00000000-0000-1000-8000-000000000000', b = x'00' "
              "WHERE id = 3");
    run(conn, "DELETE FROM fb.t WHERE u = '00000000-0000-0000-0000-000000000000'");
    ASSERT_TRUE(caught_up(*p)) << metadata;
    EXPECT_EQ(rows_of(dst, "fb.t"), rows_of(src, "fb.t"));
    EXPECT_EQ(checksum(dst, "fb.t"), checksum(src, "fb.t"));
    p->stop();
  }
}

// A value the target would clamp stops the pipeline, naming the binlog
// position, the table, the row and the column, instead of being altered.
TEST_F(sync_correctness_test,
       a_value_the_target_would_alter_stops_the_pipeline_with_where) {
  auto src = source().connect();
  auto dst = target().connect();
  run(src, "CREATE DATABASE s");
  run(src, "CREATE TABLE s.t (id INT PRIMARY KEY, v VARCHAR(10), n INT)");
  run(dst, "CREATE DATABASE s");
  // The target's table differs from the source's: too narrow.
  run(dst, "CREATE TABLE s.t (id INT PRIMARY KEY, v VARCHAR(3), n TINYINT)");
  auto p = start(settings("strict", 2));
  run(src, "INSERT INTO s.t VALUES (1, 'abc', 1), (2, 'abcdefgh', 2)");
  auto pos = master_position(src);
  auto s = failed(*p);
  ASSERT_EQ(s.state, binlog::pipeline_state::failed);
  EXPECT_TRUE(contains(s.error, pos.file + ":")) << s.error;
  EXPECT_TRUE(contains(s.error, "s.t")) << s.error;
  EXPECT_TRUE(contains(s.error, "id=2")) << s.error;
  EXPECT_TRUE(contains(s.error, "'v'")) << s.error;
  // Nothing truncated was written (row 1 may be there: another partition).
  EXPECT_EQ(run(dst, "SELECT COUNT(*) FROM s.t WHERE id = 2").rows.at(0).at(0), "0");
}

// Values a non-strict source holds legitimately still pass the strict target:
// zero dates and ENUM's empty error value.
TEST_F(sync_correctness_test, values_a_lenient_source_holds_pass_the_strict_target) {
  auto src = source().connect();
  auto dst = target().connect();
  const char* ddl = "CREATE TABLE z.t (id INT PRIMARY KEY, d DATE, dt DATETIME(3), "
                    "e ENUM('a','b'), s SET('x','y'), ts TIMESTAMP NULL)";
  for (auto* conn : {&src, &dst}) {
    run(*conn, "CREATE DATABASE z");
    run(*conn, ddl);
  }
  auto p = start(settings("lenient", 2));
  run(src, "SET SESSION sql_mode = ''");
  run(src, "INSERT INTO z.t VALUES (1, '0000-00-00', '0000-00-00 00:00:00', 'c', '', "
           "'0000-00-00 00:00:00'), (2, '2024-02-00', '2024-00-10 10:00:00.5', 'b', "
           "'x,y', NULL)");
  run(src, "UPDATE z.t SET e = 'zz' WHERE id = 2");
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(rows_of(dst, "z.t"), rows_of(src, "z.t"));
}

// Triggers, events and account statements are not replayed: a copied trigger
// would write its rows a second time on the target.
TEST_F(sync_correctness_test, triggers_events_and_accounts_are_skipped_and_counted) {
  auto src = source().connect();
  auto dst = target().connect();
  for (auto* conn : {&src, &dst}) {
    run(*conn, "CREATE DATABASE tr");
    run(*conn, "CREATE TABLE tr.t (id INT PRIMARY KEY, v INT)");
    run(*conn, "CREATE TABLE tr.audit (n INT AUTO_INCREMENT PRIMARY KEY, id INT)");
  }
  auto p = start(settings("triggers", 2));
  run(src, "USE tr");
  run(src, "CREATE TRIGGER t_ins AFTER INSERT ON t FOR EACH ROW "
           "INSERT INTO audit (id) VALUES (NEW.id)");
  run(src, "CREATE DEFINER=`root`@`localhost` EVENT tr.tick ON SCHEDULE EVERY 1 HOUR "
           "DISABLE DO DELETE FROM tr.t");
  run(src, "CREATE USER 'someone'@'%' IDENTIFIED BY 'pw'");
  run(src, "GRANT SELECT ON tr.* TO 'someone'@'%'");
  run(src, "INSERT INTO tr.t VALUES (1, 1), (2, 2), (3, 3)");
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(rows_of(dst, "tr.audit"), rows_of(src, "tr.audit"));
  EXPECT_EQ(run(dst, "SELECT COUNT(*) FROM tr.audit").rows.at(0).at(0), "3");
  EXPECT_TRUE(run(dst, "SHOW TRIGGERS FROM tr").rows.empty());
  EXPECT_TRUE(run(dst, "SHOW EVENTS FROM tr").rows.empty());
  EXPECT_TRUE(run(dst, "SELECT 1 FROM mysql.user WHERE User='someone'").rows.empty());
  auto s = p->status();
  EXPECT_EQ(s.state, binlog::pipeline_state::running) << s.error;
  EXPECT_EQ(s.ddl_skipped, 3u);
  EXPECT_TRUE(contains(s.last_skipped_ddl, "USER")) << s.last_skipped_ddl;
}

TEST_F(sync_correctness_test, routines_are_copied_when_asked) {
  auto src = source().connect();
  auto dst = target().connect();
  for (auto* conn : {&src, &dst})
    run(*conn, "CREATE DATABASE r");
  auto settings_ = settings("routines", 2);
  settings_.copy_routines = true;
  auto p = start(settings_);
  run(src, "USE r");
  run(src, "CREATE PROCEDURE r.hello() SELECT 1");
  run(src, "CREATE FUNCTION r.twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2");
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(run(dst, "SELECT r.twice(21)").rows.at(0).at(0), "42");
  EXPECT_EQ(p->status().ddl_skipped, 0u);
}

// A COMMIT whose reply is lost: the batch (or a round's share) is found
// applied when the checkpoint (or the round record) is read again, and its
// credits come back, so the reader never waits at the in-flight bound for rows
// that are long applied, and nothing is applied twice.
TEST_F(sync_correctness_test, lost_commit_replies_return_their_credits) {
  for (bool whole : {false, true}) {
    SCOPED_TRACE(whole ? "apply transaction" : "apply key");
    auto db = std::string{whole ? "lct" : "lc"};
    auto src = source().connect();
    auto dst = target().connect();
    for (auto* conn : {&src, &dst}) {
      run(*conn, "CREATE DATABASE " + db);
      run(*conn, "CREATE TABLE " + db + ".t (id INT PRIMARY KEY, v INT)");
    }
    auto s = settings("lost_commit_" + db, 2);
    s.whole_transactions = whole;
    s.batch_rows = 5;
    s.max_inflight_rows = 20;
    auto lost = std::make_shared<std::atomic<int>>(0);
    s.fault = [lost](const std::string& point) {
      return point == "commit_reply_lost" && lost->fetch_add(1) < 40;
    };
    auto p = start(s);
    for (int i = 0; i < 200; ++i)
      run(src, "INSERT INTO " + db + ".t VALUES (" + std::to_string(i) + ", " +
                   std::to_string(i) + ")");
    // Increments: one applied twice would show.
    for (int i = 0; i < 100; ++i)
      run(src, "UPDATE " + db + ".t SET v = v + 1 WHERE id < 3");
    ASSERT_TRUE(caught_up(*p, 30s));
    EXPECT_GE(lost->load(), 40);
    EXPECT_EQ(rows_of(dst, db + ".t"), rows_of(src, db + ".t"));
    EXPECT_TRUE(eventually([&] { return p->status().inflight == 0; }, 5s));
    p->stop();
  }
}

TEST_F(sync_correctness_test, a_changed_partition_count_migrates_or_refuses) {
  auto src = source().connect();
  auto dst = target().connect();
  for (auto* conn : {&src, &dst}) {
    run(*conn, "CREATE DATABASE pc");
    run(*conn, "CREATE TABLE pc.t (id INT PRIMARY KEY, v INT)");
  }
  auto p = start(settings("parts", 2));
  for (int i = 0; i < 50; ++i)
    run(src, "INSERT INTO pc.t VALUES (" + std::to_string(i) + ", 0)");
  ASSERT_TRUE(caught_up(*p));
  // Idle: the marks bring both partitions to one key.
  ASSERT_TRUE(eventually(
      [&] {
        return run(dst,
                   "SELECT COUNT(DISTINCT file, pos, idx) FROM shoal.sync_checkpoint "
                   "WHERE pipeline='parts' AND partition_id >= 0")
                   .rows.at(0)
                   .at(0) == "1";
      },
      10s));
  p->stop();
  // All at one key: a new count takes it over.
  p = start(settings("parts", 5));
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  run(src, "UPDATE pc.t SET v = v + 1");
  for (int i = 50; i < 80; ++i)
    run(src, "INSERT INTO pc.t VALUES (" + std::to_string(i) + ", 0)");
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(rows_of(dst, "pc.t"), rows_of(src, "pc.t"));
  EXPECT_EQ(run(dst, "SELECT COUNT(*) FROM shoal.sync_checkpoint WHERE pipeline='parts' "
                     "AND partition_id >= 0")
                .rows.at(0)
                .at(0),
            "5");
  p->stop();
  // Partitions at different keys: a new count would skip or repeat changes.
  run(dst, "UPDATE shoal.sync_checkpoint SET idx = idx + 1 WHERE pipeline='parts' AND "
           "partition_id = 3");
  p = start(settings("parts", 3), binlog::pipeline_state::failed);
  auto s = p->status();
  ASSERT_EQ(s.state, binlog::pipeline_state::failed);
  EXPECT_TRUE(contains(s.error, "configured with 3")) << s.error;
  EXPECT_TRUE(contains(s.error, "partitions=5")) << s.error;
}

// The same pipeline started twice: the newer claim wins; the older process
// cannot commit another batch.
TEST_F(sync_correctness_test, a_second_process_on_the_same_pipeline_fences_the_first) {
  auto src = source().connect();
  auto dst = target().connect();
  for (auto* conn : {&src, &dst}) {
    run(*conn, "CREATE DATABASE f");
    run(*conn, "CREATE TABLE f.t (id INT PRIMARY KEY, v INT)");
  }
  auto first_settings = settings("fenced", 2);
  first_settings.owner = "first";
  auto first = start(first_settings);
  run(src, "INSERT INTO f.t VALUES (1, 1)");
  ASSERT_TRUE(caught_up(*first));
  auto second_settings = settings("fenced", 2);
  second_settings.owner = "second";
  // Another replica id: with the same one the source itself would cut the
  // first process's binlog connection, and the fence would not be what stops it.
  second_settings.server_id = 4243;
  auto second = start(second_settings);
  EXPECT_GT(second->status().epoch, first->status().epoch);
  run(src, "INSERT INTO f.t VALUES (2, 2)");
  run(src, "UPDATE f.t SET v = 10 WHERE id = 1");
  ASSERT_TRUE(caught_up(*second));
  auto s = failed(*first);
  EXPECT_EQ(s.state, binlog::pipeline_state::failed);
  EXPECT_TRUE(contains(s.error, "claimed by second")) << s.error;
  EXPECT_TRUE(s.claimed_elsewhere) << "so that a resume does not take it back";
  EXPECT_FALSE(second->status().claimed_elsewhere);
  EXPECT_EQ(rows_of(dst, "f.t"), rows_of(src, "f.t"));
}

// apply_generated sends a small transaction as one text ending in COMMIT: the
// fence must stop it inside the server. Also across several texts and for a
// statement too long to join, and a failing statement names its index and
// leaves nothing behind.
// Both ways the fence can travel: inside the server (MariaDB) and read back
// before COMMIT (what a MySQL target gets).
class fenced_session_test : public sync_correctness_test,
                            public ::testing::WithParamInterface<bool> {};

INSTANTIATE_TEST_SUITE_P(fence, fenced_session_test, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "in_server" : "read_back";
                         });

TEST_P(fenced_session_test, commits_nothing_however_its_statements_travel) {
  auto dst = target().connect();
  for (auto& sql : binlog::checkpoint_schema_sql("shoal"))
    run(dst, sql);
  run(dst, "CREATE DATABASE f");
  run(dst, "CREATE TABLE f.t (id INT PRIMARY KEY, v LONGTEXT)");
  auto first_epoch = binlog::claim_pipeline(dst, "shoal", "fence", "first");
  ASSERT_TRUE(first_epoch) << first_epoch.error().to_string();
  auto session = binlog::target_session::open(target().connection_config(),
                                              {"shoal", "fence", *first_epoch});
  ASSERT_TRUE(session) << session.error().to_string();
  session->set_fence_in_server(GetParam());
  const size_t budget = binlog::statement_budget(16u << 20);
  auto apply = [&](const std::vector<std::string>& statements) {
    return session->apply_generated(statements, budget);
  };
  auto insert = [](int id, size_t bytes) {
    return "INSERT INTO f.t VALUES (" + std::to_string(id) + ", '" +
           std::string(bytes, 'x') + "')";
  };
  auto ids = [&] {
    return run(dst, "SELECT GROUP_CONCAT(id ORDER BY id) FROM f.t").rows[0][0];
  };
  const size_t joined = binlog::target_session::batch_text_bytes;

  // One text; several texts; a statement that goes alone.
  EXPECT_FALSE(apply({insert(1, 10), insert(2, 10)}));
  EXPECT_FALSE(
      apply({insert(3, joined / 2), insert(4, joined / 2), insert(5, joined / 2)}));
  EXPECT_FALSE(apply({insert(6, joined + 1), insert(7, 10)}));
  EXPECT_EQ(ids(), "1,2,3,4,5,6,7");

  // A duplicate key in the middle: its index, and the whole transaction gone.
  auto dup = apply({insert(8, 10), insert(1, 10), insert(9, 10)});
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->error.code, 1062u);
  EXPECT_EQ(dup->statement, std::optional<size_t>{1});
  EXPECT_FALSE(dup->fenced);
  auto dup_later = apply({insert(10, joined / 2), insert(11, joined / 2),
                          insert(12, joined / 2), insert(2, 10)});
  ASSERT_TRUE(dup_later);
  EXPECT_EQ(dup_later->statement, std::optional<size_t>{3});
  EXPECT_EQ(ids(), "1,2,3,4,5,6,7");

  // Claimed by another process: fenced, whatever the shape.
  ASSERT_TRUE(binlog::claim_pipeline(dst, "shoal", "fence", "second"));
  for (auto statements :
       {std::vector<std::string>{insert(20, 10)},
        std::vector<std::string>{insert(21, joined + 1)},
        std::vector<std::string>{insert(22, joined / 2), insert(23, joined / 2),
                                 insert(24, joined / 2)},
        std::vector<std::string>{},
        // The new owner's rows: a duplicate key must not hide the fence (nor be
        // retried as if the row were wrong).
        std::vector<std::string>{insert(1, 10)}}) {
    auto fenced = apply(statements);
    ASSERT_TRUE(fenced);
    EXPECT_TRUE(fenced->fenced);
    EXPECT_TRUE(contains(fenced->error.message, "claimed by second"))
        << fenced->error.message;
  }
  EXPECT_EQ(ids(), "1,2,3,4,5,6,7");
}

// A target with a small max_allowed_packet: the texts apply_generated joins stay
// within the session's budget (START, separators and COMMIT included), and a
// statement that fills the budget alone still goes.
TEST_F(sync_correctness_test, joined_statements_fit_a_small_max_allowed_packet) {
  auto dst = target().connect();
  for (auto& sql : binlog::checkpoint_schema_sql("shoal"))
    run(dst, sql);
  run(dst, "CREATE DATABASE f");
  run(dst, "CREATE TABLE f.t (id INT PRIMARY KEY, v LONGTEXT)");
  auto before =
      run(dst, "SELECT @@global.max_allowed_packet").rows.at(0).at(0).value_or("");
  run(dst, "SET GLOBAL max_allowed_packet = 32768");
  struct restore {
    mysql_connection& conn;
    std::string value;
    ~restore() { (void)conn.exec("SET GLOBAL max_allowed_packet = " + value); }
  } restore_packet{dst, before};
  auto epoch = binlog::claim_pipeline(dst, "shoal", "small", "me");
  ASSERT_TRUE(epoch) << epoch.error().to_string();
  auto session = binlog::target_session::open(target().connection_config(),
                                              {"shoal", "small", *epoch});
  ASSERT_TRUE(session) << session.error().to_string();
  auto budget = binlog::detail::session_budget(session->connection());
  ASSERT_EQ(budget, binlog::statement_budget(32768));
  auto insert = [](int id, size_t bytes) {
    return "INSERT INTO f.t VALUES (" + std::to_string(id) + ", '" +
           std::string(bytes, 'x') + "')";
  };
  std::vector<std::string> statements;
  for (int id = 1; id <= 6; ++id)
    statements.push_back(insert(id, budget / 3));
  statements.push_back(insert(7, budget - 40));
  auto failure = session->apply_generated(statements, budget);
  EXPECT_FALSE(failure) << failure->error.to_string();
  EXPECT_EQ(run(dst, "SELECT COUNT(*) FROM f.t").rows[0][0], "7");
}

// A crash between a DDL and its checkpoint: on restart the DDL is not run a
// second time (a renamed column would be gone, an unnamed index added twice).
TEST_F(sync_correctness_test, ddl_is_not_run_twice_after_a_crash_before_its_checkpoint) {
  auto src = source().connect();
  auto dst = target().connect();
  auto s = settings("ddl_crash", 2);
  run(src, "CREATE DATABASE dd");
  run(src, "CREATE TABLE dd.t (id INT PRIMARY KEY, a INT, b INT)");
  run(src, "INSERT INTO dd.t VALUES (1, 1, 1)");
  run(src, "ALTER TABLE dd.t CHANGE COLUMN a a2 INT");
  run(src, "ALTER TABLE dd.t ADD INDEX (b)");
  run(src, "ALTER TABLE dd.t RENAME COLUMN b TO b2");
  run(src, "CREATE TABLE dd.u (id INT PRIMARY KEY)");
  run(src, "RENAME TABLE dd.u TO dd.v");
  run(src, "INSERT INTO dd.t VALUES (2, 2, 2)");
  auto end = master_position(src);
  s.start_mode = binlog::start_point::position;
  s.start_position = {end.file, 4};
  // Each run crashes right after the first DDL it runs; the next run resumes.
  int crashes = 0;
  std::shared_ptr<binlog::pipeline> done;
  for (int run_no = 0; run_no < 12 && !done; ++run_no) {
    auto crashed = std::make_shared<std::atomic<bool>>(false);
    auto attempt = s;
    attempt.fault = [crashed](const std::string& point) {
      return point == "ddl_applied" && !crashed->exchange(true);
    };
    auto p = start(attempt);
    if (p->wait_applied(end, 20s)) {
      done = p;
      break;
    }
    auto st = p->status();
    ASSERT_EQ(st.state, binlog::pipeline_state::failed);
    ASSERT_TRUE(contains(st.error, "fault injected")) << st.error;
    ++crashes;
    p->stop();
  }
  ASSERT_TRUE(done);
  EXPECT_EQ(crashes, 7); // one per DDL
  run(src, "INSERT INTO dd.t VALUES (3, 3, 3)");
  ASSERT_TRUE(caught_up(*done));
  EXPECT_EQ(run(dst, "SHOW CREATE TABLE dd.t").rows.at(0).at(1),
            run(src, "SHOW CREATE TABLE dd.t").rows.at(0).at(1));
  EXPECT_EQ(rows_of(dst, "dd.t"), rows_of(src, "dd.t"));
  EXPECT_EQ(checksum(dst, "dd.v"), checksum(src, "dd.v"));
}

// A database renamed by the pipeline: a DDL that names the source database
// explicitly would hit the target's table of that name, not the renamed one.
TEST_F(sync_correctness_test,
       qualified_ddl_under_a_database_rename_stops_instead_of_hitting_another_table) {
  auto src = source().connect();
  auto dst = target().connect();
  run(src, "CREATE DATABASE src");
  run(src, "CREATE TABLE src.t (id INT PRIMARY KEY)");
  run(dst, "CREATE DATABASE src");
  run(dst, "CREATE TABLE src.t (id INT PRIMARY KEY)"); // not ours: must stay as it is
  run(dst, "CREATE DATABASE dst");
  run(dst, "CREATE TABLE dst.t (id INT PRIMARY KEY)");
  auto s = settings("renamed_db", 2);
  s.filter = binlog::table_filter{{"src.*"}, {}, {{"src", "dst"}}, "shoal"};
  auto p = start(s);
  run(src, "USE src");
  run(src, "ALTER TABLE src.t ADD COLUMN c INT");
  auto st = failed(*p);
  EXPECT_EQ(st.state, binlog::pipeline_state::failed);
  EXPECT_TRUE(contains(st.error, "renamed")) << st.error;
  EXPECT_EQ(run(dst, "SHOW CREATE TABLE src.t").rows.at(0).at(1).value_or("").find("`c`"),
            std::string::npos);
}

// binlog_row_image=MINIMAL on a table without a primary key: its before images
// hold the unique key the server treats as primary, the first defined one.
TEST_F(sync_correctness_test, minimal_images_of_a_table_keyed_by_a_unique_key) {
  auto src = source().connect();
  auto dst = target().connect();
  const char* ddl = "CREATE TABLE mk.t (a INT NOT NULL, b INT NOT NULL, v INT, "
                    "UNIQUE KEY z_first (a), UNIQUE KEY a_second (b))";
  for (auto* conn : {&src, &dst}) {
    run(*conn, "CREATE DATABASE mk");
    run(*conn, ddl);
  }
  // NO_LOG (MariaDB's default): the binlog names no key, the target's schema does.
  run(src, "SET GLOBAL binlog_row_metadata = 'NO_LOG'");
  auto p = start(settings("minimal_uk", 2));
  auto conn = source().connect();
  run(conn, "SET SESSION binlog_row_image = 'MINIMAL'");
  run(conn, "INSERT INTO mk.t VALUES (1, 10, 0), (2, 20, 0), (3, 30, 0)");
  run(conn, "UPDATE mk.t SET v = 5 WHERE a = 1");
  run(conn, "UPDATE mk.t SET b = 21 WHERE a = 2");
  run(conn, "DELETE FROM mk.t WHERE a = 3");
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(rows_of(dst, "mk.t"), rows_of(src, "mk.t"));
}

// A table without a key: rows are matched on their values, byte for byte; a
// case-insensitive comparison took 'K' for 'k ' and changed the wrong row.
TEST_F(sync_correctness_test, rows_without_a_key_are_matched_byte_for_byte) {
  auto src = source().connect();
  auto dst = target().connect();
  for (auto* conn : {&src, &dst}) {
    run(*conn, "CREATE DATABASE nk");
    run(*conn, "CREATE TABLE nk.t (a INT, b VARCHAR(5), c CHAR(3) COLLATE utf8mb4_bin, "
               "f FLOAT) DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_general_ci");
  }
  auto p = start(settings("keyless_match", 2));
  run(src, "INSERT INTO nk.t VALUES (1, 'K', 'x', 1.1), (1, 'K', 'x', 1.1), (2, 'k ', 'y "
           "', 0.3)");
  run(src, "UPDATE nk.t SET b = 'k ' WHERE a = 1");
  run(src, "UPDATE nk.t SET c = 'X' WHERE a = 1 LIMIT 1");
  run(src, "DELETE FROM nk.t WHERE f > 0.29 AND f < 0.31");
  run(src, "UPDATE nk.t SET f = 2.5 WHERE c = 'X'");
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(rows_of(dst, "nk.t"), rows_of(src, "nk.t"));
  EXPECT_EQ(checksum(dst, "nk.t"), checksum(src, "nk.t"));
}

// Unexpected exceptions end the pipeline as "failed" with the reason; stop()
// then returns at once.
TEST_F(sync_correctness_test, unexpected_exceptions_fail_the_pipeline_with_a_reason) {
  for (auto point : {"reader_exception", "partition_exception"}) {
    SCOPED_TRACE(point);
    auto src = source().connect();
    run(src, "DROP DATABASE IF EXISTS ex");
    run(src, "CREATE DATABASE ex");
    run(src, "CREATE TABLE ex.t (id INT PRIMARY KEY)");
    auto s = settings(std::string{"exceptions_"} + point, 2);
    s.fault = [point](const std::string& at) { return at == point; };
    auto p = binlog::pipeline::start(sys_, s);
    pipelines_.push_back(p);
    run(src, "INSERT INTO ex.t VALUES (1)");
    auto st = failed(*p);
    EXPECT_EQ(st.state, binlog::pipeline_state::failed);
    EXPECT_TRUE(contains(st.error, "injected failure")) << st.error;
    // Nobody calls stop(): the failed actor's exit travels along the links and
    // ends the reader and every partition.
    EXPECT_TRUE(p->wait_ended(10s));
    p->stop();
  }
}

// stop() reaches actors that are waiting out a backoff (source or target down):
// the exit message ends the wait, no flag needs polling.
TEST_F(sync_correctness_test, stop_ends_actors_waiting_for_unreachable_servers) {
  struct server_down {
    const char* what;
    bool source;
  };
  for (auto down : {server_down{"source", true}, server_down{"target", false}}) {
    SCOPED_TRACE(down.what);
    auto s = settings(std::string{"unreachable_"} + down.what, 3);
    (down.source ? s.source : s.target).port = free_port();
    auto p = binlog::pipeline::start(sys_, s);
    pipelines_.push_back(p);
    EXPECT_FALSE(p->wait_ended(500ms)) << "the actors retry while the server is down";
    EXPECT_EQ(p->status().state, binlog::pipeline_state::starting);
    p->stop();
    EXPECT_TRUE(p->wait_ended(0ms));
    EXPECT_EQ(p->status().state, binlog::pipeline_state::stopped);
    EXPECT_TRUE(p->status().error.empty()) << p->status().error;
  }
}

// The ownership lease (sync_failover_test runs it with node processes): one
// holder at a time, a live lease is not taken, a released one is at once, and a
// leased claim of the epoch fails for a process that lost the lease.
// A DDL commits by itself, so the owner check cannot share its transaction:
// an owner frozen between its check and the DDL (SIGSTOP, a cut network) would
// run it after another process took over; here it would add back a column the
// new owner has added and dropped since. The writer lock ends its session.
TEST_F(sync_correctness_test,
       an_owner_frozen_before_a_ddl_never_runs_it_after_a_takeover) {
  auto src = source().connect();
  auto dst = target().connect();
  for (auto* conn : {&src, &dst}) {
    run(*conn, "CREATE DATABASE fz");
    run(*conn, "CREATE TABLE fz.t (id INT PRIMARY KEY, v INT)");
  }
  struct freeze {
    std::mutex m;
    std::condition_variable cv;
    bool frozen = false;
    bool thawed = false;
    void thaw() {
      std::lock_guard<std::mutex> guard{m};
      thawed = true;
      cv.notify_all();
    }
  };
  auto f = std::make_shared<freeze>();
  auto first_settings = settings("frozen", 2);
  first_settings.owner = "first";
  first_settings.fault = [f](const std::string& point) {
    if (point != "ddl_about_to_run")
      return false;
    std::unique_lock<std::mutex> lock{f->m};
    if (!f->frozen) {
      f->frozen = true;
      f->cv.notify_all();
      f->cv.wait(lock, [&] { return f->thawed; });
    }
    return false;
  };
  auto first = start(first_settings);
  struct thaw_at_exit {
    std::shared_ptr<freeze> f;
    ~thaw_at_exit() { f->thaw(); }
  } thaw_guard{f}; // before `first` stops, whatever fails
  run(src, "INSERT INTO fz.t VALUES (1, 1)");
  ASSERT_TRUE(caught_up(*first));
  run(src, "ALTER TABLE fz.t ADD COLUMN c INT");
  {
    std::unique_lock<std::mutex> lock{f->m};
    ASSERT_TRUE(f->cv.wait_for(lock, 30s, [&] { return f->frozen; }))
        << "the first process never reached its DDL";
  }
  auto second_settings = settings("frozen", 2);
  second_settings.owner = "second";
  second_settings.server_id = 4244;
  auto second = start(second_settings);
  run(src, "ALTER TABLE fz.t DROP COLUMN c");
  run(src, "INSERT INTO fz.t VALUES (2, 2)");
  ASSERT_TRUE(caught_up(*second));
  f->thaw();
  auto s = failed(*first);
  EXPECT_EQ(s.state, binlog::pipeline_state::failed);
  EXPECT_TRUE(s.claimed_elsewhere) << s.error;
  EXPECT_TRUE(contains(s.error, "claimed by second")) << s.error;
  EXPECT_EQ(run(dst, "SHOW CREATE TABLE fz.t").rows.at(0).at(1),
            run(src, "SHOW CREATE TABLE fz.t").rows.at(0).at(1));
  EXPECT_EQ(rows_of(dst, "fz.t"), rows_of(src, "fz.t"));
}

// An old owner that took the writer lock after the new owner's claim (and froze
// before its owner check) holds it when the new owner's next DDL comes: the
// new owner waits less than its read timeout, ends that session, runs the DDL.
TEST_F(sync_correctness_test,
       a_writer_lock_held_past_the_claim_is_taken_from_its_holder) {
  auto src = source().connect();
  auto dst = target().connect();
  for (auto* conn : {&src, &dst}) {
    run(*conn, "CREATE DATABASE wl");
    run(*conn, "CREATE TABLE wl.t (id INT PRIMARY KEY, v INT)");
  }
  auto s = settings("locked", 2);
  s.target.read_timeout = std::chrono::seconds{7}; // a lock wait of 2 s
  auto p = start(s);
  run(src, "INSERT INTO wl.t VALUES (1, 1)");
  ASSERT_TRUE(caught_up(*p));
  auto old_owner = target().connect();
  auto name = binlog::writer_lock_name("shoal", "locked");
  ASSERT_EQ(run(old_owner, "SELECT GET_LOCK('" + name + "', 0)").rows.at(0).at(0), "1");
  run(src, "ALTER TABLE wl.t ADD COLUMN c INT");
  run(src, "INSERT INTO wl.t VALUES (2, 2, 2)");
  ASSERT_TRUE(caught_up(*p, std::chrono::seconds{30})) << p->status().error;
  EXPECT_EQ(run(dst, "SHOW CREATE TABLE wl.t").rows.at(0).at(1),
            run(src, "SHOW CREATE TABLE wl.t").rows.at(0).at(1));
  EXPECT_EQ(rows_of(dst, "wl.t"), rows_of(src, "wl.t"));
  auto gone = old_owner.query("SELECT 1");
  ASSERT_FALSE(gone) << "the holder's session was not ended";
  EXPECT_TRUE(is_connection_lost(gone.error())) << gone.error().to_string();
}

// The writer lock's name fits GET_LOCK's 64 characters and tells pipelines apart.
TEST(writer_lock_name, is_short_and_distinct) {
  EXPECT_EQ(binlog::writer_lock_name("shoal", "orders"), "shoal-writer:shoal.orders");
  std::string long_name(100, 'p');
  auto a = binlog::writer_lock_name("shoal", long_name);
  auto b = binlog::writer_lock_name("shoal", long_name + "q");
  auto c = binlog::writer_lock_name("other", long_name);
  for (auto& n : {a, b, c})
    EXPECT_LE(n.size(), 64u) << n;
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  std::string accents;
  for (int i = 0; i < 40; ++i)
    accents += "\xc3\xa9"; // é
  auto d = binlog::writer_lock_name("shoal", accents);
  EXPECT_LE(d.size(), 64u);
  auto tilde = d.find('~');
  ASSERT_NE(tilde, std::string::npos) << d;
  EXPECT_EQ((tilde - std::string{"shoal-writer:"}.size()) % 2, 0u)
      << "cut inside a character: " << d;
}

TEST_F(sync_correctness_test, the_lease_has_one_holder_and_a_leased_claim_checks_it) {
  auto dst = target().connect();
  for (auto& sql : binlog::checkpoint_schema_sql("shoal"))
    run(dst, sql);
  using std::chrono::milliseconds;
  auto acquire = [&](const std::string& who) {
    auto r =
        binlog::acquire_lease(dst, "shoal", "p", who, who + "-node", milliseconds{60000});
    EXPECT_TRUE(r) << r.error().to_string();
    return r && *r;
  };
  EXPECT_TRUE(acquire("a"));
  EXPECT_TRUE(acquire("a")) << "its holder takes it again";
  EXPECT_FALSE(acquire("b")) << "a live lease is not taken";
  auto v = binlog::read_lease(dst, "shoal", "p");
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_TRUE(v->live);
  EXPECT_EQ(v->holder, "a");
  EXPECT_EQ(v->node, "a-node");
  EXPECT_GT(v->remaining_ms, 50000);

  auto claimed = binlog::claim_pipeline(dst, "shoal", "p", "a", true);
  ASSERT_TRUE(claimed) << claimed.error().to_string();
  auto renewed = binlog::renew_lease(dst, "shoal", "p", "a", milliseconds{60000});
  ASSERT_TRUE(renewed);
  EXPECT_TRUE(*renewed);

  ASSERT_TRUE(binlog::release_lease(dst, "shoal", "p", "b")); // not b's: nothing
  EXPECT_FALSE(acquire("b"));
  ASSERT_TRUE(binlog::release_lease(dst, "shoal", "p", "a"));
  EXPECT_TRUE(acquire("b")) << "a released lease is taken at once";
  renewed = binlog::renew_lease(dst, "shoal", "p", "a", milliseconds{60000});
  ASSERT_TRUE(renewed);
  EXPECT_FALSE(*renewed) << "a renewal finds the new holder";

  // a lost the lease: its claim must not raise the epoch over b's.
  auto late = binlog::claim_pipeline(dst, "shoal", "p", "a", true);
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().to_string().find("no longer holds the lease"), std::string::npos)
      << late.error().to_string();
  auto b_claim = binlog::claim_pipeline(dst, "shoal", "p", "b", true);
  ASSERT_TRUE(b_claim) << b_claim.error().to_string();
  EXPECT_EQ(*b_claim, *claimed + 1);
  v = binlog::read_lease(dst, "shoal", "p");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->epoch, *b_claim);
}

} // namespace
} // namespace shoal::test

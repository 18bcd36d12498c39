// The sync pipeline against real MariaDB servers: rows, DDL, key changes,
// tables without keys, restarts and the checks at start.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "tests/integration/binlog/sync_test_support.hpp"
#include "tests/support/eventually.hpp"

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
  EXPECT_EQ(s.state, binlog::pipeline_state::running);
  EXPECT_GE(s.rows_applied, 200u);
}

/// Tables t.ints, t.nums, t.times, t.strs, t.geo and t.nokey with every type family
/// at its edge values.
void create_type_tables(mysql_connection& src) {
  run(src, "SET SESSION sql_mode=''");
  run(src, "CREATE DATABASE t");
  run(src, "CREATE TABLE t.ints (id INT PRIMARY KEY, a TINYINT, b TINYINT UNSIGNED, "
           "c SMALLINT, d SMALLINT UNSIGNED, e MEDIUMINT, f MEDIUMINT UNSIGNED, g INT, "
           "h INT UNSIGNED, i BIGINT, j BIGINT UNSIGNED)");
  run(src, "INSERT INTO t.ints VALUES (1,-128,0,-32768,0,-8388608,0,-2147483648,0,"
           "-9223372036854775808,0),(2,127,255,32767,65535,8388607,16777215,2147483647,"
           "4294967295,9223372036854775807,18446744073709551615),(3,0,0,0,0,0,0,0,0,0,0),"
           "(4,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL),(5,-1,1,-1,1,-1,1,-1,1,"
           "-1,1)");
  run(src, "CREATE TABLE t.nums (id INT PRIMARY KEY, a DECIMAL(65,30), b DECIMAL(10,2), "
           "c DECIMAL(5,0) UNSIGNED, d FLOAT, e DOUBLE)");
  run(src,
      "INSERT INTO t.nums VALUES "
      "(1,'-12345678901234567890123456789012345.123456789012345678901234567890',"
      "-99999999.99,99999,-3.40282e38,-1.7976931348623157e308),(2,0,0,0,0,0),"
      "(3,'0.000000000000000000000000000001',0.01,1,1.17549e-38,2.2250738585072014e-308),"
      "(4,NULL,NULL,NULL,NULL,NULL),(5,1.5,-0.5,7,1.1,0.1)");
  run(src,
      "CREATE TABLE t.times (id INT PRIMARY KEY, a DATE, b TIME, c TIME(6), d DATETIME, "
      "e DATETIME(6), f TIMESTAMP(6) NULL, g YEAR, h TIMESTAMP NULL, i TIME(3))");
  run(src,
      "INSERT INTO t.times VALUES (1,'0000-00-00','-838:59:59','-01:02:03.456789',"
      "'0000-00-00 00:00:00','1000-01-01 00:00:00.000001','1970-01-01 00:00:01.000001',"
      "0,'0000-00-00 00:00:00','-00:00:00.001'),"
      "(2,'9999-12-31','838:59:59','838:59:59.000000','9999-12-31 23:59:59',"
      "'9999-12-31 23:59:59.999999','2038-01-19 03:14:07.999999',2155,"
      "'2000-02-29 "
      "12:34:56','12:00:00.5'),(3,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL),"
      "(4,'2024-02-29','00:00:00','-00:00:01.5','2024-02-29 01:02:03','2024-02-29 "
      "01:02:03.5',"
      "'2024-02-29 01:02:03.25',1901,'2024-02-29 01:02:03','-12:34:56.789')");
  run(src,
      "CREATE TABLE t.strs (id INT PRIMARY KEY, a CHAR(10) CHARACTER SET utf8mb4, "
      "b VARCHAR(300) CHARACTER SET utf8mb4, c VARCHAR(20) CHARACTER SET latin1, "
      "d BINARY(8), e VARBINARY(300), f TEXT, g LONGBLOB, h ENUM('x','y','z'), "
      "i SET('a','b','c','d'), j BIT(1), k BIT(64), l JSON, m TINYBLOB, n MEDIUMTEXT)");
  run(src,
      "INSERT INTO t.strs VALUES (1,'','','',x'',x'','','',NULL,'',0,0,'{}',x'',''),"
      "(2,'😀🐟ü','😀 four-byte 𝄞 utf8','grüße',x'00010000ff000000',x'00ff00',"
      "'text\\'s \"quoted\" \\\\ back',REPEAT(x'00ff7f',350000),'z','a,d',1,"
      "18446744073709551615,'{\"k\": [1, \"😀\", null]}',x'000102','n'),"
      "(3,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL),"
      "(4,'a','b','c',x'41',x'42','f',x'00','x','b,c',0,1,'[]',x'00',REPEAT('ü',1000))");
  run(src, "INSERT INTO t.nums VALUES (6,0,0,0,1.0000001,0.30000000000000004),"
           "(7,0,0,0,16777217,1e-300),(8,0,0,0,-0.1,123456789.123456789)");
  run(src, "CREATE TABLE t.geo (id INT PRIMARY KEY, g GEOMETRY, p POINT NOT NULL, "
           "l LINESTRING, y POLYGON)");
  run(src,
      "INSERT INTO t.geo VALUES (1, ST_GeomFromText('POINT(1 2)'), "
      "ST_GeomFromText('POINT(-0.5 1e10)'), ST_GeomFromText('LINESTRING(0 0,1 1,2 0)'), "
      "ST_GeomFromText('POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 1))')), "
      "(2, ST_GeomFromText('GEOMETRYCOLLECTION(POINT(3 3),LINESTRING(0 0,5 5))', 4326), "
      "ST_GeomFromText('POINT(0 0)'), NULL, NULL)");
  run(src, "CREATE TABLE t.nokey (a INT, b FLOAT, c VARCHAR(10))");
  run(src,
      "INSERT INTO t.nokey VALUES (1,0.1,'x'),(1,0.1,'x'),(NULL,NULL,NULL),(2,3.5,'')");
}

constexpr const char* type_tables[] = {"t.ints", "t.nums", "t.times",
                                       "t.strs", "t.geo",  "t.nokey"};

TEST_F(sync_pipeline_test, copies_every_type_family_with_edge_values) {
  auto p = start(settings("types", 3));
  auto src = source().connect();
  create_type_tables(src);
  run(src, "UPDATE t.strs SET g = REPEAT(x'01', 100000), b = '🐟' WHERE id = 1");
  run(src, "DELETE FROM t.ints WHERE id = 5");
  ASSERT_TRUE(caught_up(*p));
  auto dst = target().connect();
  for (auto table : type_tables) {
    EXPECT_EQ(rows_of(dst, table), rows_of(src, table)) << table;
    EXPECT_EQ(checksum(dst, table), checksum(src, table)) << table;
  }
}

TEST_F(sync_pipeline_test, snapshot_copies_every_type_family_with_edge_values) {
  auto src = source().connect();
  create_type_tables(src);
  // Several pages (2000 rows each) along a two-column primary key.
  run(src, "CREATE TABLE t.many (a INT, b VARCHAR(10), v INT, PRIMARY KEY (a, b))");
  run(src, "INSERT INTO t.many SELECT seq DIV 3, CONCAT('k', seq MOD 3), seq "
           "FROM t.seq_1_to_6500");
  auto s = settings("snaptypes", 3);
  s.start_mode = binlog::start_point::snapshot;
  s.filter = binlog::table_filter{{"t.*"}, {}, {}, "shoal"};
  auto p = start(s);
  ASSERT_TRUE(caught_up(*p));
  auto dst = target().connect();
  for (auto table : type_tables) {
    EXPECT_EQ(rows_of(dst, table), rows_of(src, table)) << table;
    EXPECT_EQ(checksum(dst, table), checksum(src, table)) << table;
  }
  EXPECT_EQ(checksum(dst, "t.many"), checksum(src, "t.many"));
  EXPECT_EQ(run(dst, "SELECT COUNT(*) FROM t.many").rows.at(0).at(0), "6500");
  // Progress: every copied row counted; the estimate is InnoDB's, so only nonzero.
  auto st = p->status();
  uint64_t copied = 0;
  for (auto table : type_tables)
    copied += std::stoull(run(dst, std::string{"SELECT COUNT(*) FROM "} + table)
                              .rows.at(0)
                              .at(0)
                              .value_or("0"));
  EXPECT_EQ(st.snapshot_rows, copied + 6500);
  EXPECT_GT(st.snapshot_rows_expected, 0u);
}

TEST_F(sync_pipeline_test, applies_ddl_in_the_middle_of_the_stream) {
  auto p = start(settings("ddl", 4));
  auto src = source().connect();
  run(src, "CREATE DATABASE d");
  run(src, "CREATE TABLE d.a (id INT PRIMARY KEY, v INT)");
  run(src, "INSERT INTO d.a VALUES (1,1),(2,2),(3,3)");
  run(src, "ALTER TABLE d.a ADD COLUMN w VARCHAR(10) DEFAULT 'x'");
  run(src, "INSERT INTO d.a VALUES (4,4,'four')");
  run(src, "UPDATE d.a SET w = 'one' WHERE id = 1");
  run(src, "ALTER TABLE d.a DROP COLUMN v");
  run(src, "INSERT INTO d.a VALUES (5,'five')");
  run(src, "ALTER TABLE d.a MODIFY COLUMN w VARCHAR(40) NOT NULL");
  run(src, "UPDATE d.a SET w = REPEAT('w', 40) WHERE id = 2");
  run(src, "CREATE TABLE d.b (id INT PRIMARY KEY, s TEXT)");
  run(src, "INSERT INTO d.b VALUES (1,'b1'),(2,'b2')");
  run(src, "RENAME TABLE d.b TO d.c");
  run(src, "INSERT INTO d.c VALUES (3,'c3')");
  run(src, "CREATE TABLE d.gone (id INT PRIMARY KEY)");
  run(src, "INSERT INTO d.gone VALUES (1)");
  run(src, "DROP TABLE d.gone");
  run(src, "CREATE TABLE d.trunc (id INT PRIMARY KEY)");
  run(src, "INSERT INTO d.trunc VALUES (1),(2)");
  run(src, "TRUNCATE TABLE d.trunc");
  run(src, "INSERT INTO d.trunc VALUES (3)");
  ASSERT_TRUE(caught_up(*p));
  auto dst = target().connect();
  for (auto table : {"d.a", "d.c", "d.trunc"}) {
    EXPECT_EQ(rows_of(dst, table), rows_of(src, table)) << table;
    EXPECT_EQ(checksum(dst, table), checksum(src, table)) << table;
  }
  EXPECT_EQ(checksum(dst, "d.gone"), "NULL");
  EXPECT_EQ(run(dst, "SHOW CREATE TABLE d.a").rows.at(0).at(1),
            run(src, "SHOW CREATE TABLE d.a").rows.at(0).at(1));
}

TEST_F(sync_pipeline_test, ddl_the_target_rejects_stops_the_pipeline_with_the_position) {
  auto p = start(settings("bad_ddl", 2));
  auto src = source().connect();
  auto dst = target().connect();
  run(src, "CREATE DATABASE d");
  run(src, "CREATE TABLE d.a (id INT PRIMARY KEY)");
  ASSERT_TRUE(caught_up(*p));
  run(dst, "DROP TABLE d.a");
  run(src, "ALTER TABLE d.a ADD COLUMN v INT");
  auto pos = master_position(src);
  EXPECT_FALSE(p->wait_applied(pos, 30s));
  auto s = p->status();
  EXPECT_EQ(s.state, binlog::pipeline_state::failed);
  EXPECT_NE(s.error.find("ALTER TABLE d.a ADD COLUMN v INT"), std::string::npos)
      << s.error;
  EXPECT_NE(s.error.find(pos.file + ":"), std::string::npos) << s.error;
}

TEST_F(sync_pipeline_test, key_changing_updates_and_tables_without_keys) {
  auto p = start(settings("keys", 4));
  auto src = source().connect();
  run(src, "CREATE DATABASE k");
  run(src, "CREATE TABLE k.t (id INT PRIMARY KEY, v VARCHAR(10))");
  run(src, "INSERT INTO k.t VALUES (1,'a'),(2,'b'),(3,'c'),(10,'x')");
  run(src, "UPDATE k.t SET id = id + 1 ORDER BY id DESC");
  run(src, "UPDATE k.t SET id = 100, v = 'moved' WHERE id = 11");
  run(src, "INSERT INTO k.t VALUES (11,'again')");
  run(src, "CREATE TABLE k.nokey (a INT, b VARCHAR(10), c DOUBLE)");
  run(src,
      "INSERT INTO k.nokey VALUES (1,'x',0.5),(1,'x',0.5),(2,NULL,1.5),(3,'y',NULL)");
  run(src, "UPDATE k.nokey SET b = 'z' WHERE a = 1 LIMIT 1");
  run(src, "DELETE FROM k.nokey WHERE b IS NULL");
  run(src, "UPDATE k.nokey SET c = 7 WHERE c IS NULL");
  run(src, "CREATE TABLE k.uniq (u INT NOT NULL, v INT, UNIQUE KEY (u))");
  run(src, "INSERT INTO k.uniq VALUES (1,1),(2,2)");
  run(src, "UPDATE k.uniq SET v = 20 WHERE u = 2");
  run(src, "DELETE FROM k.uniq WHERE u = 1");
  ASSERT_TRUE(caught_up(*p));
  auto dst = target().connect();
  for (auto table : {"k.t", "k.nokey", "k.uniq"}) {
    EXPECT_EQ(rows_of(dst, table), rows_of(src, table)) << table;
    EXPECT_EQ(checksum(dst, table), checksum(src, table)) << table;
  }
}

TEST_F(sync_pipeline_test,
       rows_of_different_keys_that_collide_on_the_target_keep_source_order) {
  auto p = start(settings("collide", 4));
  auto src = source().connect();
  run(src, "CREATE DATABASE c");
  // A second unique key: each row frees an email that a new row takes right after.
  run(src, "CREATE TABLE c.acct (id INT PRIMARY KEY, email VARCHAR(40) NOT NULL, "
           "UNIQUE KEY (email))");
  // A case- and accent-insensitive key: 'name-1' and 'NAME-1 ' are one row.
  run(src, "CREATE TABLE c.ci (name VARCHAR(20) COLLATE utf8mb4_general_ci PRIMARY KEY, "
           "v INT)");
  // MariaDB's _bin pads: 'k1' and 'k1  ' are one row; it still spreads.
  run(src,
      "CREATE TABLE c.padded (name VARCHAR(20) COLLATE utf8mb4_bin PRIMARY KEY, v INT)");
  for (int i = 1; i <= 150; ++i) {
    auto n = std::to_string(i);
    run(src, "INSERT INTO c.acct VALUES (" + n + ", 'user-" + n + "')");
    run(src, "INSERT INTO c.ci VALUES ('name-" + n + "', " + n + ")");
    run(src, "INSERT INTO c.padded VALUES ('k" + n + "', " + n + ")");
  }
  for (int i = 1; i <= 150; ++i) {
    auto n = std::to_string(i);
    run(src, "UPDATE c.acct SET email = 'old-" + n + "' WHERE id = " + n);
    run(src,
        "INSERT INTO c.acct VALUES (" + std::to_string(1000 + i) + ", 'user-" + n + "')");
    run(src, "DELETE FROM c.ci WHERE name = 'name-" + n + "'");
    run(src,
        "INSERT INTO c.ci VALUES ('NAME-" + n + " ', " + std::to_string(1000 + i) + ")");
    run(src, "DELETE FROM c.padded WHERE name = 'k" + n + "'");
    run(src,
        "INSERT INTO c.padded VALUES ('k" + n + "  ', " + std::to_string(1000 + i) + ")");
  }
  // In one transaction (one batch): row C frees a value, A takes it, C changes
  // again; applying C's last change alone before A would collide.
  for (int i = 1; i <= 50; ++i) {
    auto n = std::to_string(i);
    run(src, "START TRANSACTION");
    run(src, "UPDATE c.acct SET email = 'moved-" + n +
                 "' WHERE id = " + std::to_string(1000 + i));
    run(src,
        "INSERT INTO c.acct VALUES (" + std::to_string(2000 + i) + ", 'user-" + n + "')");
    run(src, "UPDATE c.acct SET email = 'final-" + n +
                 "' WHERE id = " + std::to_string(1000 + i));
    run(src, "COMMIT");
  }
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  auto dst = target().connect();
  for (auto table : {"c.acct", "c.ci", "c.padded"}) {
    EXPECT_EQ(rows_of(dst, table), rows_of(src, table)) << table;
    EXPECT_EQ(checksum(dst, table), checksum(src, table)) << table;
  }
}

TEST_F(sync_pipeline_test, xa_transactions_apply_on_commit_and_vanish_on_rollback) {
  auto p = start(settings("xa", 4));
  auto src = source().connect();
  run(src, "CREATE DATABASE x");
  run(src, "CREATE TABLE x.t (id INT PRIMARY KEY, v VARCHAR(20))");
  run(src, "INSERT INTO x.t VALUES (1, 'plain')");
  run(src, "XA START 'committed'");
  run(src, "INSERT INTO x.t VALUES (2, 'xa-commit')");
  run(src, "UPDATE x.t SET v = 'by-xa' WHERE id = 1");
  run(src, "XA END 'committed'");
  run(src, "XA PREPARE 'committed'");
  run(src, "XA COMMIT 'committed'");
  run(src, "XA START 'rolled-back'");
  run(src, "INSERT INTO x.t VALUES (3, 'xa-rollback')");
  run(src, "XA END 'rolled-back'");
  run(src, "XA PREPARE 'rolled-back'");
  run(src, "XA ROLLBACK 'rolled-back'");
  run(src, "XA START 'one-phase'");
  run(src, "INSERT INTO x.t VALUES (4, 'one-phase')");
  run(src, "XA END 'one-phase'");
  run(src, "XA COMMIT 'one-phase' ONE PHASE");
  run(src, "INSERT INTO x.t VALUES (5, 'after')");
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  auto dst = target().connect();
  EXPECT_EQ(rows_of(dst, "x.t"), rows_of(src, "x.t"));
}

TEST_F(sync_pipeline_test,
       a_restart_between_xa_prepare_and_commit_keeps_the_prepared_rows) {
  auto s = settings("xarestart", 3);
  auto p = start(s);
  auto src = source().connect();
  auto other = source().connect();
  run(src, "CREATE DATABASE x2");
  run(src, "CREATE TABLE x2.t (id INT PRIMARY KEY, v VARCHAR(20))");
  run(src, "CREATE TABLE x2.log (n INT)");
  run(src, "XA START 'late'");
  run(src, "INSERT INTO x2.t VALUES (1, 'prepared'), (2, 'prepared')");
  run(src, "XA END 'late'");
  run(src, "XA PREPARE 'late'");
  // Later transactions move every partition's checkpoint past the XA PREPARE.
  for (int i = 10; i < 60; ++i) {
    run(other, "INSERT INTO x2.t VALUES (" + std::to_string(i) + ", 'after')");
    run(other, "INSERT INTO x2.log VALUES (" + std::to_string(i) + ")");
  }
  ASSERT_TRUE(caught_up(*p));
  p->stop();
  run(src, "XA COMMIT 'late'");
  run(other, "INSERT INTO x2.t VALUES (100, 'last')");
  p = start(s);
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  auto dst = target().connect();
  EXPECT_EQ(rows_of(dst, "x2.t"), rows_of(src, "x2.t"));
  EXPECT_EQ(rows_of(dst, "x2.log"), rows_of(src, "x2.log"))
      << "a keyless row applied twice";
  auto floor_gone = [&] {
    return run(dst,
               "SELECT COUNT(*) FROM shoal.sync_checkpoint WHERE pipeline='xarestart' "
               "AND partition_id=-1")
               .rows.at(0)
               .at(0) == std::optional<std::string>{"0"};
  };
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!floor_gone() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(floor_gone()) << "the XA floor outlived its transaction";
}

TEST_F(sync_pipeline_test, minimal_row_image_and_minimal_metadata) {
  auto src = source().connect();
  run(src, "SET GLOBAL binlog_row_metadata = 'MINIMAL'");
  run(src, "CREATE DATABASE m");
  run(src,
      "CREATE TABLE m.t (id INT PRIMARY KEY, a INT UNSIGNED, b VARCHAR(20), c BLOB)");
  auto dst = target().connect();
  run(dst, "CREATE DATABASE m");
  run(dst,
      "CREATE TABLE m.t (id INT PRIMARY KEY, a INT UNSIGNED, b VARCHAR(20), c BLOB)");
  auto p = start(settings("minimal", 2));
  auto conn = source().connect();
  run(conn, "SET SESSION binlog_row_image = 'MINIMAL'");
  run(conn, "INSERT INTO m.t VALUES (1, 4294967295, 'one', x'00'),(2, 2, 'two', "
            "NULL),(3,3,'3','3')");
  run(conn, "UPDATE m.t SET b = 'uno' WHERE id = 1");
  run(conn, "UPDATE m.t SET a = a + 1, c = x'0102' WHERE id >= 2");
  run(conn, "UPDATE m.t SET id = 30 WHERE id = 3");
  run(conn, "DELETE FROM m.t WHERE id = 2");
  run(conn, "ALTER TABLE m.t ADD COLUMN d INT DEFAULT 5");
  run(conn, "INSERT INTO m.t (id, b) VALUES (4, 'four')");
  run(conn, "UPDATE m.t SET d = 6 WHERE id = 1");
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(rows_of(dst, "m.t"), rows_of(src, "m.t"));
  EXPECT_EQ(checksum(dst, "m.t"), checksum(src, "m.t"));
}

TEST_F(sync_pipeline_test, statement_binlog_format_is_rejected_naming_the_setting) {
  auto src = source().connect();
  run(src, "SET GLOBAL binlog_format = 'STATEMENT'");
  auto p = start(settings("stmt", 2), binlog::pipeline_state::failed);
  auto s = p->status();
  EXPECT_EQ(s.state, binlog::pipeline_state::failed);
  EXPECT_NE(s.error.find("binlog_format=STATEMENT"), std::string::npos) << s.error;
  EXPECT_NE(s.error.find("set binlog_format=ROW"), std::string::npos) << s.error;
}

TEST_F(sync_pipeline_test, resumes_from_its_checkpoint_exactly_once) {
  auto src = source().connect();
  run(src, "CREATE DATABASE r");
  run(src, "CREATE TABLE r.keyed (id INT PRIMARY KEY, n INT)");
  run(src, "CREATE TABLE r.log (n INT, s VARCHAR(10))");
  auto dst = target().connect();
  run(dst, "CREATE DATABASE r");
  run(dst, "CREATE TABLE r.keyed (id INT PRIMARY KEY, n INT)");
  run(dst, "CREATE TABLE r.log (n INT, s VARCHAR(10))");
  auto s = settings("resume", 3);
  s.batch_rows = 7;
  auto p = start(s);
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 50; ++i) {
      run(src, "INSERT INTO r.log VALUES (" + std::to_string(round * 100 + i) + ", 'r')");
      run(src, "INSERT INTO r.keyed VALUES (" + std::to_string(i) +
                   ", 1) ON DUPLICATE KEY "
                   "UPDATE n = n + 1");
    }
    if (round % 2 == 0) {
      ASSERT_TRUE(caught_up(*p));
    }
    p->stop();
    p = start(s);
    ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  }
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(rows_of(dst, "r.log"), rows_of(src, "r.log"));
  EXPECT_EQ(rows_of(dst, "r.keyed"), rows_of(src, "r.keyed"));
}

TEST_F(sync_pipeline_test, filters_and_renames_tables) {
  auto src = source().connect();
  auto dst = target().connect();
  run(src, "CREATE DATABASE f");
  run(src, "CREATE TABLE f.keep (id INT PRIMARY KEY)");
  run(src, "CREATE TABLE f.skip_me (id INT PRIMARY KEY)");
  run(src, "CREATE TABLE f.moved (id INT PRIMARY KEY)");
  run(dst, "CREATE DATABASE f");
  run(dst, "CREATE DATABASE g");
  run(dst, "CREATE TABLE f.keep (id INT PRIMARY KEY)");
  run(dst, "CREATE TABLE g.arrived (id INT PRIMARY KEY)");
  auto s = settings("filter", 2);
  s.filter = binlog::table_filter{{"f.*"}, {"f.skip_*"}, {{"f.moved", "g.arrived"}}};
  auto p = start(s);
  run(src, "INSERT INTO f.keep VALUES (1),(2)");
  run(src, "INSERT INTO f.skip_me VALUES (1),(2)");
  run(src, "INSERT INTO f.moved VALUES (7),(8)");
  run(src, "DELETE FROM f.moved WHERE id = 7");
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(rows_of(dst, "f.keep"), rows_of(src, "f.keep"));
  EXPECT_EQ(rows_of(dst, "g.arrived"), rows_of(src, "f.moved"));
  EXPECT_EQ(checksum(dst, "f.skip_me"), "NULL");
}

TEST_F(sync_pipeline_test, snapshot_start_copies_then_streams_from_that_position) {
  auto src = source().connect();
  run(src, "CREATE DATABASE s");
  run(src, "CREATE TABLE s.t (id INT PRIMARY KEY, v VARCHAR(20), b BLOB)");
  for (int i = 0; i < 30; ++i)
    run(src, "INSERT INTO s.t VALUES (" + std::to_string(i) + ", 'v', x'00ff')");
  auto s = settings("snap", 2);
  s.start_mode = binlog::start_point::snapshot;
  auto p = start(s);
  run(src, "UPDATE s.t SET v = 'changed' WHERE id < 10");
  run(src, "INSERT INTO s.t VALUES (100, 'late', NULL)");
  ASSERT_TRUE(caught_up(*p));
  auto dst = target().connect();
  EXPECT_EQ(rows_of(dst, "s.t"), rows_of(src, "s.t"));
  EXPECT_EQ(checksum(dst, "s.t"), checksum(src, "s.t"));
}

TEST_F(sync_pipeline_test, a_snapshot_that_loses_its_source_connection_copies_again) {
  auto src = source().connect();
  run(src, "CREATE DATABASE sl");
  run(src, "CREATE TABLE sl.t (id INT PRIMARY KEY, v VARCHAR(40))");
  run(src, "INSERT INTO sl.t SELECT seq, CONCAT('row ', seq) FROM sl.seq_1_to_5000");
  // A lock on the target's table holds the copy at its first statement on it, so the source
  // connection is lost while the copy is under way.
  auto lock = target().connect();
  run(lock, "CREATE DATABASE sl");
  run(lock, "CREATE TABLE sl.t (id INT PRIMARY KEY)");
  run(lock, "LOCK TABLES sl.t WRITE");
  std::vector<std::string> lines;
  std::mutex lines_mutex;
  auto s = settings("snaplost", 2);
  s.start_mode = binlog::start_point::snapshot;
  s.log = [&](bool, const std::string& line) {
    std::lock_guard<std::mutex> guard{lines_mutex};
    lines.push_back(line);
  };
  auto p = start(s, binlog::pipeline_state::snapshot);
  ASSERT_EQ(p->status().state, binlog::pipeline_state::snapshot) << p->status().error;
  // Mid-copy: the source's view is open and the copy waits on the target's table.
  ASSERT_TRUE(eventually(
      [&] {
        auto waiting = lock.scalar(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE "
            "'%sl%' AND STATE LIKE '%metadata lock%'");
        return waiting && waiting->value_or("0") == "1";
      },
      std::chrono::seconds{20}))
      << "the copy did not reach the locked table: " << [&] {
           std::string out;
           auto r = lock.query("SELECT COMMAND, STATE, INFO FROM "
                               "information_schema.PROCESSLIST");
           if (r)
             for (auto& row : r->rows)
               out += row[0].value_or("-") + " | " + row[1].value_or("-") + " | " +
                      row[2].value_or("-") + "\n";
           return out;
         }();
  auto sessions =
      src.query("SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> "
                "CONNECTION_ID() AND COMMAND NOT IN ('Binlog Dump', 'Daemon') "
                "AND USER = 'root'");
  ASSERT_TRUE(sessions) << sessions.error().to_string();
  ASSERT_FALSE(sessions->rows.empty()) << "the copy's source session was not found";
  for (auto& row : sessions->rows)
    run(src, "KILL " + row[0].value_or("0"));
  run(lock, "UNLOCK TABLES");
  run(src, "UPDATE sl.t SET v = 'after' WHERE id % 7 = 0");
  ASSERT_TRUE(caught_up(*p));
  auto dst = target().connect();
  EXPECT_EQ(rows_of(dst, "sl.t").size(), 5000u);
  EXPECT_EQ(checksum(dst, "sl.t"), checksum(src, "sl.t"));
  std::lock_guard<std::mutex> guard{lines_mutex};
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("copying again from a new view") != std::string::npos;
  })) << "the copy did not start again after the lost connection";
}

TEST_F(sync_pipeline_test, sysbench_write_only_and_read_write_while_syncing) {
  auto src = source().connect();
  run(src, "CREATE DATABASE sbtest");
  auto sysbench = [&](const std::string& test, const std::string& command, int secs) {
    process_options opts;
    opts.program = "sysbench";
    opts.args = {test,
                 "--db-driver=mysql",
                 "--mysql-host=127.0.0.1",
                 "--mysql-port=" + std::to_string(source().port()),
                 "--mysql-user=root",
                 "--mysql-password=" + source().password(),
                 "--mysql-db=sbtest",
                 "--tables=2",
                 "--table-size=1000",
                 "--threads=4",
                 "--time=" + std::to_string(secs),
                 "--report-interval=0",
                 command};
    opts.name = "sysbench";
    child_process sb{opts};
    auto status = sb.wait_for_exit(60s);
    EXPECT_TRUE(status && status->success()) << sb.output_tail();
    return sb.output();
  };
  sysbench("oltp_write_only", "prepare", 1);
  auto s = settings("sysbench", 4);
  s.start_mode = binlog::start_point::snapshot;
  auto p = start(s);
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  auto out = sysbench("oltp_write_only", "run", 5);
  EXPECT_NE(out.find("transactions:"), std::string::npos) << out;
  sysbench("oltp_read_write", "run", 4);
  ASSERT_TRUE(caught_up(*p));
  auto dst = target().connect();
  for (auto table : {"sbtest.sbtest1", "sbtest.sbtest2"}) {
    EXPECT_EQ(checksum(dst, table), checksum(src, table)) << table;
    EXPECT_EQ(rows_of(dst, table).size(), rows_of(src, table).size()) << table;
  }
  auto st = p->status();
  EXPECT_GT(st.rows_applied, 1000u);
  for (auto& part : st.partitions)
    EXPECT_GT(part.rows_applied, 0u);
}

TEST_F(sync_pipeline_test, a_stopped_target_holds_the_reader_at_the_inflight_bound) {
  auto src = source().connect();
  run(src, "CREATE DATABASE b");
  run(src, "CREATE TABLE b.t (id INT PRIMARY KEY, pad VARCHAR(100))");
  auto dst = target().connect();
  run(dst, "CREATE DATABASE b");
  run(dst, "CREATE TABLE b.t (id INT PRIMARY KEY, pad VARCHAR(100))");
  auto s = settings("pressure", 2);
  s.batch_rows = 100;
  s.max_inflight_rows = 1000;
  auto p = start(s);
  run(src, "USE b");
  // The reader reads a table's keys and collations from the target when it first
  // sees the table: let it see b.t before the target stops.
  run(src, "INSERT INTO b.t VALUES (0, 'first')");
  ASSERT_TRUE(caught_up(*p));
  target().freeze();
  for (int chunk = 0; chunk < 10; ++chunk)
    run(src, "INSERT INTO b.t SELECT seq, REPEAT('p', 100) FROM seq_" +
                 std::to_string(chunk * 2000 + 1) + "_to_" +
                 std::to_string(chunk * 2000 + 2000));
  int64_t most = 0;
  auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    most = std::max(most, p->status().inflight);
    std::this_thread::sleep_for(20ms);
  }
  auto held = p->status();
  target().thaw();
  EXPECT_GT(most, 0);
  // At most one rows event (binlog_row_event_max_size) past the bound.
  EXPECT_LE(most, s.max_inflight_rows + 400);
  EXPECT_LT(held.rows_read, 20000u);
  ASSERT_TRUE(caught_up(*p));
  EXPECT_EQ(checksum(dst, "b.t"), checksum(src, "b.t"));
}

TEST_F(sync_pipeline_test,
       an_inflight_bound_below_what_the_partitions_buffer_does_not_stall) {
  // Rows wait in the reader's per-partition outboxes until a batch is full, and
  // count as in flight there. With 4 partitions of 100-row batches and a bound of
  // 100 rows, the bound is reached while every outbox is a quarter full: the
  // reader must hand them on rather than wait for credits no partition can send.
  // Wide rows keep each rows event to a few rows, so the bound is met exactly.
  auto src = source().connect();
  auto dst = target().connect();
  for (auto* conn : {&src, &dst}) {
    run(*conn, "CREATE DATABASE w");
    run(*conn, "CREATE TABLE w.t (id INT PRIMARY KEY, pad VARCHAR(2000))");
  }
  auto s = settings("bound", 4);
  s.batch_rows = 100;
  s.max_inflight_rows = 100;
  auto p = start(s);
  run(src, "USE w");
  run(src, "INSERT INTO w.t SELECT seq, REPEAT('p', 2000) FROM seq_1_to_3000");
  ASSERT_TRUE(caught_up(*p, 30s));
  EXPECT_EQ(checksum(dst, "w.t"), checksum(src, "w.t"));
}

TEST_F(sync_pipeline_test, gtid_start_streams_what_follows_the_gtid) {
  auto src = source().connect();
  auto dst = target().connect();
  for (auto* conn : {&src, &dst}) {
    run(*conn, "CREATE DATABASE g");
    run(*conn, "CREATE TABLE g.t (id INT PRIMARY KEY)");
  }
  for (int i = 1; i <= 10; ++i)
    run(src, "INSERT INTO g.t VALUES (" + std::to_string(i) + ")");
  auto gtid = run(src, "SELECT @@gtid_binlog_pos").rows.at(0).at(0).value_or("");
  ASSERT_FALSE(gtid.empty());
  for (int i = 11; i <= 20; ++i)
    run(src, "INSERT INTO g.t VALUES (" + std::to_string(i) + ")");
  auto s = settings("gtid", 2);
  s.start_mode = binlog::start_point::gtid;
  s.start_gtid = gtid;
  auto p = start(s);
  ASSERT_TRUE(caught_up(*p));
  auto r = run(dst, "SELECT COUNT(*), MIN(id), MAX(id) FROM g.t");
  EXPECT_EQ(r.rows.at(0).at(0), "10");
  EXPECT_EQ(r.rows.at(0).at(1), "11");
  EXPECT_EQ(r.rows.at(0).at(2), "20");
}

TEST_F(sync_pipeline_test, a_statement_based_change_mid_stream_stops_with_its_position) {
  auto p = start(settings("mixed", 2));
  auto src = source().connect();
  run(src, "CREATE DATABASE x");
  run(src, "CREATE TABLE x.t (id INT PRIMARY KEY)");
  run(src, "INSERT INTO x.t VALUES (1)");
  ASSERT_TRUE(caught_up(*p));
  auto before = master_position(src);
  run(src, "SET SESSION binlog_format = 'STATEMENT'");
  run(src, "INSERT INTO x.t VALUES (2)");
  EXPECT_FALSE(p->wait_applied(master_position(src), 30s));
  auto s = p->status();
  EXPECT_EQ(s.state, binlog::pipeline_state::failed);
  EXPECT_NE(s.error.find(before.file + ":"), std::string::npos) << s.error;
  EXPECT_NE(s.error.find("statement-based change"), std::string::npos) << s.error;
  EXPECT_NE(s.error.find("INSERT INTO x.t VALUES (2)"), std::string::npos) << s.error;
  // Nothing after the failure was applied.
  auto dst = target().connect();
  EXPECT_EQ(run(dst, "SELECT COUNT(*) FROM x.t").rows.at(0).at(0), "1");
}

// The Annotate_rows and row events in the target's binlog from `from` on.
std::pair<int, int> annotated_and_row_events(mysql_connection& dst,
                                             const binlog::binlog_position& from) {
  auto events = run(dst, "SHOW BINLOG EVENTS IN '" + from.file + "' FROM " +
                             std::to_string(from.pos));
  int annotated = 0;
  int rows = 0;
  for (auto& e : events.rows) {
    auto type = e.at(2).value_or("");
    annotated += type == "Annotate_rows";
    rows += type.find("_rows") != std::string::npos && type != "Annotate_rows";
  }
  return {annotated, rows};
}

TEST_F(sync_pipeline_test, batch_statements_are_not_annotated_in_the_targets_binlog) {
  // shoal's statements are not the source's: with BINLOG ADMIN its sessions turn
  // annotation off; without it the pipeline says so and still applies.
  auto src = source().connect();
  auto dst = target().connect();
  for (auto* c : {&src, &dst}) {
    run(*c, "CREATE DATABASE ann");
    run(*c, "CREATE TABLE ann.t (id INT PRIMARY KEY, v VARCHAR(20))");
  }
  run(dst, "CREATE USER 'plain'@'%' IDENTIFIED BY 'plain-pw'");
  run(dst, "GRANT ALL ON `ann`.* TO 'plain'@'%'");
  run(dst, "GRANT ALL ON `shoal`.* TO 'plain'@'%'");
  for (bool admin : {true, false}) {
    SCOPED_TRACE(admin ? "with BINLOG ADMIN" : "without BINLOG ADMIN");
    auto from = master_position(dst);
    std::mutex mtx;
    std::vector<std::string> lines;
    auto s = settings(admin ? "ann_admin" : "ann_plain", 2);
    if (!admin) {
      s.target.user = "plain";
      s.target.password = "plain-pw";
    }
    s.log = [&](bool, const std::string& line) {
      std::lock_guard<std::mutex> guard{mtx};
      lines.push_back(line);
    };
    auto p = start(std::move(s));
    ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
    auto base = admin ? 0 : 100;
    for (int i = 0; i < 20; ++i)
      run(src, "INSERT INTO ann.t VALUES (" + std::to_string(base + i) + ", 'v')");
    ASSERT_TRUE(caught_up(*p));
    EXPECT_EQ(run(dst, "SELECT COUNT(*) FROM ann.t WHERE id >= " + std::to_string(base) +
                           " AND id < " + std::to_string(base + 100))
                  .rows.at(0)
                  .at(0),
              "20");
    auto [annotated, rows] = annotated_and_row_events(dst, from);
    EXPECT_GT(rows, 0);
    bool warned = false;
    {
      std::lock_guard<std::mutex> guard{mtx};
      for (auto& l : lines)
        warned = warned || l.find("BINLOG ADMIN") != std::string::npos;
    }
    if (admin) {
      EXPECT_EQ(annotated, 0);
      EXPECT_FALSE(warned);
    } else {
      EXPECT_GT(annotated, 0);
      EXPECT_TRUE(warned);
    }
    p->stop();
  }
}

} // namespace
} // namespace shoal::test

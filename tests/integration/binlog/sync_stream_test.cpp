// A pipeline whose target is Redis streams (target_kind::redis_stream), against
// real MariaDB and redis-server: a consumer written here rebuilds every table
// from the streams alone, into another database, and it must equal the source
// through random changes (keys changed too), a DDL, a pipeline stopped and
// started mid-stream, and a Redis killed and restarted under it.
#include <map>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "tests/integration/binlog/sync_test_support.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/redis_server.hpp"

using namespace std::chrono_literals;
using nlohmann::json;

namespace shoal::test {
namespace {

const char* const t1_ddl =
    "CREATE TABLE t1 (id INT UNSIGNED PRIMARY KEY, big BIGINT, name VARCHAR(40) "
    "CHARACTER SET utf8mb4, price DECIMAL(12,3), data VARBINARY(64), at DATETIME(3))";
const char* const t2_ddl =
    "CREATE TABLE t2 (a INT, b VARCHAR(10), v BIGINT UNSIGNED, PRIMARY KEY (a, b))";

// Rebuilds tables from their streams as a consumer would: entries in stream
// order, each id once, c/u/d/ddl events applied to database `into`.
class rebuilder {
public:
  rebuilder(mysql_connection& conn, std::string into)
      : conn_(conn), into_(std::move(into)) {}

  // Reads what `stream` holds past what was read before and applies it.
  void consume(redis_connection& redis, const std::string& stream,
               const std::string& table, const std::set<std::string>& binary) {
    auto& last = last_id_[stream];
    auto r = redis.command({"XRANGE", stream, last.empty() ? "-" : "(" + last, "+"});
    if (!r || r->is_error())
      throw std::runtime_error("XRANGE " + stream + ": " +
                               (r ? r->str : r.error().to_string()));
    for (auto& e : r->elements) {
      last = e.elements.at(0).str;
      auto& fields = e.elements.at(1).elements;
      auto id = fields.at(1).str;
      auto event = json::parse(fields.at(3).str);
      if (!ids_.insert(stream + " " + id).second) {
        ++duplicates_;
        continue;
      }
      apply(table, event, binary);
    }
  }

  size_t duplicates() const { return duplicates_; }
  /// Updates that changed the row's key, and DDL events, applied.
  size_t moves() const { return moves_; }
  size_t ddls() const { return ddls_; }
  size_t events() const { return ids_.size(); }

private:
  std::string literal(const json& v, bool binary) {
    if (v.is_null())
      return "NULL";
    if (v.is_number())
      return v.dump();
    auto text = conn_.quote(v.get<std::string>());
    return binary ? "FROM_BASE64(" + text + ")" : text;
  }

  std::string where_key(const json& key, const std::set<std::string>& binary) {
    std::string out;
    for (auto& [col, v] : key.items())
      out += (out.empty() ? "" : " AND ") + ("`" + col + "` <=> ") +
             literal(v, binary.count(col) > 0);
    return out;
  }

  void apply(const std::string& table, const json& ev,
             const std::set<std::string>& binary) {
    auto name = "`" + into_ + "`.`" + table + "`";
    auto op = ev.at("op").get<std::string>();
    if (op == "ddl") {
      ++ddls_;
      run(conn_, "USE `" + into_ + "`");
      run(conn_, ev.at("ddl").get<std::string>());
      return;
    }
    if (op == "d" || op == "u") {
      // The key of the before image: an update may move the row.
      json old_key = json::object();
      for (auto& [col, v] : ev.at("key").items())
        old_key[col] = ev.at("before").at(col);
      if (op == "u" && old_key != ev.at("key"))
        ++moves_;
      run(conn_, "DELETE FROM " + name + " WHERE " + where_key(old_key, binary));
    }
    if (op == "c" || op == "u") {
      std::string cols, values;
      for (auto& [col, v] : ev.at("after").items()) {
        cols += (cols.empty() ? "`" : ", `") + col + "`";
        values += (values.empty() ? "" : ", ") + literal(v, binary.count(col) > 0);
      }
      run(conn_, "REPLACE INTO " + name + " (" + cols + ") VALUES (" + values + ")");
    }
  }

  mysql_connection& conn_;
  std::string into_;
  std::map<std::string, std::string> last_id_;
  std::set<std::string> ids_;
  size_t duplicates_ = 0;
  size_t moves_ = 0;
  size_t ddls_ = 0;
};

class sync_stream_test : public sync_fixture {
protected:
  void SetUp() override {
    sync_fixture::SetUp();
    auto admin = source().connect();
    run(admin, "SET GLOBAL binlog_row_metadata = 'FULL'");
  }

  binlog::pipeline_settings streaming(const redis_config& redis,
                                      uint32_t partitions = 3) {
    auto s = settings("st", partitions);
    s.kind = binlog::target_kind::redis_stream;
    s.stream.redis = redis;
    s.stream.redis.command_timeout = 5s;
    s.filter = binlog::table_filter{{"sdb.*"}, {}, {}, "shoal"};
    return s;
  }

  void create_tables() {
    auto src = source().connect("");
    run(src, "CREATE DATABASE sdb");
    run(src, "USE sdb");
    run(src, t1_ddl);
    run(src, t2_ddl);
    auto dst = target().connect();
    run(dst, "CREATE DATABASE rebuilt");
    run(dst, "USE rebuilt");
    run(dst, t1_ddl);
    run(dst, t2_ddl);
  }

  // Random transactions: inserts, updates of values and of keys, deletes.
  void write_changes(std::mt19937& rng, int transactions) {
    auto conn = source().connect("sdb");
    std::uniform_int_distribution<int> pick(0, 99);
    for (int t = 0; t < transactions; ++t) {
      run(conn, "BEGIN");
      int statements = 1 + pick(rng) % 4;
      for (int i = 0; i < statements; ++i) {
        auto id = std::to_string(pick(rng) * 10 + pick(rng) % 10);
        auto other = std::to_string(4000000000u - static_cast<unsigned>(pick(rng)));
        switch (pick(rng) % 8) {
        case 0:
        case 1:
          run(conn, "INSERT IGNORE INTO t1 (id, big, name, price, data, at) VALUES (" +
                        id + ", " + std::to_string(-int64_t{pick(rng)} * 1000000007LL) +
                        ", 'n\xC3\xBC" + id + "', " + std::to_string(pick(rng)) +
                        ".125, UNHEX('00FF" + id + "'), '2026-12-08 10:11:12.345')");
          break;
        case 2:
          run(conn, "UPDATE t1 SET price = price + 1.5, name = CONCAT(name, 'x') "
                    "WHERE id = " +
                        id);
          break;
        case 3:
          // A key change (to a free id: the statement fails on a taken one).
          run(conn, "UPDATE IGNORE t1 SET id = " + other + " WHERE id = " + id);
          break;
        case 4:
          run(conn, "DELETE FROM t1 WHERE id = " + id);
          break;
        case 5:
          run(conn, "INSERT INTO t2 VALUES (" + std::to_string(pick(rng) % 20) + ", 'b" +
                        std::to_string(pick(rng) % 3) +
                        "', 18446744073709551615) ON DUPLICATE KEY UPDATE v = v - " + id);
          break;
        case 6:
          run(conn, "UPDATE IGNORE t2 SET b = 'moved' WHERE a = " +
                        std::to_string(pick(rng) % 20) + " AND b = 'b1'");
          break;
        default:
          run(conn, "DELETE FROM t2 WHERE a = " + std::to_string(pick(rng) % 20) +
                        " AND b = 'moved'");
        }
      }
      run(conn, "COMMIT");
    }
  }

  // Rebuilds both tables from their streams; each must equal the source's.
  void expect_rebuilt_equal(redis_connection& redis, size_t ddls = 0) {
    auto dst = target().connect();
    rebuilder r{dst, "rebuilt"};
    r.consume(redis, "shoal:st:sdb.t1", "t1", {"data"});
    r.consume(redis, "shoal:st:sdb.t2", "t2", {});
    EXPECT_EQ(r.duplicates(), 0u) << "entries sent twice";
    EXPECT_GT(r.events(), 100u);
    EXPECT_GT(r.moves(), 5u) << "key changes written";
    EXPECT_EQ(r.ddls(), ddls);
    auto src = source().connect();
    for (auto t : {"t1", "t2"}) {
      auto want = rows_of(src, std::string{"sdb."} + t);
      auto got = rows_of(dst, std::string{"rebuilt."} + t);
      EXPECT_FALSE(want.empty()) << t;
      EXPECT_EQ(got, want) << t << ": rebuilt from the stream differs from the source";
    }
  }
};

TEST_F(sync_stream_test, a_consumer_rebuilds_every_table_through_a_restart_and_a_ddl) {
  create_tables();
  auto p = start(streaming(redis().connection_config()));
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  std::mt19937 rng{20261208};
  write_changes(rng, 300);
  ASSERT_TRUE(caught_up(*p));
  // Stopped mid-stream: changes and a DDL arrive while it is down.
  std::thread writer{[&] { write_changes(rng, 200); }};
  p->stop();
  writer.join();
  {
    auto src = source().connect("sdb");
    run(src, "ALTER TABLE t1 ADD COLUMN note VARCHAR(20) DEFAULT 'n'");
  }
  write_changes(rng, 200);
  auto again = start(streaming(redis().connection_config()));
  ASSERT_EQ(again->status().state, binlog::pipeline_state::running)
      << again->status().error;
  ASSERT_TRUE(caught_up(*again));
  auto conn = redis().connect();
  expect_rebuilt_equal(conn, 1);
  // The DDL went to the schema stream too, once.
  auto schema = conn.command({"XLEN", "shoal:st:schema"});
  ASSERT_TRUE(schema);
  EXPECT_EQ(schema->integer, 1);
}

TEST_F(sync_stream_test, a_persistent_redis_killed_under_the_pipeline_loses_nothing) {
  redis_options opts;
  opts.name = "redis-stream-aof";
  opts.persistence = true; // appendonly, fsync on every write
  redis_server own{opts};
  create_tables();
  auto p = start(streaming(own.connection_config(), 2));
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  std::mt19937 rng{7};
  write_changes(rng, 200);
  own.kill();
  write_changes(rng, 200);
  own.start();
  write_changes(rng, 100);
  ASSERT_TRUE(caught_up(*p));
  EXPECT_GT(p->status().partitions.size(), 0u);
  auto conn = own.connect();
  expect_rebuilt_equal(conn);
}

TEST_F(sync_stream_test, a_redis_that_lost_its_data_stops_the_pipeline_saying_so) {
  create_tables();
  auto p = start(streaming(redis().connection_config()));
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  std::mt19937 rng{3};
  write_changes(rng, 50);
  ASSERT_TRUE(caught_up(*p));
  p->stop();
  redis().flushall();
  auto again = start(streaming(redis().connection_config()));
  ASSERT_TRUE(eventually(
      [&] { return again->status().state == binlog::pipeline_state::failed; }, 30s));
  EXPECT_NE(again->status().error.find("holds none of pipeline st's state"),
            std::string::npos)
      << again->status().error;
}

TEST_F(sync_stream_test, a_source_without_full_row_metadata_is_refused_with_the_fix) {
  auto admin = source().connect();
  run(admin, "SET GLOBAL binlog_row_metadata = 'MINIMAL'");
  auto p = start(streaming(redis().connection_config()));
  ASSERT_TRUE(eventually(
      [&] { return p->status().state == binlog::pipeline_state::failed; }, 30s));
  EXPECT_NE(p->status().error.find("binlog_row_metadata=MINIMAL"), std::string::npos)
      << p->status().error;
  EXPECT_NE(p->status().error.find("SET GLOBAL binlog_row_metadata=FULL"),
            std::string::npos);
}

} // namespace
} // namespace shoal::test

// A pipeline whose target is Redis streams (target_kind::redis_stream), against
// real MariaDB and redis-server: a consumer written here rebuilds every table
// from the streams alone, into another database, and it must equal the source
// through random changes (keys changed too), a DDL, a pipeline stopped and
// started mid-stream, and a Redis killed and restarted under it.
#include <map>
#include <random>
#include <set>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <nlohmann/json.hpp>

#include "tests/integration/binlog/sync_test_support.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/stream_rebuilder.hpp"

using namespace std::chrono_literals;
using nlohmann::json;

namespace shoal::test {
namespace {

const char* const t1_ddl =
    "CREATE TABLE t1 (id INT UNSIGNED PRIMARY KEY, big BIGINT, name VARCHAR(40) "
    "CHARACTER SET utf8mb4, price DECIMAL(12,3), data VARBINARY(64), at DATETIME(3))";
const char* const t2_ddl =
    "CREATE TABLE t2 (a INT, b VARCHAR(10), v BIGINT UNSIGNED, PRIMARY KEY (a, b))";

// librdkafka's mock cluster (test.mock.num.brokers): Kafka brokers in this
// process that speak the protocol on loopback ports. No Kafka broker is
// packaged for Debian, so the Kafka target is tested against this one.
class mock_kafka {
public:
  explicit mock_kafka(int brokers) {
    char err[512];
    auto* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "test.mock.num.brokers", std::to_string(brokers).c_str(), err,
                      sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk_)
      throw std::runtime_error(std::string{"mock cluster: "} + err);
    cluster_ = rd_kafka_handle_mock_cluster(rk_);
  }
  ~mock_kafka() { rd_kafka_destroy(rk_); }
  mock_kafka(const mock_kafka&) = delete;
  mock_kafka& operator=(const mock_kafka&) = delete;

  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  void topic(const std::string& name, int partitions) {
    topics_[name] = partitions;
    if (rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 3))
      throw std::runtime_error("mock topic " + name);
  }
  rd_kafka_mock_cluster_t* cluster() { return cluster_; }

  struct message {
    std::string topic;
    int partition = 0;
    std::string key;
    std::string id;
    std::string value;
  };

  // Every message of `topic` from its start, partition by partition in order.
  std::vector<message> read(const std::string& topic) {
    char err[512];
    auto* conf = rd_kafka_conf_new();
    for (auto [k, v] : {std::pair{"bootstrap.servers", bootstraps()},
                        std::pair{"group.id", std::string{"shoal-test"}},
                        std::pair{"enable.partition.eof", std::string{"true"}},
                        std::pair{"enable.auto.commit", std::string{"false"}}})
      rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err);
    auto* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
      throw std::runtime_error(std::string{"consumer: "} + err);
    rd_kafka_poll_set_consumer(rk);
    int parts = topics_.at(topic);
    auto* list = rd_kafka_topic_partition_list_new(parts);
    for (int i = 0; i < parts; ++i)
      rd_kafka_topic_partition_list_add(list, topic.c_str(), i)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    std::vector<message> out;
    std::set<int> at_end;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (static_cast<int>(at_end.size()) < parts &&
           std::chrono::steady_clock::now() < deadline) {
      auto* m = rd_kafka_consumer_poll(rk, 200);
      if (!m)
        continue;
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        at_end.insert(m->partition);
      } else if (!m->err) {
        message got{topic, m->partition,
                    std::string(static_cast<const char*>(m->key), m->key_len), "",
                    std::string(static_cast<const char*>(m->payload), m->len)};
        rd_kafka_headers_t* headers = nullptr;
        const void* id = nullptr;
        size_t size = 0;
        if (!rd_kafka_message_headers(m, &headers) &&
            !rd_kafka_header_get_last(headers, "id", &id, &size))
          got.id.assign(static_cast<const char*>(id), size);
        out.push_back(std::move(got));
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (static_cast<int>(at_end.size()) < parts)
      throw std::runtime_error("did not reach the end of " + topic + " in 30 s");
    return out;
  }

private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::map<std::string, int> topics_;
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
    stream_rebuilder r{dst, "rebuilt"};
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

TEST_F(sync_stream_test, the_partition_count_changes_where_every_partition_agrees) {
  create_tables();
  auto p = start(streaming(redis().connection_config(), 3));
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  std::mt19937 rng{5};
  write_changes(rng, 150);
  ASSERT_TRUE(caught_up(*p));
  // An idle source moves every partition to its last event.
  ASSERT_TRUE(eventually(
      [&] {
        auto parts = p->status().partitions;
        for (auto& part : parts)
          if (part.applied < parts[0].applied || parts[0].applied < part.applied)
            return false;
        return true;
      },
      30s));
  p->stop();
  auto fewer = start(streaming(redis().connection_config(), 2));
  ASSERT_EQ(fewer->status().state, binlog::pipeline_state::running)
      << fewer->status().error;
  write_changes(rng, 150);
  ASSERT_TRUE(caught_up(*fewer));
  auto conn = redis().connect();
  expect_rebuilt_equal(conn);
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

// Redis answers BUSY while another client's script runs long (and LOADING
// while a restarted server reads its data): the script did not run, so the
// batch waits and goes again.
TEST_F(sync_stream_test, a_busy_redis_delays_the_stream_and_loses_nothing) {
  create_tables();
  auto admin = redis().connect();
  ASSERT_TRUE(admin.command({"CONFIG", "SET", "busy-reply-threshold", "50"}));
  struct restore {
    redis_connection& conn;
    ~restore() { conn.command({"CONFIG", "SET", "busy-reply-threshold", "5000"}); }
  } restore_threshold{admin};
  auto p = start(streaming(redis().connection_config()));
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  std::mt19937 rng{9};
  std::thread busy{[&] {
    auto conn = redis().connect();
    // Spins 1.5 s by the server's clock.
    conn.command(
        {"EVAL",
         "local t = redis.call('TIME') local s = t[1] * 1000000 + t[2] "
         "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - s > 1500000 "
         "return 1",
         "0"});
  }};
  write_changes(rng, 200);
  busy.join();
  ASSERT_TRUE(caught_up(*p));
  auto conn = redis().connect();
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

TEST_F(sync_stream_test, a_ddl_adding_a_uuid_column_stops_the_stream_before_its_rows) {
  create_tables();
  auto p = start(streaming(redis().connection_config()));
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  auto src = source().connect("sdb");
  run(src, "ALTER TABLE t2 ADD COLUMN u UUID");
  run(src, "INSERT INTO t2 VALUES (1, 'b', 2, UUID())");
  ASSERT_TRUE(eventually(
      [&] { return p->status().state == binlog::pipeline_state::failed; }, 30s));
  EXPECT_NE(p->status().error.find("sdb.t2.u is of type uuid"), std::string::npos)
      << p->status().error;
  auto conn = redis().connect();
  auto sent = conn.command({"XLEN", "shoal:st:sdb.t2"});
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->integer, 0) << "a row with the UUID column was sent";
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

TEST_F(sync_stream_test,
       kafka_topics_rebuild_every_table_through_broker_errors_and_a_restart) {
  mock_kafka kafka{3};
  kafka.topic("st.sdb.t1", 3);
  kafka.topic("st.sdb.t2", 3);
  kafka.topic("st", 1);
  create_tables();
  auto s = streaming({});
  s.kind = binlog::target_kind::kafka;
  s.stream.kafka_brokers = kafka.bootstraps();
  s.stream.stream_key = "{pipeline}.{db}.{table}";
  s.stream.schema_stream = "{pipeline}";
  auto p = start(s);
  ASSERT_EQ(p->status().state, binlog::pipeline_state::running) << p->status().error;
  std::mt19937 rng{11};
  write_changes(rng, 150);
  // Produce requests fail with retriable errors, and a broker goes down for a
  // while: the idempotent producer sends again, in order, without duplicates.
  rd_kafka_mock_push_request_errors(
      kafka.cluster(), 0 /* Produce */, 4, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  write_changes(rng, 150);
  rd_kafka_mock_broker_set_down(kafka.cluster(), 2);
  write_changes(rng, 100);
  rd_kafka_mock_broker_set_up(kafka.cluster(), 2);
  ASSERT_TRUE(caught_up(*p));
  // Stopped and started again: it resumes from its checkpoints on the state
  // server, and what was delivered but not checkpointed comes again (same id).
  p->stop();
  write_changes(rng, 100);
  auto again = start(s);
  ASSERT_EQ(again->status().state, binlog::pipeline_state::running)
      << again->status().error;
  ASSERT_TRUE(caught_up(*again));

  auto dst = target().connect();
  stream_rebuilder r{dst, "rebuilt"};
  std::map<std::string, std::set<int>> partitions_of_key;
  for (auto [topic, table] :
       {std::pair{"st.sdb.t1", "t1"}, std::pair{"st.sdb.t2", "t2"}}) {
    std::set<std::string> binary;
    if (std::string{table} == "t1")
      binary.insert("data");
    for (auto& m : kafka.read(topic)) {
      partitions_of_key[m.key].insert(m.partition);
      EXPECT_EQ(m.key.rfind(std::string{"sdb."} + table + ":{", 0), 0u) << m.key;
      r.take(topic, m.id, m.value, table, binary);
    }
  }
  EXPECT_GT(r.events(), 100u);
  for (auto& [key, parts] : partitions_of_key)
    EXPECT_EQ(parts.size(), 1u) << key << ": one key's messages in several partitions";
  auto src = source().connect();
  for (auto t : {"t1", "t2"})
    EXPECT_EQ(rows_of(dst, std::string{"rebuilt."} + t),
              rows_of(src, std::string{"sdb."} + t))
        << t << ": rebuilt from the topic differs from the source";

  // A DDL goes to the schema topic.
  run(src, "ALTER TABLE sdb.t2 ADD COLUMN note VARCHAR(5)");
  ASSERT_TRUE(caught_up(*again));
  auto schema = kafka.read("st");
  ASSERT_EQ(schema.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(schema[0].value).at("op"), "ddl");
}

} // namespace
} // namespace shoal::test

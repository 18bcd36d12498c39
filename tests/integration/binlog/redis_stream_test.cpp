// A partition's change events appended to Redis streams with its checkpoint in
// one script (redis_stream.hpp), against a real redis-server.
#include "actors/binlog/sync/redis_stream.hpp"

#include <gtest/gtest.h>

#include "tests/support/redis_server.hpp"
#include "tests/support/shared_servers.hpp"

namespace shoal::test {
namespace {

using binlog::append_outcome;
using binlog::change_key;
using binlog::redis_stream_writer;
using binlog::stream_entry;

class redis_stream_test : public server_test {
protected:
  void SetUp() override { redis().flushall(); }

  // The (id, event) of every entry of `stream`, in stream order.
  std::vector<std::pair<std::string, std::string>> entries(redis_connection& conn,
                                                           const std::string& stream) {
    auto r = conn.command({"XRANGE", stream, "-", "+"});
    EXPECT_TRUE(r) << r.error().to_string();
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& e : r->elements) {
      auto& fields = e.elements.at(1).elements;
      out.emplace_back(fields.at(1).str, fields.at(3).str);
    }
    return out;
  }
};

TEST(redis_stream_keys, sort_as_change_keys_do) {
  std::vector<change_key> keys = {
      {{"binlog.000002", 4}, 0},     {{"binlog.000002", 4}, 1},
      {{"binlog.000002", 4}, 12},    {{"binlog.000002", 900}, 0},
      {{"binlog.000002", 10000}, 3}, {{"binlog.000010", 4}, 0},
      {{"binlog.100000", 4}, 0},
  };
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    ASSERT_TRUE(keys[i] < keys[i + 1]);
    EXPECT_LT(binlog::sortable_key(keys[i]), binlog::sortable_key(keys[i + 1]))
        << keys[i].to_string() << " " << keys[i + 1].to_string();
  }
}

TEST_F(redis_stream_test, a_batch_and_its_checkpoint_land_together_and_once) {
  auto conn = redis().connect();
  redis_stream_writer w{"p:{s}:checkpoint", 0};
  change_key end{{"binlog.000001", 500}, 2};
  std::vector<stream_entry> batch = {{"p:{s}:a", "binlog.000001:400:1", R"({"n":1})"},
                                     {"p:{s}:b", "binlog.000001:400:2", R"({"n":2})"},
                                     {"p:{s}:a", "binlog.000001:500:1", R"({"n":3})"}};
  auto r = w.append(conn, "0", 1, end, batch);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, append_outcome::appended);
  using pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(entries(conn, "p:{s}:a"), (pairs{{"binlog.000001:400:1", R"({"n":1})"},
                                             {"binlog.000001:500:1", R"({"n":3})"}}));
  EXPECT_EQ(entries(conn, "p:{s}:b"), (pairs{{"binlog.000001:400:2", R"({"n":2})"}}));
  auto at = w.checkpoint(conn, "0");
  ASSERT_TRUE(at);
  EXPECT_EQ(*at, binlog::sortable_key(end));
  EXPECT_FALSE(*w.checkpoint(conn, "1"));

  // The reply was lost and the batch is sent again: nothing is added twice.
  r = w.append(conn, "0", 1, end, batch);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, append_outcome::already_there);
  EXPECT_EQ(entries(conn, "p:{s}:a").size(), 2u);

  // A writer of a newer epoch took over and wrote; the old one is fenced and
  // adds nothing, whatever its batch.
  change_key later{{"binlog.000001", 900}, 1};
  r = w.append(conn, "1", 2, later, {{"p:{s}:b", "binlog.000001:900:1", "{}"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, append_outcome::appended);
  r = w.append(conn, "0", 1, {{"binlog.000002", 4}, 1},
               {{"p:{s}:a", "binlog.000002:4:1", "{}"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, append_outcome::fenced);
  EXPECT_EQ(entries(conn, "p:{s}:a").size(), 2u);
}

TEST_F(redis_stream_test, streams_are_trimmed_and_server_errors_are_reported) {
  auto conn = redis().connect();
  redis_stream_writer w{"t:{s}:checkpoint", 10};
  for (uint64_t i = 1; i <= 30; ++i) {
    std::vector<stream_entry> batch;
    for (int k = 0; k < 10; ++k)
      batch.push_back({"t:{s}:t", std::to_string(i) + ":" + std::to_string(k), "{}"});
    auto r = w.append(conn, "0", 1, {{"binlog.000001", i * 100}, 10}, batch);
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_EQ(*r, append_outcome::appended);
  }
  // MAXLEN ~ trims whole nodes of the stream: about 10 entries, never all 300.
  auto len = conn.command({"XLEN", "t:{s}:t"});
  ASSERT_TRUE(len);
  EXPECT_LT(len->integer, 300);
  EXPECT_GE(len->integer, 10);
  // The newest entry is the last one appended.
  auto last = conn.command({"XREVRANGE", "t:{s}:t", "+", "-", "COUNT", "1"});
  ASSERT_TRUE(last);
  EXPECT_EQ(last->elements.at(0).elements.at(1).elements.at(1).str, "30:9");

  // A stream key that holds a string: the server's error, not a silent skip, and
  // no checkpoint.
  ASSERT_TRUE(conn.command({"SET", "t:{s}:wrong", "x"}));
  auto r = w.append(conn, "5", 1, {{"binlog.000009", 4}, 2},
                    {{"t:{s}:fresh", "y", "{}"}, {"t:{s}:wrong", "x", "{}"}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("WRONGTYPE"), std::string::npos) << r.error().message;
  EXPECT_FALSE(*w.checkpoint(conn, "5"));
  // Nothing of the batch was written, not even the entry before the bad key.
  EXPECT_TRUE(entries(conn, "t:{s}:fresh").empty());
}

TEST_F(redis_stream_test, what_was_appended_survives_kill_9_of_a_persistent_redis) {
  redis_options opts;
  opts.name = "redis-aof";
  opts.persistence = true; // appendonly, fsync on every write
  redis_server own{opts};
  auto conn = own.connect();
  redis_stream_writer w{"r:{s}:checkpoint", 0};
  ASSERT_TRUE(w.append(conn, "0", 1, {{"binlog.000003", 77}, 1},
                       {{"r:{s}:t", "binlog.000003:77:1", "{}"}}));
  ASSERT_TRUE(w.append(conn, "0", 1, {{"binlog.000003", 90}, 1},
                       {{"r:{s}:t", "binlog.000003:90:1", "{}"}}));
  own.kill();
  own.start();
  auto again = own.connect();
  EXPECT_EQ(entries(again, "r:{s}:t").size(), 2u);
  auto at = w.checkpoint(again, "0");
  ASSERT_TRUE(at);
  EXPECT_EQ(*at, binlog::sortable_key({{"binlog.000003", 90}, 1}));
}

} // namespace
} // namespace shoal::test

#include "actors/hotkey/actors/peer_book.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>

namespace shoal::hotkey {
namespace {

class peer_book_test : public ::testing::Test {
protected:
  caf::actor make() {
    // An argument, because CAF 0.17 dereferences an empty shared_ptr when it
    // spawns a function without arguments (UBSan reports it).
    return sys_.spawn(
        [](int offset) -> caf::behavior {
          return {[offset](int x) { return x + offset; }};
        },
        0);
  }

  caf::actor_system_config cfg_;
  caf::actor_system sys_{cfg_};
};

using names = std::vector<std::string>;

TEST_F(peer_book_test, caches_and_shards_are_tracked_per_node) {
  peer_book book;
  auto c1 = make(), c2 = make(), s2 = make();
  book.set_cache("n2", c2);
  book.set_cache("n1", c1);
  book.set_shard("n2", s2);
  EXPECT_EQ(book.cache_nodes(), (names{"n1", "n2"}));
  EXPECT_EQ(book.shard_nodes(), (names{"n2"}));
  EXPECT_EQ(book.shard_of("n2"), s2);
  EXPECT_FALSE(book.shard_of("n1")) << "n1 runs no shard";
  EXPECT_FALSE(book.shard_of("n9"));
  auto caches = book.caches();
  ASSERT_EQ(caches.size(), 2u);
  EXPECT_EQ(caches[0], c1) << "sorted by node name";
  EXPECT_EQ(caches[1], c2);
  for (auto& a : {c1, c2, s2})
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_F(peer_book_test, a_null_handle_clears_and_erase_forgets_the_node) {
  peer_book book;
  auto c = make(), s = make();
  book.set_cache("n1", c);
  book.set_shard("n1", s);
  book.set_shard("n1", caf::actor{});
  EXPECT_TRUE(book.shard_nodes().empty());
  EXPECT_EQ(book.cache_nodes(), (names{"n1"})) << "the cache stays";
  book.set_cache("n1", caf::actor{});
  EXPECT_TRUE(book.cache_nodes().empty());
  EXPECT_TRUE(book.caches().empty());
  book.set_shard("n1", caf::actor{}); // clearing an unknown node adds nothing
  EXPECT_TRUE(book.shard_nodes().empty());
  book.set_cache("n2", c);
  book.set_shard("n2", s);
  book.erase("n2");
  EXPECT_TRUE(book.cache_nodes().empty());
  EXPECT_TRUE(book.shard_nodes().empty());
  EXPECT_FALSE(book.shard_of("n2"));
  book.erase("never-seen");
  for (auto& a : {c, s})
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_F(peer_book_test, replacing_a_handle_keeps_one_entry) {
  peer_book book;
  auto old_shard = make(), new_shard = make();
  book.set_shard("n3", old_shard);
  book.set_shard("n3", new_shard);
  EXPECT_EQ(book.shard_nodes(), (names{"n3"}));
  EXPECT_EQ(book.shard_of("n3"), new_shard);
  for (auto& a : {old_shard, new_shard})
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

} // namespace
} // namespace shoal::hotkey

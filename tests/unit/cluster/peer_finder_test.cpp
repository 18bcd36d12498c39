// The peer finder against directories played by test actors in one process: it
// keeps looking until the name is registered, reports an actor that dies as lost
// and finds its successor, and treats a new incarnation of a peer as a restart.

#include "actors/cluster/peer_finder.hpp"

#include <chrono>
#include <optional>

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include "messages/registry.hpp"

namespace shoal {
namespace {

using namespace std::chrono;

using register_atom = caf::atom_constant<caf::atom("test_reg")>;
using count_atom = caf::atom_constant<caf::atom("test_count")>;

struct peer_directory_state {
  std::map<std::string, caf::actor> names;
  int lookups = 0;
  std::string node;
};

// CAF 0.17.6 dereferences a null argument tuple when it starts a function actor
// spawned with no arguments (UBSan: reference binding to null pointer), so every
// test actor here takes one: the node it stands for.

/// A peer's directory: answers lookups of the names registered with it.
caf::behavior peer_directory(caf::stateful_actor<peer_directory_state>* self,
                             std::string node) {
  self->state.node = std::move(node);
  return {
      [self](register_atom, const std::string& name, caf::actor& a) {
        self->state.names[name] = a;
      },
      [self](count_atom) { return self->state.lookups; },
      [self](msg::lookup& q) -> caf::result<caf::actor> {
        ++self->state.lookups;
        auto i = self->state.names.find(q.name);
        if (i == self->state.names.end() || !i->second)
          return caf::make_error(caf::sec::remote_lookup_failed, q.name);
        return i->second;
      },
  };
}

struct local_state {
  msg::membership view;
  caf::actor subscriber;
};

/// This node's directory: a fixed view, and whatever member_changed the test pushes.
directory_actor::behavior_type
local_directory(directory_actor::stateful_pointer<local_state> self,
                msg::membership view) {
  self->state.view = std::move(view);
  return {
      [self](msg::hello& h) -> msg::hello { return h; },
      [self](atoms::members) -> msg::membership { return self->state.view; },
      [self](atoms::subscribe, caf::actor& who) -> msg::membership {
        self->state.subscriber = who;
        return self->state.view;
      },
      [self](atoms::register_name, const std::string&, caf::actor&) {},
      [self](msg::lookup&) -> caf::result<caf::actor> {
        return caf::make_error(caf::sec::remote_lookup_failed);
      },
      // The test drives membership changes through this timer message.
      [self](atoms::reconnect, const std::string&) {},
  };
}

/// Forwards what the finder reports to the test's scoped actor.
peer_listener::behavior_type forwarder(peer_listener::pointer, caf::actor sink) {
  return {
      [sink](msg::peer_found& f) { caf::anon_send(sink, f); },
      [sink](msg::peer_lost& l) { caf::anon_send(sink, l); },
  };
}

/// A service registered on a peer; answers its node's name.
caf::behavior service(std::string node) {
  return {[node](int) { return node; }};
}

class test_config : public caf::actor_system_config {
public:
  test_config() { register_messages(*this); }
};

class peer_finder_test : public ::testing::Test {
protected:
  test_config cfg_;
  caf::actor_system sys_{cfg_};
  caf::scoped_actor self_{sys_};

  std::optional<msg::peer_found> next_found() {
    std::optional<msg::peer_found> r;
    self_->receive([&](msg::peer_found& f) { r = f; },
                   [&](msg::peer_lost& l) { ADD_FAILURE() << "lost " << l.node; },
                   caf::after(seconds{10}) >> [] {});
    return r;
  }
  std::optional<msg::peer_lost> next_lost() {
    std::optional<msg::peer_lost> r;
    self_->receive([&](msg::peer_lost& l) { r = l; },
                   [&](msg::peer_found& f) { ADD_FAILURE() << "found " << f.node; },
                   caf::after(seconds{10}) >> [] {});
    return r;
  }
};

TEST_F(peer_finder_test, finds_retries_notices_deaths_and_restarts) {
  auto n2_dir = sys_.spawn(peer_directory, std::string{"n2"});
  msg::membership view{"n1",
                       {msg::member{"n1", true, 7, 0, {}},
                        msg::member{"n2", true, 1, 0, n2_dir},
                        msg::member{"n3", false, 0, 0, {}}}};
  auto local = sys_.spawn(local_directory, view);
  auto listener = sys_.spawn(forwarder, caf::actor_cast<caf::actor>(self_));
  auto finder = spawn_peer_finder(sys_, local, "svc", {}, listener);

  // Not registered yet: the finder keeps asking until it is.
  auto deadline = steady_clock::now() + seconds{10};
  int lookups = 0;
  while (lookups < 3 && steady_clock::now() < deadline)
    self_->request(n2_dir, seconds{1}, count_atom::value)
        .receive([&](int n) { lookups = n; }, [](caf::error&) {});
  ASSERT_GE(lookups, 3) << "the finder did not retry its lookup";
  auto first = sys_.spawn(service, std::string{"n2"});
  self_->send(n2_dir, register_atom::value, std::string{"svc"}, first);
  auto found = next_found();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->node, "n2");
  EXPECT_EQ(found->incarnation, 1u);
  EXPECT_EQ(found->name, "svc");
  EXPECT_EQ(found->actor, first);

  // The actor dies while its node stays up: lost, then its successor is found.
  auto second = sys_.spawn(service, std::string{"n2"});
  self_->send(n2_dir, register_atom::value, std::string{"svc"}, second);
  self_->send_exit(first, caf::exit_reason::user_shutdown);
  auto lost = next_lost();
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->node, "n2");
  found = next_found();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->actor, second);

  // The peer restarted (new incarnation): lost and found again, with the new one.
  self_->send(finder, msg::member_changed{msg::member{"n2", true, 2, 0, n2_dir}});
  lost = next_lost();
  ASSERT_TRUE(lost);
  found = next_found();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->incarnation, 2u);

  // The same incarnation again changes nothing; the peer going down loses it.
  self_->send(finder, msg::member_changed{msg::member{"n2", true, 2, 0, n2_dir}});
  self_->send(finder, msg::member_changed{msg::member{"n2", false, 2, 0, {}}});
  lost = next_lost();
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->node, "n2");

  for (auto& a :
       {caf::actor_cast<caf::actor>(finder), caf::actor_cast<caf::actor>(listener),
        caf::actor_cast<caf::actor>(local), n2_dir, second})
    self_->send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_F(peer_finder_test, looks_only_at_the_nodes_it_is_given) {
  auto n2_dir = sys_.spawn(peer_directory, std::string{"n2"});
  auto n3_dir = sys_.spawn(peer_directory, std::string{"n3"});
  auto a2 = sys_.spawn(service, std::string{"n2"});
  auto a3 = sys_.spawn(service, std::string{"n3"});
  self_->send(n2_dir, register_atom::value, std::string{"svc"}, a2);
  self_->send(n3_dir, register_atom::value, std::string{"svc"}, a3);
  msg::membership view{
      "n1",
      {msg::member{"n2", true, 1, 0, n2_dir}, msg::member{"n3", true, 1, 0, n3_dir}}};
  auto local = sys_.spawn(local_directory, view);
  auto listener = sys_.spawn(forwarder, caf::actor_cast<caf::actor>(self_));
  auto finder = spawn_peer_finder(sys_, local, "svc", {"n3"}, listener);
  auto found = next_found();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->node, "n3");
  bool more = false;
  self_->receive([&](msg::peer_found&) { more = true; },
                 [&](msg::peer_lost&) { more = true; },
                 caf::after(milliseconds{300}) >> [] {});
  EXPECT_FALSE(more);
  // The finder stops with its listener.
  self_->monitor(finder);
  self_->send_exit(listener, caf::exit_reason::user_shutdown);
  bool down = false;
  self_->receive([&](caf::down_msg&) { down = true; }, caf::after(seconds{10}) >> [] {});
  EXPECT_TRUE(down);
  for (auto& a : {caf::actor_cast<caf::actor>(local), n2_dir, n3_dir, a2, a3})
    self_->send_exit(a, caf::exit_reason::user_shutdown);
}

} // namespace
} // namespace shoal

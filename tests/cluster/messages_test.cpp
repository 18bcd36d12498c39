// Every registered message type, sent to another process and rendered there,
// must arrive exactly as it left. A type registered without a sample here fails
// the test, so a new message cannot skip this check.

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <regex>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <gtest/gtest.h>

#include "messages/cluster.hpp"
#include "messages/hotkey.hpp"
#include "messages/registry.hpp"
#include "messages/token.hpp"
#include "tests/support/child_process.hpp"

namespace shoal {
namespace {

using namespace std::chrono;

class test_config : public caf::actor_system_config {
public:
  test_config() {
    register_messages(*this);
    load<caf::io::middleman>();
  }
};

/// One sample value per registered type, keyed by its registered name.
std::map<std::string, std::function<caf::message(caf::actor)>> samples() {
  std::map<std::string, std::function<caf::message(caf::actor)>> s;
  auto add = [&](auto make) {
    using type = std::decay_t<decltype(make(caf::actor{}))>;
    s[caf::type_name<type>::value] = [make](caf::actor a) {
      return caf::make_message(make(a));
    };
  };
  msg::member m{"n2", true, 0xfeedface12345678ULL, 1795687057401, {}};
  add([](caf::actor a) { return msg::hello{"n1 ✓ ünïcode", a, UINT64_MAX}; });
  add([m](caf::actor) { return m; });
  add([m](caf::actor) {
    return msg::membership{"n1", {m, msg::member{"n3", false, 0, -1, {}}}};
  });
  add([m](caf::actor) { return msg::member_changed{m}; });
  add([](caf::actor) { return msg::lookup{std::string{"token_cache\0x", 13}}; });
  add([m](caf::actor) { return std::vector<msg::member>{m, m}; });
  add([m](caf::actor a) {
    auto with_directory = m;
    with_directory.directory = a;
    return msg::member_changed{with_directory};
  });
  add([](caf::actor a) { return msg::peer_found{"n2", UINT64_MAX, "hotkey.cache", a}; });
  add([](caf::actor) { return msg::peer_lost{"n2", std::string{"token\0cache", 12}}; });
  msg::hot_entry he{std::string{"sku:\0\xff", 6}, UINT64_MAX, INT64_MAX, -1, true};
  add([](caf::actor) {
    return msg::key_counts{"n1", INT64_MIN, {"sku:1", "", "ключ"}, {1, 0, UINT64_MAX}};
  });
  add([he](caf::actor) { return he; });
  add([he](caf::actor) { return msg::hot_keys{"n2", {he, msg::hot_entry{}}}; });
  add([](caf::actor) { return msg::cooled_keys{"n3", {"a", std::string{"b\0c", 3}}}; });
  add([](caf::actor) { return msg::manual_hot{"sku:42", false, INT64_MAX, INT64_MIN}; });
  add([](caf::actor) { return msg::invalidate_keys{{"sku:42", "sku:43"}}; });
  add([](caf::actor) {
    return msg::invalidate_matching{{{"sku:", ""}, {std::string{"a\0", 2}}, {}}};
  });
  add([](caf::actor) {
    return msg::hotkey_rules{UINT64_MAX, R"([{"key":"*","threshold":3}])"};
  });
  msg::token_update tu{
      "wx", std::string{"tok\0\xff", 5}, 1795687057401, INT64_MAX, UINT64_MAX, "n2", {}};
  add([tu](caf::actor a) {
    auto u = tu;
    u.keeper = a;
    return u;
  });
  add([](caf::actor a) {
    return msg::hotkey_peers{{{"n1", a}, {"n2", caf::actor{}}}, {{"n1", a}}};
  });
  add([](caf::actor) { return msg::token_rejected{"wx", "tok-1", "n1"}; });
  add([](caf::actor) { return msg::token_wanted{"wx", "n3"}; });
  add([](caf::actor) {
    return msg::token_fetch_result{false, "", -1, INT64_MIN, 7, 45009, "quota ✓"};
  });
  add([tu](caf::actor) { return std::vector<msg::token_update>{tu, tu}; });
  return s;
}

TEST(messages, every_registered_type_crosses_a_process_boundary_intact) {
  auto dir = std::getenv("SHOAL_BINARY_DIR");
  ASSERT_NE(dir, nullptr);
  test::process_options opts;
  opts.program = std::string{dir} + "/tests/cluster/message_echo";
  opts.name = "message_echo";
  test::child_process echo{opts};
  auto port = echo.wait_for_match(std::regex{"port=(\\d+)"}, seconds{10});
  ASSERT_TRUE(port) << echo.output_tail();

  test_config cfg;
  caf::actor_system sys{cfg};
  auto remote = caf::io::remote_actor(sys, "127.0.0.1",
                                      static_cast<uint16_t>(std::stoi(port->at(1))));
  ASSERT_TRUE(remote) << sys.render(remote.error());

  auto all = samples();
  auto names = registered_message_types();
  ASSERT_FALSE(names.empty());
  caf::scoped_actor self{sys};
  for (auto& name : names) {
    auto i = all.find(name);
    ASSERT_NE(i, all.end()) << "no sample for registered type " << name;
    auto sent = i->second(caf::actor_cast<caf::actor>(self));
    auto expected = caf::deep_to_string(sent);
    std::string received;
    self->request(*remote, seconds{5}, sent)
        .receive([&](std::string& rendering) { received = rendering; },
                 [&](caf::error& err) { received = "error: " + sys.render(err); });
    EXPECT_EQ(received, expected) << name;
  }
  EXPECT_EQ(all.size(), names.size()) << "samples for types that are not registered";
  caf::anon_send_exit(*remote, caf::exit_reason::user_shutdown);
}

} // namespace
} // namespace shoal

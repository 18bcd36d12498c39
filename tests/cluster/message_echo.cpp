// A process that answers every message with its rendering (deep_to_string), so
// a test in another process can check that each message type crosses a process
// boundary intact. Prints "port=N" once it is published; exits on stdin EOF or
// SIGTERM.

#include <csignal>
#include <iostream>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "messages/registry.hpp"

namespace {

// A class, not a function-based actor: CAF 0.17's spawn of a function without
// arguments dereferences an empty shared_ptr (UBSan reports it).
class echo : public caf::event_based_actor {
public:
  explicit echo(caf::actor_config& cfg) : caf::event_based_actor(cfg) {
    set_default_handler(
        [](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
          return caf::make_message(caf::deep_to_string(x.copy_content_to_message()));
        });
  }

  caf::behavior make_behavior() override {
    return {[](caf::atom_value) {}};
  }
};

class echo_config : public caf::actor_system_config {
public:
  echo_config() {
    shoal::register_messages(*this);
    load<caf::io::middleman>();
  }
};

} // namespace

int main() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  echo_config cfg;
  caf::actor_system sys{cfg};
  auto a = sys.spawn<echo>();
  auto port = caf::io::publish(a, 0, "127.0.0.1");
  if (!port) {
    std::cerr << "publish failed: " << sys.render(port.error()) << std::endl;
    return 1;
  }
  std::cout << "port=" << *port << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return 0;
}

#include "runtime/directory.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <random>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "messages/cluster.hpp"
#include "runtime/base/backoff.hpp"
#include "runtime/logging.hpp"

namespace shoal {

namespace {

using namespace std::chrono;

int64_t now_ms() {
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

struct peer_state {
  peer_config cfg;
  bool up = false;
  /// Set while a connect or hello is in flight; at most one per peer.
  bool connecting = false;
  caf::actor directory;
  uint64_t incarnation = 0;
  int64_t since_ms = 0;
  /// Between connection attempts while the peer is unreachable (reset when up).
  backoff retry{milliseconds{100}, milliseconds{2000}};
};

struct directory_state {
  config cfg;
  bool tls = false;
  uint64_t incarnation = 0;
  std::map<std::string, peer_state> peers;
  std::map<std::string, caf::actor> names;
  std::vector<caf::actor> subscribers;
  std::mt19937_64 rng{std::random_device{}()};
  static inline const char* name = "shoal.directory";
};

using directory_self = directory_actor::stateful_pointer<directory_state>;

msg::member to_member(const peer_state& p) {
  return msg::member{p.cfg.name, p.up, p.incarnation, p.since_ms, p.directory};
}

msg::membership view(directory_self self) {
  auto& st = self->state;
  msg::membership m;
  m.self = st.cfg.node.name;
  m.members.push_back(msg::member{st.cfg.node.name, true, st.incarnation, 0, {}});
  for (auto& [_, p] : st.peers)
    m.members.push_back(to_member(p));
  return m;
}

void notify(directory_self self, const peer_state& p) {
  for (auto& s : self->state.subscribers)
    caf::anon_send(s, msg::member_changed{to_member(p)});
}

void schedule_connect(directory_self self, peer_state& p) {
  self->delayed_send(self, p.retry.next(), atoms::reconnect::value, p.cfg.name);
}

void mark_up(directory_self self, peer_state& p, const msg::hello& h) {
  if (p.up && p.directory == h.directory)
    return;
  if (p.up && p.directory)
    self->demonitor(p.directory);
  bool was_up = p.up;
  p.up = true;
  p.directory = h.directory;
  p.incarnation = h.incarnation;
  p.since_ms = now_ms();
  p.retry.reset();
  self->monitor(p.directory);
  log().info("peer {} is up (incarnation {:x}{})", p.cfg.name, h.incarnation,
             was_up ? ", restarted" : "");
  notify(self, p);
}

void mark_down(directory_self self, peer_state& p, const std::string& why) {
  if (!p.up)
    return;
  p.up = false;
  p.directory = nullptr;
  p.since_ms = now_ms();
  log().warn("peer {} is down: {}", p.cfg.name, why);
  notify(self, p);
  schedule_connect(self, p);
}

void connect(directory_self self, const std::string& name) {
  auto i = self->state.peers.find(name);
  if (i == self->state.peers.end())
    return;
  auto& p = i->second;
  if (p.up || p.connecting)
    return;
  p.connecting = true;
  auto& st = self->state;
  auto timeout = milliseconds{st.cfg.cluster.connection_timeout_ms};
  auto& sys = self->system();
  auto mm =
      st.tls ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
  auto failed = [self, name](const caf::error& err) {
    auto& p = self->state.peers.at(name);
    p.connecting = false;
    if (p.up)
      return;
    log().debug("cannot reach peer {} at {}:{}: {}", name, p.cfg.address.host,
                p.cfg.address.port, self->system().render(err));
    schedule_connect(self, p);
  };
  self->request(mm, timeout, caf::connect_atom::value, p.cfg.address.host,
                p.cfg.address.port)
      .then(
          [self, name, timeout, failed](const caf::node_id&, caf::strong_actor_ptr& ptr,
                                        const std::set<std::string>&) {
            if (!ptr) {
              failed(caf::make_error(caf::sec::no_actor_published_at_port));
              return;
            }
            auto dir = caf::actor_cast<caf::actor>(ptr);
            auto& st = self->state;
            self->request(dir, timeout,
                          msg::hello{st.cfg.node.name, caf::actor_cast<caf::actor>(self),
                                     st.incarnation})
                .then(
                    [self, name](msg::hello& reply) {
                      auto& p = self->state.peers.at(name);
                      p.connecting = false;
                      if (reply.node != name) {
                        log().error(
                            "peer at {}:{} says it is \"{}\", expected \"{}\"; check the "
                            "peers list",
                            p.cfg.address.host, p.cfg.address.port, reply.node, name);
                        schedule_connect(self, p);
                        return;
                      }
                      mark_up(self, p, reply);
                    },
                    failed);
          },
          failed);
}

directory_actor::behavior_type directory(directory_self self, config cfg, bool tls) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.tls = tls;
  st.incarnation = std::uniform_int_distribution<uint64_t>{1, UINT64_MAX}(st.rng);
  auto& cl = st.cfg.cluster;
  for (auto& peer : cl.peers) {
    auto& p = st.peers[peer.name];
    p.cfg = peer;
    p.retry =
        backoff{milliseconds{cl.reconnect_min_ms}, milliseconds{cl.reconnect_max_ms}};
  }
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& [_, p] : st.peers)
      if (p.up && p.directory && p.directory.address() == dm.source)
        mark_down(self, p, self->system().render(dm.reason));
    auto& subs = st.subscribers;
    subs.erase(
        std::remove_if(subs.begin(), subs.end(),
                       [&](const caf::actor& a) { return a.address() == dm.source; }),
        subs.end());
    for (auto i = st.names.begin(); i != st.names.end();)
      i = i->second.address() == dm.source ? st.names.erase(i) : std::next(i);
  });
  for (auto& [name, _] : st.peers)
    self->send(self, atoms::reconnect::value, name);
  return {
      [self](atoms::reconnect, const std::string& name) { connect(self, name); },
      [self](msg::hello& h) -> caf::result<msg::hello> {
        auto& st = self->state;
        auto i = st.peers.find(h.node);
        if (i == st.peers.end()) {
          log().warn("refusing hello from \"{}\": not a peer in this node's config",
                     h.node);
          return caf::make_error(caf::sec::invalid_argument, "unknown node " + h.node);
        }
        if (!h.directory)
          return caf::make_error(caf::sec::invalid_argument, "hello without a directory");
        mark_up(self, i->second, h);
        return msg::hello{st.cfg.node.name, caf::actor_cast<caf::actor>(self),
                          st.incarnation};
      },
      [self](atoms::members) -> msg::membership { return view(self); },
      [self](atoms::subscribe, caf::actor& who) -> msg::membership {
        self->monitor(who);
        self->state.subscribers.push_back(std::move(who));
        return view(self);
      },
      [self](atoms::register_name, std::string& name, caf::actor& who) {
        self->monitor(who);
        self->state.names[name] = std::move(who);
      },
      [self](msg::lookup& q) -> caf::result<caf::actor> {
        auto i = self->state.names.find(q.name);
        if (i == self->state.names.end())
          return caf::make_error(caf::sec::remote_lookup_failed,
                                 "no actor named " + q.name);
        return i->second;
      },
  };
}

} // namespace

directory_actor spawn_directory(caf::actor_system& sys, const config& cfg, bool use_tls) {
  return sys.spawn(directory, cfg, use_tls);
}

} // namespace shoal

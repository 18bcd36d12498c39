#include "runtime/node.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <prometheus/registry.h>

#include "messages/registry.hpp"
#include "runtime/directory.hpp"
#include "runtime/logging.hpp"
#include "runtime/status_server.hpp"

namespace shoal {

namespace {

using namespace std::chrono;

/// CAF's configuration of one node, derived from shoal's config.
class node_system_config : public caf::actor_system_config {
public:
  explicit node_system_config(const config& cfg) {
    register_messages(*this);
    load<caf::io::middleman>();
    if (cfg.tls.enabled()) {
      load<caf::openssl::manager>();
      set("openssl.certificate", cfg.tls.certificate);
      set("openssl.key", cfg.tls.key);
      set("openssl.cafile", cfg.tls.cafile);
      if (auto pass = secret_from_env(cfg.tls.passphrase_env))
        set("openssl.passphrase", *pass);
    }
    auto& cl = cfg.cluster;
    set("middleman.heartbeat-interval", caf::timespan{milliseconds{cl.heartbeat_ms}});
    set("middleman.connection-timeout",
        caf::timespan{milliseconds{cl.connection_timeout_ms}});
    set("middleman.app-identifiers", std::vector<std::string>{cl.app_id});
    // Nodes connect to each other explicitly; do not open side connections.
    set("middleman.enable-automatic-connections", false);
  }
};

} // namespace

/// How often the metrics ticker brings every service's metrics up to date.
constexpr milliseconds metrics_interval{250};

struct node::impl {
  explicit impl(const config& cfg) : sys_cfg(cfg), sys(sys_cfg) {}

  node_system_config sys_cfg;
  caf::actor_system sys;
  directory_actor directory;
  std::shared_ptr<prometheus::Registry> registry =
      std::make_shared<prometheus::Registry>();
  std::unique_ptr<status_server> http;
  /// Started services, in start order; stopped in reverse.
  std::vector<std::unique_ptr<service>> services;
  steady_clock::time_point started = steady_clock::now();
  bool stopped = false;
  /// The node's one metrics ticker: every service's update_metrics() in turn.
  std::thread ticker;
  std::mutex ticker_lock;
  std::condition_variable ticker_cv;
  bool ticker_stop = false;

  void start_ticker() {
    ticker = std::thread{[this] {
      std::unique_lock<std::mutex> guard{ticker_lock};
      while (!ticker_stop) {
        guard.unlock();
        for (auto& s : services)
          s->update_metrics();
        guard.lock();
        ticker_cv.wait_for(guard, metrics_interval, [this] { return ticker_stop; });
      }
    }};
  }

  void stop_ticker() {
    {
      std::lock_guard<std::mutex> guard{ticker_lock};
      ticker_stop = true;
    }
    ticker_cv.notify_all();
    if (ticker.joinable())
      ticker.join();
  }
};

node::node(const config& cfg) : cfg_(cfg), impl_(std::make_unique<impl>(cfg)) {}

std::unique_ptr<node> node::start(const config& cfg, std::string& error) {
  add_secrets_of(cfg);
  std::unique_ptr<node> n;
  try {
    n.reset(new node(cfg));
  } catch (const std::exception& e) {
    error = std::string{"cannot start the actor system: "} + e.what();
    return nullptr;
  }
  auto& d = *n->impl_;
  bool tls = cfg.tls.enabled();
  d.directory = spawn_directory(d.sys, cfg, tls);
  auto& listen = cfg.node.listen;
  auto published =
      tls ? caf::openssl::publish(d.directory, listen.port, listen.host.c_str(), true)
          : caf::io::publish(d.directory, listen.port, listen.host.c_str(), true);
  if (!published) {
    error = "cannot listen on " + listen.host + ":" + std::to_string(listen.port) + ": " +
            d.sys.render(published.error());
    n->stop();
    return nullptr;
  }
  n->port_ = *published;
  for (auto factory : service_factories()) {
    std::string why;
    auto svc = factory(*n, why);
    if (!svc && !why.empty()) {
      error = why;
      n->stop();
      return nullptr;
    }
    if (svc)
      d.services.push_back(std::move(svc));
  }
  d.start_ticker();
  if (cfg.http.enabled) {
    d.http = std::make_unique<status_server>(*n);
    for (auto& svc : d.services) {
      auto* s = svc.get();
      d.http->add_status(s->name(), [s] { return s->status(); });
    }
    if (auto err = d.http->start(cfg.http.listen)) {
      error = *err;
      n->stop();
      return nullptr;
    }
  }
  log().info("node {} listening on {}:{}{}, {}", cfg.node.name, listen.host, n->port_,
             tls ? " (mutual TLS)" : "",
             cfg.http.enabled
                 ? std::string{cfg.http.tls.enabled() ? "https" : "http"} + " on " +
                       cfg.http.listen.host + ":" + std::to_string(n->http_port())
                 : std::string{"http off"});
  return n;
}

node::~node() {
  stop();
}

void node::stop() {
  auto& d = *impl_;
  if (d.stopped)
    return;
  d.stopped = true;
  if (d.http)
    d.http->stop();
  d.stop_ticker();
  for (auto i = d.services.rbegin(); i != d.services.rend(); ++i)
    (*i)->stop();
  if (d.directory)
    caf::anon_send_exit(d.directory, caf::exit_reason::user_shutdown);
  d.directory = nullptr;
}

caf::actor_system& node::system() {
  return impl_->sys;
}

const directory_actor& node::directory() const {
  return impl_->directory;
}

uint16_t node::http_port() const {
  return impl_->http ? impl_->http->port() : 0;
}

msg::membership node::members(milliseconds timeout) {
  msg::membership result;
  result.self = cfg_.node.name;
  if (!impl_->directory)
    return result;
  caf::scoped_actor self{impl_->sys};
  self->request(impl_->directory, timeout, atoms::members::value)
      .receive([&](msg::membership& m) { result = std::move(m); }, [&](caf::error&) {});
  return result;
}

prometheus::Registry& node::metrics() {
  return *impl_->registry;
}

const std::vector<std::unique_ptr<service>>& node::services() const {
  return impl_->services;
}

double node::uptime_seconds() const {
  return duration<double>(steady_clock::now() - impl_->started).count();
}

} // namespace shoal

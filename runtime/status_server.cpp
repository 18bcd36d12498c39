#include "runtime/status_server.hpp"

#include "runtime/http_auth.hpp"

#include <caf/config.hpp>
#include <httplib.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "runtime/node.hpp"
#include "runtime/process_metrics.hpp"
#include "runtime/service.hpp"
#include "runtime/web/web_assets.hpp"

namespace shoal {

namespace {

/// The route of an asset: its path with the regex's special dots escaped.
std::string route_of(std::string_view path) {
  std::string route;
  for (char c : path) {
    if (c == '.')
      route += '\\';
    route += c;
  }
  return route;
}

void serve(const web::asset& a, const httplib::Request& req, httplib::Response& res) {
  res.set_header("Cache-Control", std::string{a.cache_control});
  res.set_header("ETag", std::string{a.etag});
  if (req.get_header_value("If-None-Match") == a.etag) {
    res.status = 304;
    return;
  }
  res.set_content(a.body.data(), a.body.size(), std::string{a.content_type});
}

/// 200 {"status": "ok"} without reasons, else 503 {"status": FAILING, "reasons": [...]}.
void answer_check(httplib::Response& res, const std::vector<std::string>& reasons,
                  const char* failing) {
  nlohmann::json body{{"status", reasons.empty() ? "ok" : failing}};
  if (!reasons.empty())
    body["reasons"] = reasons;
  res.status = reasons.empty() ? 200 : 503;
  res.set_content(body.dump(), "application/json");
}

/// A plain HTTP server, or an HTTPS one when `tls` is enabled. An HTTPS server
/// whose certificate or key could not be loaded is returned as is: start() reports
/// it (httplib::Server::is_valid()).
std::unique_ptr<httplib::Server> make_server(const http_tls_config& tls) {
  if (!tls.enabled())
    return std::make_unique<httplib::Server>();
  auto pass = secret_from_env(tls.passphrase_env);
  return std::make_unique<httplib::SSLServer>(
      tls.certificate.c_str(), tls.key.c_str(),
      tls.client_cafile.empty() ? nullptr : tls.client_cafile.c_str(), nullptr,
      pass ? pass->c_str() : nullptr);
}

} // namespace

status_server::status_server(node& owner)
    : owner_(owner), server_(make_server(owner.cfg().http.tls)) {
  server_->set_payload_max_length(max_request_body);
  server_->Get("/status", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(status().dump(2), "application/json");
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics(), "text/plain; version=0.0.4");
  });
  server_->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    answer_check(res, unhealthy(), "unhealthy");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    answer_check(res, not_ready(), "not_ready");
  });
  for (auto& a : web::assets())
    server_->Get(route_of(a.path), [&a](const httplib::Request& req,
                                        httplib::Response& res) { serve(a, req, res); });
  for (auto& svc : owner_.services())
    svc->add_routes(*server_);
}

status_server::~status_server() {
  stop();
}

std::optional<std::string> status_server::start(const endpoint& listen) {
  if (!server_->is_valid()) {
    auto& tls = owner_.cfg().http.tls;
    return "cannot serve HTTPS on " + listen.host + ":" + std::to_string(listen.port) +
           ": the certificate " + tls.certificate + " or the key " + tls.key +
           (tls.client_cafile.empty() ? "" : " or the client CA " + tls.client_cafile) +
           " could not be loaded (not PEM, not matching, or a wrong passphrase in " +
           (tls.passphrase_env.empty() ? "passphrase_env, which is unset"
                                       : tls.passphrase_env) +
           ")";
  }
  int port =
      listen.port == 0
          ? server_->bind_to_any_port(listen.host.c_str())
          : (server_->bind_to_port(listen.host.c_str(), listen.port) ? listen.port : -1);
  if (port <= 0)
    return "cannot listen for HTTP on " + listen.host + ":" + std::to_string(listen.port);
  port_ = static_cast<uint16_t>(port);
  thread_ = std::thread{[this] { server_->listen_after_bind(); }};
  // httplib's stop() is a no-op until the server runs: wait for it, so that a
  // stop() right after start() cannot leave the listening thread behind.
  while (!server_->is_running())
    std::this_thread::yield();
  return std::nullopt;
}

void status_server::stop() {
  if (!thread_.joinable())
    return;
  server_->stop();
  thread_.join();
}

void status_server::add_status(const std::string& name,
                               std::function<nlohmann::json()> section) {
  std::lock_guard<std::mutex> guard{mutex_};
  sections_[name] = std::move(section);
}

nlohmann::json status_server::status() {
  auto view = owner_.members();
  nlohmann::json peers = nlohmann::json::array();
  for (auto& m : view.members) {
    if (m.node == view.self)
      continue;
    peers.push_back(
        {{"name", m.node}, {"state", m.up ? "up" : "down"}, {"since_ms", m.since_ms}});
  }
  nlohmann::json j{{"node", owner_.cfg().node.name},
                   {"uptime_s", owner_.uptime_seconds()},
                   {"port", owner_.port()},
                   {"tls", owner_.cfg().tls.enabled()},
                   {"peers", peers}};
  std::lock_guard<std::mutex> guard{mutex_};
  for (auto& [name, section] : sections_)
    j[name] = section();
  return j;
}

std::vector<std::string> status_server::unhealthy() {
  std::vector<std::string> reasons;
  for (auto& svc : owner_.services())
    for (auto& r : svc->unhealthy())
      reasons.push_back(r);
  return reasons;
}

std::vector<std::string> status_server::not_ready() {
  std::vector<std::string> reasons;
  for (auto& svc : owner_.services())
    for (auto& r : svc->not_ready())
      reasons.push_back(r);
  // A node with peers serves from the cluster (hot-key shards, the token keeper):
  // it is ready once it reaches at least one of them.
  auto peers = owner_.cfg().cluster.peers.size();
  if (peers > 0) {
    auto view = owner_.members();
    size_t up = 0;
    for (auto& m : view.members)
      if (m.node != view.self && m.up)
        ++up;
    if (up == 0)
      reasons.push_back("cluster: none of the " + std::to_string(peers) +
                        " peers is reachable");
  }
  return reasons;
}

std::string status_server::metrics() {
  // Figures known only at scrape time go into a registry of their own, so that
  // peers that left and label values are handled (and escaped) by prometheus-cpp.
  prometheus::Registry scrape;
  auto& peer_up = prometheus::BuildGauge()
                      .Name("shoal_peer_up")
                      .Help("1 if the peer is reachable, else 0.")
                      .Register(scrape);
  auto view = owner_.members();
  for (auto& m : view.members)
    if (m.node != view.self)
      peer_up.Add({{"peer", m.node}}).Set(m.up ? 1 : 0);
  prometheus::BuildGauge()
      .Name("shoal_build_info")
      .Help("Always 1; the labels name the build.")
      .Register(scrape)
      .Add({{"version", SHOAL_VERSION},
            {"caf_version", std::to_string(CAF_VERSION / 10000) + "." +
                                std::to_string(CAF_VERSION / 100 % 100) + "." +
                                std::to_string(CAF_VERSION % 100)},
            {"node", owner_.cfg().node.name}})
      .Set(1);
  add_process_metrics(scrape);
  prometheus::TextSerializer serializer;
  auto families = scrape.Collect();
  auto rest = owner_.metrics().Collect();
  families.insert(families.end(), rest.begin(), rest.end());
  return serializer.Serialize(families);
}

} // namespace shoal

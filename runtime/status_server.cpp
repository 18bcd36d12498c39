#include "runtime/status_server.hpp"

#include "runtime/http_auth.hpp"

#include <httplib.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "runtime/node.hpp"
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

} // namespace

status_server::status_server(node& owner)
    : owner_(owner), server_(std::make_unique<httplib::Server>()) {
  server_->set_payload_max_length(max_request_body);
  server_->Get("/status", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(status().dump(2), "application/json");
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics(), "text/plain; version=0.0.4");
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

std::string status_server::metrics() {
  auto view = owner_.members();
  std::string out;
  out += "# HELP shoal_uptime_seconds Seconds since the node started.\n";
  out += "# TYPE shoal_uptime_seconds gauge\n";
  out += "shoal_uptime_seconds " + std::to_string(owner_.uptime_seconds()) + "\n";
  out += "# HELP shoal_peer_up 1 if the peer is reachable, else 0.\n";
  out += "# TYPE shoal_peer_up gauge\n";
  for (auto& m : view.members)
    if (m.node != view.self)
      out += "shoal_peer_up{peer=\"" + m.node + "\"} " + (m.up ? "1" : "0") + "\n";
  prometheus::TextSerializer serializer;
  out += serializer.Serialize(owner_.metrics().Collect());
  return out;
}

} // namespace shoal

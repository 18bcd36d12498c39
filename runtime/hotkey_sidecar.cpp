#include "runtime/hotkey_sidecar.hpp"

#include "runtime/cache_loader.hpp"
#include "runtime/connections.hpp"
#include "runtime/hotkey_events.hpp"
#include "runtime/hotkey_service.hpp"
#include "runtime/hotkey_udp.hpp"
#include "runtime/logging.hpp"

namespace shoal {

std::string sidecar_event_json(const std::string& node, uint64_t seq,
                               const hotkey::hot_event& e) {
  nlohmann::json j{
      {"seq", seq}, {"node", node}, {"key", e.key}, {"state", hotkey::to_string(e.kind)}};
  if (e.kind == hotkey::event_kind::hot) {
    j["count"] = e.count;
    j["manual"] = e.manual;
    j["ttl_ms"] = e.ttl_ms;
    j["until_ms"] = e.until_ms;
  }
  // Keys recorded over UDP may hold any bytes: invalid UTF-8 is replaced, not thrown.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

hotkey_sidecar::hotkey_sidecar(hotkey_service& svc,
                               std::shared_ptr<hotkey::node_context> p,
                               const hotkeys_config& cfg, std::string http_secret)
    : svc_(svc), p_(std::move(p)), cfg_(cfg), http_secret_(std::move(http_secret)) {}

hotkey_sidecar::~hotkey_sidecar() {
  stop();
}

std::string hotkey_sidecar::start(const config& cfg) {
  loader_ = cache_loader::from_config(cfg);
  if (cfg_.udp) {
    std::string secret;
    if (!cfg_.udp_secret_env.empty()) {
      auto s = secret_from_env(cfg_.udp_secret_env);
      if (!s)
        return "config error at $.hotkeys.udp.secret_env: environment variable " +
               cfg_.udp_secret_env + " is not set";
      secret = *s;
    }
    auto rec = p_->recorder;
    auto udp = hotkey_udp_listener::open(
        cfg_.udp_listen, std::move(secret),
        [rec](std::string_view key, uint64_t n) { rec->record(key, n); });
    if (!udp)
      return udp.error();
    udp_ = std::move(*udp);
    log().info("hotkeys: udp on {}:{}", cfg_.udp_listen.host, udp_->port());
  }
  if (!cfg_.events_channel.empty())
    publisher_ = std::make_unique<hotkey_events_publisher>(
        p_->node, p_->feed, to_redis_config(*cfg.redis), cfg_.events_channel);
  return {};
}

void hotkey_sidecar::stop() {
  if (stopped_.exchange(true))
    return;
  p_->feed->close();
  if (udp_)
    udp_->stop();
  if (publisher_)
    publisher_->stop();
}

void hotkey_sidecar::invalidated(const std::string& key) {
  if (publisher_)
    publisher_->invalidated(key);
}

uint16_t hotkey_sidecar::udp_port() const {
  return udp_ ? udp_->port() : 0;
}

nlohmann::json hotkey_sidecar::status() const {
  nlohmann::json j{{"http_recorded", http_recorded_.load()},
                   {"http_refused", http_refused_.load()},
                   {"stream_subscribers", subscribers_.load()},
                   {"stream_max_subscribers", cfg_.stream_max_subscribers},
                   {"events", p_->feed->last_seq()},
                   {"loader", loader_ ? loader_->describe() : "off"}};
  if (udp_)
    j["udp"] = {{"listen", cfg_.udp_listen.host + ":" + std::to_string(udp_->port())},
                {"datagrams", udp_->datagrams()},
                {"lines", udp_->lines()},
                {"bad_lines", udp_->bad_lines()},
                {"refused", udp_->refused()}};
  else
    j["udp"] = "off";
  if (publisher_)
    j["events_channel"] = {{"channel", publisher_->channel()},
                           {"published", publisher_->published()},
                           {"failed", publisher_->failed()}};
  else
    j["events_channel"] = "off";
  return j;
}

} // namespace shoal

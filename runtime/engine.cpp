#include "runtime/engine.hpp"

#include "runtime/hotkey_service.hpp"
#include "runtime/logging.hpp"
#include "runtime/node.hpp"
#include "runtime/sync_service.hpp"
#include "runtime/token_service.hpp"

namespace shoal {

engine::engine(std::unique_ptr<node> n)
    : node_(std::move(n)),
      hotkeys_(std::make_unique<hotkeys_client>(node_->service_of<hotkey_service>())),
      cache_(std::make_unique<cache_client>(node_->service_of<hotkey_service>())) {}

engine::~engine() {
  stop();
}

std::unique_ptr<engine> engine::start(const config& cfg, std::string* error) {
  std::string why;
  auto n = node::start(cfg, why);
  if (!n) {
    log().error("engine did not start: {}", why);
    if (error)
      *error = why;
    return nullptr;
  }
  return std::unique_ptr<engine>{new engine(std::move(n))};
}

std::unique_ptr<engine> engine::start_file(const std::string& path, std::string* error) {
  auto cfg = load_config_file(path);
  if (!cfg) {
    if (error) {
      error->clear();
      for (auto& e : cfg.error())
        *error += (error->empty() ? "" : "\n") + e;
    }
    return nullptr;
  }
  return start(*cfg, error);
}

void engine::stop() {
  if (node_)
    node_->stop();
}

const config& engine::cfg() const {
  return node_->cfg();
}

msg::membership engine::members() {
  return node_->members();
}

uint16_t engine::port() const {
  return node_->port();
}

uint16_t engine::http_port() const {
  return node_->http_port();
}

const hotkeys_client& engine::hotkeys() const {
  return *hotkeys_;
}

const cache_client& engine::cache() const {
  return *cache_;
}

std::vector<std::string> engine::reload() {
  std::vector<std::string> errors;
  for (auto& svc : node_->services())
    if (auto why = svc->reload())
      errors.push_back(svc->name() + ": " + *why);
  return errors;
}

const token_client& engine::tokens() const {
  if (auto* s = node_->service_of<token_service>())
    return s->client();
  static const token_client none;
  return none;
}

sync_service* engine::sync() const {
  return node_->service_of<sync_service>();
}

nlohmann::json engine::status() const {
  auto out = nlohmann::json::object();
  for (auto& s : node_->services())
    out[s->name()] = s->status();
  return out;
}

caf::actor_system& engine::system() {
  return node_->system();
}

} // namespace shoal

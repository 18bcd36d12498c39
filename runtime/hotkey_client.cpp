// The hot-key application API: what application threads call on the service
// (record is inline in the header), and the hotkeys_client / cache_client handles
// the engine gives out.

#include <stdexcept>

#include <caf/all.hpp>

#include "actors/hotkey/core/hotkey_clock.hpp"
#include "messages/hotkey.hpp"
#include "runtime/hotkey_service.hpp"
#include "runtime/node.hpp"

namespace shoal {

using namespace std::chrono;

std::vector<hotkey::hot_key_info> hotkey_service::hot_keys() const {
  return p_->view->list(p_->clock->now_ms());
}

bool hotkey_service::is_hot(std::string_view key) const {
  return p_->view->is_hot(key, p_->clock->now_ms());
}

void hotkey_service::add_hot(const std::string& key, int64_t duration_ms) {
  caf::anon_send(recorder_, msg::manual_hot{key, true, duration_ms,
                                            hotkey::hotkey_clock::wall_us()});
}

void hotkey_service::remove_hot(const std::string& key) {
  caf::anon_send(recorder_,
                 msg::manual_hot{key, false, 0, hotkey::hotkey_clock::wall_us()});
}

hotkey::cache_read hotkey_service::get(const std::string& key,
                                       const hotkey::cache_reader::loader& load) {
  return reader_.get(key, load);
}

void hotkey_service::invalidate(const std::string& key) {
  invalidate(std::vector<std::string>{key});
}

void hotkey_service::invalidate(const std::vector<std::string>& keys) {
  if (keys.empty())
    return;
  for (auto& key : keys) {
    p_->view->erase_value(key);
    if (sidecar_)
      sidecar_->invalidated(key);
  }
  if (tracker_)
    caf::anon_send(tracker_, msg::invalidate_keys{keys});
}

void hotkey_service::invalidate_matching(
    const std::vector<std::vector<std::string>>& patterns) {
  if (patterns.empty())
    return;
  std::vector<hotkey::key_pattern> local;
  for (auto& pieces : patterns)
    local.push_back({pieces});
  for (auto& key : p_->view->erase_matching(local))
    if (sidecar_)
      sidecar_->invalidated(key);
  if (tracker_)
    caf::anon_send(tracker_, msg::invalidate_matching{patterns});
}

void hotkey_service::invalidation_gate::keys(const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> guard{mtx};
  if (service)
    service->invalidate(keys);
}

void hotkey_service::invalidation_gate::matching(
    const std::vector<std::vector<std::string>>& patterns) {
  std::lock_guard<std::mutex> guard{mtx};
  if (service)
    service->invalidate_matching(patterns);
}

void hotkey_service::flush() {
  caf::scoped_actor self{node_.system()};
  self->request(recorder_, seconds{10}, atoms::hk_flush::value)
      .receive([](bool) {}, [](caf::error&) {});
}

void hotkey_service::on_detection(detection_listener listener) {
  std::lock_guard<std::mutex> guard{listener_lock_};
  listener_ = std::move(listener);
}

std::vector<hotkey::hot_key_info> hotkeys_client::hot_keys() const {
  return svc_ ? svc_->hot_keys() : std::vector<hotkey::hot_key_info>{};
}

void hotkeys_client::add(const std::string& key, int64_t duration_ms) const {
  if (!svc_)
    throw std::logic_error("this node runs no hot-key service");
  svc_->add_hot(key, duration_ms);
}

void hotkeys_client::remove(const std::string& key) const {
  if (!svc_)
    throw std::logic_error("this node runs no hot-key service");
  svc_->remove_hot(key);
}

hotkey::cache_read cache_client::get(const std::string& key,
                                     const hotkey::cache_reader::loader& load) const {
  if (!svc_)
    throw std::logic_error("this node runs no hot-key service");
  return svc_->get(key, load);
}

void cache_client::invalidate(const std::string& key) const {
  if (!svc_)
    throw std::logic_error("this node runs no hot-key service");
  svc_->invalidate(key);
}

} // namespace shoal

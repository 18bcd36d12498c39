#include "runtime/cache_loader.hpp"

#include <stdexcept>

#include "actors/hotkey/actors/cache_reader.hpp"
#include "runtime/adapters/http_client.hpp"
#include "runtime/adapters/redis_connection.hpp"
#include "runtime/base/url_encode.hpp"
#include "runtime/connections.hpp"

namespace shoal {

namespace {

/// Puts a pooled connection back on every way out of a load.
template <class T> class lease {
public:
  lease(std::mutex& lock, std::vector<std::unique_ptr<T>>& idle,
        std::unique_ptr<T> (*open)(const cache_loader*), const cache_loader* owner)
      : lock_(lock), idle_(idle) {
    {
      std::lock_guard<std::mutex> guard{lock_};
      if (!idle_.empty()) {
        conn_ = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!conn_)
      conn_ = open(owner);
  }
  ~lease() {
    if (!conn_)
      return;
    std::lock_guard<std::mutex> guard{lock_};
    idle_.push_back(std::move(conn_));
  }
  T& operator*() { return *conn_; }
  T* operator->() { return conn_.get(); }

private:
  std::mutex& lock_;
  std::vector<std::unique_ptr<T>>& idle_;
  std::unique_ptr<T> conn_;
};

} // namespace

std::unique_ptr<cache_loader> cache_loader::from_config(const config& cfg) {
  auto& h = cfg.hotkeys;
  if (h.loader_redis_get.empty() && h.loader_http.empty())
    return nullptr;
  std::unique_ptr<cache_loader> out{new cache_loader};
  out->timeout_ms_ = h.loader_timeout_ms;
  out->redis_ = cfg.redis;
  if (!h.loader_http.empty()) {
    out->http_ = true;
    auto host = h.loader_http.find("://") + 3;
    auto slash = h.loader_http.find('/', host);
    out->base_url_ = h.loader_http.substr(0, slash);
    out->template_ = h.loader_http.substr(slash);
  } else {
    out->template_ = h.loader_redis_get;
  }
  return out;
}

cache_loader::~cache_loader() = default;

std::string cache_loader::describe() const {
  return http_ ? "http GET " + base_url_ + template_ : "redis GET " + template_;
}

std::string cache_loader::fill(const std::string& key, bool url) const {
  std::string out = template_;
  auto value = url ? url_encode(key) : key;
  for (auto at = out.find("{key}"); at != std::string::npos;
       at = out.find("{key}", at + value.size()))
    out.replace(at, 5, value);
  return out;
}

std::string cache_loader::operator()(const std::string& key) {
  return http_ ? load_http(key) : load_redis(key);
}

std::string cache_loader::load_redis(const std::string& key) {
  auto open = [](const cache_loader* self) {
    auto cfg = to_redis_config(*self->redis_);
    cfg.connect_timeout = cfg.command_timeout =
        std::chrono::milliseconds{self->timeout_ms_};
    auto conn = redis_connection::connect(cfg);
    if (!conn)
      throw std::runtime_error(conn.error().to_string());
    return std::make_unique<redis_connection>(std::move(*conn));
  };
  lease<redis_connection> conn{lock_, redis_idle_, +open, this};
  auto reply = conn->command({"GET", fill(key, false)});
  if (!reply)
    throw std::runtime_error(reply.error().to_string());
  if (reply->is_nil())
    throw hotkey::key_absent{};
  if (reply->type != redis_reply::kind::string)
    throw std::runtime_error("redis GET answered " + reply->str);
  return std::move(reply->str);
}

std::string cache_loader::load_http(const std::string& key) {
  auto open = [](const cache_loader* self) {
    http_client_options o;
    o.connect_timeout = o.read_timeout = o.write_timeout =
        std::chrono::milliseconds{self->timeout_ms_};
    return std::make_unique<http_client>(self->base_url_, o);
  };
  lease<http_client> client{lock_, http_idle_, +open, this};
  auto got = client->send({"GET", fill(key, true), {}, "", ""});
  if (auto* e = std::get_if<http_error>(&got))
    throw std::runtime_error(e->message);
  auto& r = std::get<http_response>(got);
  if (r.status == 404)
    throw hotkey::key_absent{};
  if (r.status != 200)
    throw std::runtime_error("loader answered HTTP " + std::to_string(r.status));
  return std::move(r.body);
}

} // namespace shoal

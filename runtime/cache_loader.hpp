// cache_loader: the loader behind the sidecar's GET /cache/KEY, from
// $.hotkeys.loader: a Redis GET of a key template, or an HTTP GET of a URL template.
//
//   {"redis_get": "item:{key}"}                       GET item:sku:42
//   {"http": "http://127.0.0.1:8080/items/{key}"}     GET /items/sku%3A42
//
// operator() returns the value, throws hotkey::key_absent when there is none (Redis
// nil, HTTP 404) and std::runtime_error when the backend failed (the breaker counts
// it). Thread-safe: each call takes an idle connection from a pool, or opens one.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/config.hpp"

namespace shoal {

class redis_connection;
class http_client;

class cache_loader {
public:
  /// The loader $.hotkeys.loader asks for; null when there is none.
  static std::unique_ptr<cache_loader> from_config(const config& cfg);

  ~cache_loader();

  /// The value of `key` (see above).
  std::string operator()(const std::string& key);

  /// "redis GET item:{key}" or "http GET http://.../{key}", for /status.
  std::string describe() const;

private:
  cache_loader() = default;
  std::string load_redis(const std::string& key);
  std::string load_http(const std::string& key);

  /// The template with {key} replaced by `key` (URL-encoded for http).
  std::string fill(const std::string& key, bool url) const;

  std::string template_;
  bool http_ = false;
  std::string base_url_;
  int64_t timeout_ms_ = 1000;
  std::optional<redis_settings> redis_;
  std::mutex lock_;
  /// Idle connections; a call takes one (or opens one) and puts it back.
  std::vector<std::unique_ptr<redis_connection>> redis_idle_;
  std::vector<std::unique_ptr<http_client>> http_idle_;
};

} // namespace shoal

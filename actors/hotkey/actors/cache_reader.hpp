// cache_reader: engine.cache().get(key, loader) — reads a key through the node's hot
// cache, and otherwise through the loader behind the protections of scenario 3:
//
//   hot key with a cached value --------------------------------> value (no backend)
//   else single-flight per key: one loader call, the others wait for it
//        the caller that calls the loader first passes the per-rule and per-key
//        token buckets, then the circuit breaker; refused or failed: fallback
//   a hot key's loaded value is cached for the rest of its hot time
//
//   cache_reader reader{config, context};
//   auto r = reader.get("sku:42", [&](const std::string& k) { return redis_get(k); });
//   if (r.source == read_source::fallback) ... r.reason says why
//
// The loader runs on the calling thread and signals failure by throwing; give it its
// own timeout. A loader that finds no value throws key_absent: the read answers
// read_source::absent, nothing is cached and the breaker counts a success. Thread-safe: get() is meant to be called from many threads at once.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "actors/hotkey/actors/node_context.hpp"
#include "actors/hotkey/core/circuit_breaker.hpp"
#include "actors/hotkey/core/key_rate_limiter.hpp"
#include "actors/hotkey/core/single_flight.hpp"
#include "actors/hotkey/core/token_bucket.hpp"

namespace shoal::hotkey {

/// A token bucket's rate; a rate of 0 means no limit.
struct rate_limit {
  double rate_per_second = 0;
  uint32_t burst = 1;
};

/// How reads are protected.
struct protection_config {
  /// One bucket per rule, shared by all keys of the rule.
  rate_limit per_rule;
  /// One bucket per key.
  rate_limit per_key;
  /// Most keys with a bucket at once.
  size_t per_key_max_keys = 100000;
  circuit_breaker_config breaker;
  /// Answer when a read is refused or fails; nullopt: no value (read fails).
  std::optional<std::string> fallback;
  /// Longest wait of a caller sharing another caller's loader call.
  int64_t wait_ms = 2000;
};

/// Where a read's answer came from; absent: the loader found no value.
enum class read_source { hot_cache, loader, fallback, absent };

/// Thrown by a loader that found no value for the key (not a failure).
struct key_absent : std::exception {
  const char* what() const noexcept override { return "no value for the key"; }
};

/// Why a read was answered with the fallback.
enum class fallback_reason { none, rate_limited, breaker_open, load_failed, timed_out };

/// The answer to get().
struct cache_read {
  read_source source = read_source::fallback;
  fallback_reason reason = fallback_reason::none;
  /// The value; nullopt for absent, and for a fallback without a configured
  /// fallback value.
  std::optional<std::string> value;
  /// True when the answer came from the cache or the loader.
  bool fresh() const noexcept { return source != read_source::fallback; }
};

/// Protected reads through a node's hot cache. Thread-safe.
class cache_reader {
public:
  using loader = std::function<std::string(const std::string&)>;

  cache_reader(protection_config config, std::shared_ptr<node_context> p);

  /// Reads `key` as described above. Blocks the caller for the loader call (or the
  /// wait for another caller's, at most wait_ms).
  cache_read get(const std::string& key, const loader& load);

  /// State of the breaker now.
  breaker_state breaker() const;

private:
  struct loaded {
    read_source source = read_source::loader;
    fallback_reason reason = fallback_reason::none;
    std::string value;
  };

  loaded call(const std::string& key, const loader& load);
  bool admit(const std::string& key, int64_t now_ms);
  cache_read fallback(fallback_reason why);

  protection_config config_;
  std::shared_ptr<node_context> p_;
  single_flight<loaded> flights_;
  /// Null when per_key has no rate.
  std::unique_ptr<key_rate_limiter> per_key_;
  /// Guards rule_buckets_ and breaker_.
  mutable std::mutex lock_;
  /// Rule (kind + pattern) -> its bucket, for the rules seen so far.
  std::unordered_map<std::string, std::unique_ptr<token_bucket>> rule_buckets_;
  circuit_breaker breaker_;
};

} // namespace shoal::hotkey

// token_observer: what the token actors report for /status and /metrics.
//
// The keeper and the cache call it from their actor threads; an implementation
// (the token service) must be thread-safe and must not block.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shoal::token {

class token_observer {
public:
  virtual ~token_observer() = default;

  /// One upstream call ended with `result` ("ok" or an error_class name).
  virtual void upstream_call(const std::string& provider, std::string_view result,
                             const std::string& message) = 0;

  /// This node's keeper of `provider` took (true) or lost (false) the lease.
  /// `lease` is the lease it acts on: "redis", or "mysql" (the mirror's fallback
  /// lease, while Redis cannot be reached); empty when it lost it.
  virtual void leadership(const std::string& provider, bool leader,
                          std::string_view lease) = 0;

  /// Upstream calls counted against today's quota (the cluster's count when Redis
  /// answers).
  virtual void quota_used(const std::string& provider, int64_t used) = 0;

  /// `n` callers waited for a refresh instead of causing one each.
  virtual void coalesced(const std::string& provider, int64_t n) = 0;

  /// This node's cache adopted a token of `provider` with `version`.
  virtual void adopted(const std::string& provider, uint64_t version,
                       int64_t expires_at_ms, const std::string& keeper_node) = 0;

  /// The keeper acted on an application's report of a refused token: `outcome`
  /// is "refresh", "deferred" or "refused" (see token_state::reject); `detail`
  /// says why for the last two.
  virtual void forced_refresh(const std::string& provider, std::string_view outcome,
                              const std::string& detail) = 0;

  /// A keeper's write was refused by the store (fenced) or the store failed.
  virtual void store_event(const std::string& provider, std::string_view what) = 0;

  /// The keeper's refresh waits for its input (`why`: no base access token fit
  /// for a jsapi_ticket, no component_verify_ticket received); empty: it has it.
  virtual void input_wait(const std::string& provider, const std::string& why) = 0;

  /// Something an operator should read in the log; `warn` selects the level.
  virtual void note(const std::string& provider, bool warn, const std::string& text) = 0;
};

} // namespace shoal::token

// token_metrics: what a node's token service counts, as the token actors report it
// (the token_observer interface): Prometheus counters for /metrics and per-provider
// figures for the "tokens" section of /status. Internal to runtime/token_*.cpp.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "actors/token/core/token_observer.hpp"
#include "runtime/logging.hpp"

namespace shoal {

/// Per-provider figures for /status; guarded by token_metrics::mutex_.
struct provider_figures {
  uint64_t version = 0;
  int64_t expires_at_ms = 0;
  std::string keeper_node;
  bool leader = false;
  /// Times this node's keeper took the lease (a keeper that lost it and took it
  /// back counts twice): each such takeover skips a token version.
  int64_t takeovers = 0;
  /// "redis", or "mysql" while the keeper acts on the fallback lease.
  std::string keeper_lease;
  std::map<std::string, int64_t> upstream;
  int64_t coalesced = 0;
  int64_t quota_used = 0;
  std::map<std::string, int64_t> store_events;
  /// Reports of a refused token this node's keeper acted on, by outcome.
  std::map<std::string, int64_t> forced_refreshes;
  std::string last_forced_limit;
  std::string last_error;
  /// Why this node's keeper waits for the input of its refresh (empty: it does
  /// not).
  std::string waiting_for;
};

class token_metrics final : public token::token_observer {
public:
  token_metrics(prometheus::Registry& reg, const std::vector<std::string>& providers)
      : calls_(prometheus::BuildCounter()
                   .Name("shoal_token_upstream_calls_total")
                   .Help("Calls to a token endpoint by this node's keeper, by result.")
                   .Register(reg)),
        coalesced_(prometheus::BuildCounter()
                       .Name("shoal_token_coalesced_waiters_total")
                       .Help("Callers that waited for a refresh instead of causing one.")
                       .Register(reg)),
        stale_(prometheus::BuildCounter()
                   .Name("shoal_token_stale_served_total")
                   .Help("Gets served a token inside its mandatory refresh window.")
                   .Register(reg)),
        waited_(prometheus::BuildCounter()
                    .Name("shoal_token_waited_gets_total")
                    .Help("Gets that found no valid token on this node and waited.")
                    .Register(reg)),
        forced_(prometheus::BuildCounter()
                    .Name("shoal_token_forced_refreshes_total")
                    .Help("Refused-token reports acted on by this node's keeper, by "
                          "outcome (refresh, deferred, refused).")
                    .Register(reg)),
        store_(prometheus::BuildCounter()
                   .Name("shoal_token_store_events_total")
                   .Help("Token writes refused by the store (fenced) or failed.")
                   .Register(reg)),
        expiry_(prometheus::BuildGauge()
                    .Name("shoal_token_expiry_timestamp_seconds")
                    .Help("Unix time at which the provider's current token expires.")
                    .Register(reg)),
        version_(prometheus::BuildGauge()
                     .Name("shoal_token_version")
                     .Help("Version of the provider's current token (the keeper's count "
                           "of refreshes).")
                     .Register(reg)),
        keeper_(prometheus::BuildGauge()
                    .Name("shoal_token_keeper")
                    .Help("1 while this node keeps the provider's token, else 0.")
                    .Register(reg)),
        keeper_lease_(prometheus::BuildGauge()
                          .Name("shoal_token_keeper_lease")
                          .Help("1 for the lease this node's keeper acts on (redis, "
                                "mysql), 0 for the other; 0 for both when it keeps "
                                "nothing.")
                          .Register(reg)),
        quota_used_(prometheus::BuildGauge()
                        .Name("shoal_token_quota_used")
                        .Help("Upstream calls counted against the provider's daily quota "
                              "today.")
                        .Register(reg)) {
    for (auto& p : providers) {
      figures_[p];
      stale_by_provider_[p] = &stale_.Add({{"provider", p}});
      waited_by_provider_[p] = &waited_.Add({{"provider", p}});
    }
  }

  void upstream_call(const std::string& provider, std::string_view result,
                     const std::string& message) override {
    calls_.Add({{"provider", provider}, {"result", std::string{result}}}).Increment();
    std::lock_guard<std::mutex> guard(mutex_);
    auto& f = figures_[provider];
    ++f.upstream[std::string{result}];
    if (result != "ok")
      f.last_error = std::string{result} + ": " + message;
  }

  void leadership(const std::string& provider, bool leader,
                  std::string_view lease) override {
    keeper_.Add({{"provider", provider}}).Set(leader ? 1 : 0);
    for (auto kind : {"redis", "mysql"})
      keeper_lease_.Add({{"provider", provider}, {"lease", kind}})
          .Set(leader && lease == kind ? 1 : 0);
    std::lock_guard<std::mutex> guard(mutex_);
    auto& f = figures_[provider];
    if (leader && !f.leader)
      ++f.takeovers;
    f.leader = leader;
    f.keeper_lease = std::string{lease};
  }

  void quota_used(const std::string& provider, int64_t used) override {
    quota_used_.Add({{"provider", provider}}).Set(static_cast<double>(used));
    std::lock_guard<std::mutex> guard(mutex_);
    figures_[provider].quota_used = used;
  }

  void coalesced(const std::string& provider, int64_t n) override {
    coalesced_.Add({{"provider", provider}}).Increment(static_cast<double>(n));
    std::lock_guard<std::mutex> guard(mutex_);
    figures_[provider].coalesced += n;
  }

  void adopted(const std::string& provider, uint64_t version, int64_t expires_at_ms,
               const std::string& keeper_node) override {
    version_.Add({{"provider", provider}}).Set(static_cast<double>(version));
    expiry_.Add({{"provider", provider}})
        .Set(static_cast<double>(expires_at_ms) / 1000.0);
    log().info("token {}: version {} from keeper on {}", provider, version, keeper_node);
    std::lock_guard<std::mutex> guard(mutex_);
    auto& f = figures_[provider];
    f.version = version;
    f.expires_at_ms = expires_at_ms;
    f.keeper_node = keeper_node;
  }

  void forced_refresh(const std::string& provider, std::string_view outcome,
                      const std::string& detail) override {
    forced_.Add({{"provider", provider}, {"outcome", std::string{outcome}}}).Increment();
    if (outcome == "refresh")
      log().info("token {}: forced refresh ({})", provider, detail);
    else
      log().warn("token {}: forced refresh {}: {}", provider, outcome, detail);
    std::lock_guard<std::mutex> guard(mutex_);
    auto& f = figures_[provider];
    ++f.forced_refreshes[std::string{outcome}];
    if (outcome != "refresh")
      f.last_forced_limit = std::string{outcome} + ": " + detail;
  }

  void store_event(const std::string& provider, std::string_view what) override {
    store_.Add({{"provider", provider}, {"event", std::string{what}}}).Increment();
    log().warn("token {}: store {}", provider, what);
    std::lock_guard<std::mutex> guard(mutex_);
    ++figures_[provider].store_events[std::string{what}];
  }

  void input_wait(const std::string& provider, const std::string& why) override {
    std::lock_guard<std::mutex> guard(mutex_);
    figures_[provider].waiting_for = why;
  }

  void note(const std::string& provider, bool warn, const std::string& text) override {
    if (warn)
      log().warn("token {}: {}", provider, text);
    else
      log().info("token {}: {}", provider, text);
  }

  void stale_served(const std::string& provider) {
    stale_by_provider_.at(provider)->Increment();
  }
  void waited(const std::string& provider) {
    waited_by_provider_.at(provider)->Increment();
  }

  nlohmann::json status() {
    using namespace std::chrono;
    auto out = nlohmann::json::object();
    auto now_ms =
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    std::lock_guard<std::mutex> guard(mutex_);
    for (auto& [name, f] : figures_) {
      out[name] = {{"version", f.version},
                   {"expires_at_ms", f.expires_at_ms},
                   {"expires_in_ms", f.version ? f.expires_at_ms - now_ms : 0},
                   {"keeper_node", f.keeper_node},
                   {"keeper_here", f.leader},
                   {"keeper_takeovers", f.takeovers},
                   {"keeper_lease", f.keeper_lease},
                   {"upstream_calls", f.upstream},
                   {"coalesced_waiters", f.coalesced},
                   {"stale_served", stale_by_provider_.at(name)->Value()},
                   {"waited_gets", waited_by_provider_.at(name)->Value()},
                   {"quota_used", f.quota_used},
                   {"store_events", f.store_events},
                   {"forced_refreshes", f.forced_refreshes},
                   {"last_forced_limit", f.last_forced_limit},
                   {"last_error", f.last_error},
                   {"waiting_for", f.waiting_for}};
    }
    return out;
  }

  /// Providers without a token that is valid now, for GET /readyz.
  std::vector<std::string> without_token() {
    using namespace std::chrono;
    auto now_ms =
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    std::vector<std::string> out;
    std::lock_guard<std::mutex> guard(mutex_);
    for (auto& [name, f] : figures_)
      if (f.version == 0 || f.expires_at_ms <= now_ms)
        out.push_back("token " + name + ": no valid token on this node yet");
    return out;
  }

private:
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Counter>& coalesced_;
  prometheus::Family<prometheus::Counter>& stale_;
  prometheus::Family<prometheus::Counter>& waited_;
  prometheus::Family<prometheus::Counter>& forced_;
  prometheus::Family<prometheus::Counter>& store_;
  prometheus::Family<prometheus::Gauge>& expiry_;
  prometheus::Family<prometheus::Gauge>& version_;
  prometheus::Family<prometheus::Gauge>& keeper_;
  prometheus::Family<prometheus::Gauge>& keeper_lease_;
  prometheus::Family<prometheus::Gauge>& quota_used_;
  std::map<std::string, prometheus::Counter*> stale_by_provider_;
  std::map<std::string, prometheus::Counter*> waited_by_provider_;
  std::mutex mutex_;
  std::map<std::string, provider_figures> figures_;
};

} // namespace shoal

// The hot-key service's HTTP surface: its "hotkeys" section of /status, /hotkeys
// (list), and, behind the bearer secret of hotkeys.http_api, /hotkeys/manual,
// /hotkeys/invalidate and the sidecar's routes (hotkey_sidecar_routes.cpp).

#include <charconv>
#include <httplib.h>

#include "actors/hotkey/core/hot_view.hpp"
#include "runtime/hotkey_service.hpp"
#include "runtime/http_auth.hpp"

namespace shoal {

nlohmann::json hotkey_service::status() {
  auto& s = *p_->stats;
  auto now = p_->clock->now_ms();
  auto hot = nlohmann::json::array();
  for (auto& k : p_->view->list(now))
    hot.push_back(
        {{"key", k.key},
         {"count", k.count},
         {"manual", k.manual},
         {"ttl_ms", k.until_ms == hotkey::hot_set::forever ? -1 : k.until_ms - now}});
  auto rules = p_->rules->current();
  auto hits = s.cache_hits.load(), misses = s.cache_misses.load();
  auto live = live_peers();
  // rules->json lists the rules in matcher order (rules_json of the same vector).
  auto rule_list = nlohmann::json::parse(rules->json);
  auto& in_force = rules->matcher.rules();
  for (size_t i = 0; i < in_force.size() && i < rule_list.size(); ++i)
    if (auto cs = p_->view->rule_cache_stats(in_force[i]))
      rule_list[i]["cache"]["now"] = {
          {"entries", cs->entries}, {"bytes", cs->bytes}, {"evictions", cs->evictions}};
  auto values = p_->view->value_stats();
  return {{"hot_keys", hot},
          {"cache_entries", values.entries},
          {"cache_bytes", values.bytes},
          {"rules_version", rules->version},
          {"rules", rule_list},
          {"shard_nodes", live.first},
          {"nodes", live.second},
          {"recorded", p_->recorder->recorded()},
          {"detections", s.detections.load()},
          {"hot_received", s.hot_received.load()},
          {"counts_unrouted", s.counts_unrouted.load()},
          {"cache_hits", hits},
          {"cache_misses", misses},
          {"cache_hit_ratio",
           hits + misses == 0 ? 0.0 : double(hits) / double(hits + misses)},
          {"loader_calls", s.loader_calls.load()},
          {"loader_failures", s.loader_failures.load()},
          {"loads_shared", s.loads_shared.load()},
          {"limiter_rejections", s.limiter_rejections.load()},
          {"breaker_rejections", s.breaker_rejections.load()},
          {"fallbacks", s.fallbacks.load()},
          {"breaker", to_string(reader_.breaker())},
          {"invalidations_received", s.invalidations_received.load()},
          {"invalidation_channel", invalidation_state()},
          {"sidecar", sidecar_ ? sidecar_->status() : nlohmann::json{}}};
}

void hotkey_service::add_routes(httplib::Server& server) {
  server.Get("/hotkeys", [this](const httplib::Request&, httplib::Response& res) {
    auto now = p_->clock->now_ms();
    auto out = nlohmann::json::array();
    for (auto& k : p_->view->list(now))
      out.push_back({{"key", k.key}, {"count", k.count}, {"manual", k.manual}});
    res.set_content(nlohmann::json{{"node", p_->node}, {"hot_keys", out}}.dump(),
                    "application/json");
  });
  if (http_secret_.empty())
    return;
  if (sidecar_)
    sidecar_->add_routes(server);
  server.Post(
      "/hotkeys/manual", [this](const httplib::Request& req, httplib::Response& res) {
        if (!bearer_authorized(req, http_secret_, res))
          return;
        if (!req.has_param("key")) {
          res.status = 400;
          res.set_content("key is required\n", "text/plain");
          return;
        }
        auto key = req.get_param_value("key");
        if (req.get_param_value("hot") == "0") {
          remove_hot(key);
        } else {
          int64_t duration = 0;
          if (req.has_param("duration_ms")) {
            auto text = req.get_param_value("duration_ms");
            auto [end, ec] =
                std::from_chars(text.data(), text.data() + text.size(), duration);
            if (ec != std::errc{} || end != text.data() + text.size() || duration < 0) {
              res.status = 400;
              res.set_content("duration_ms must be a whole number of "
                              "milliseconds >= 0 (0: until removed), got \"" +
                                  text + "\"\n",
                              "text/plain");
              return;
            }
          }
          add_hot(key, duration);
        }
        res.set_content("ok\n", "text/plain");
      });
  server.Post("/hotkeys/invalidate",
              [this](const httplib::Request& req, httplib::Response& res) {
                if (!bearer_authorized(req, http_secret_, res))
                  return;
                if (!req.has_param("key")) {
                  res.status = 400;
                  res.set_content("key is required\n", "text/plain");
                  return;
                }
                invalidate(req.get_param_value("key"));
                res.set_content("ok\n", "text/plain");
              });
}

} // namespace shoal

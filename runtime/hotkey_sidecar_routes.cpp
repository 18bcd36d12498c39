// The sidecar's HTTP routes (hotkey_sidecar.hpp): POST /hotkeys/record,
// GET /hotkeys/stream and GET /cache/KEY, each behind the bearer secret.
//
// The stream is text/event-stream; each message is
//
//   id: <seq>\n
//   event: hot | cold | invalidate\n
//   data: <sidecar_event_json>\n
//   \n
//
// first one `hot` per key hot now (with the sequence number the snapshot was taken
// at), then `event: synced` (data {"seq": N}), then every event after N. A
// subscriber that fell more than the feed's capacity behind gets `event: reset`
// and a fresh snapshot. `: ping` comments every 5 s keep proxies from closing it
// and let the node notice a gone subscriber.

#include <chrono>
#include <httplib.h>

#include "actors/hotkey/actors/cache_reader.hpp"
#include "actors/hotkey/core/record_batch.hpp"
#include "runtime/cache_loader.hpp"
#include "runtime/hotkey_service.hpp"
#include "runtime/hotkey_sidecar.hpp"
#include "runtime/http_auth.hpp"

namespace shoal {

namespace {

using namespace std::chrono;

void json_error(httplib::Response& res, int status, const std::string& error,
                const std::string& message,
                nlohmann::json extra = nlohmann::json::object()) {
  res.status = status;
  extra["error"] = error;
  extra["message"] = message;
  res.set_content(extra.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

std::string sse_message(const std::string& event, uint64_t id, const std::string& data) {
  return "id: " + std::to_string(id) + "\nevent: " + event + "\ndata: " + data + "\n\n";
}

/// One subscriber's position in the feed.
struct subscription {
  bool synced = false;
  uint64_t seq = 0;
  steady_clock::time_point last_write = steady_clock::now();
};

} // namespace

void hotkey_sidecar::add_routes(httplib::Server& server) {
  if (http_secret_.empty())
    return;
  route_record(server);
  route_stream(server);
  if (loader_)
    route_cache(server);
}

void hotkey_sidecar::route_record(httplib::Server& server) {
  server.Post(
      "/hotkeys/record", [this](const httplib::Request& req, httplib::Response& res) {
        if (!bearer_authorized(req, http_secret_, res))
          return;
        nlohmann::json body;
        try {
          body = nlohmann::json::parse(req.body);
        } catch (const nlohmann::json::parse_error& e) {
          http_refused_.fetch_add(1, std::memory_order_relaxed);
          std::string what = e.what();
          auto pos = what.find("] ");
          json_error(res, 400, "bad_request",
                     "invalid JSON: " +
                         (pos == std::string::npos ? what : what.substr(pos + 2)));
          return;
        }
        auto batch = hotkey::parse_record_json(body);
        if (!batch) {
          http_refused_.fetch_add(1, std::memory_order_relaxed);
          json_error(res, 400, "bad_request", batch.error());
          return;
        }
        uint64_t accesses = 0;
        for (auto& [key, n] : *batch) {
          svc_.record(key, n);
          accesses += n;
        }
        http_recorded_.fetch_add(batch->size(), std::memory_order_relaxed);
        res.set_content(
            nlohmann::json{{"keys", batch->size()}, {"accesses", accesses}}.dump(),
            "application/json");
      });
}

void hotkey_sidecar::route_stream(httplib::Server& server) {
  server.Get("/hotkeys/stream", [this](const httplib::Request& req,
                                       httplib::Response& res) {
    if (!bearer_authorized(req, http_secret_, res))
      return;
    if (subscribers_.fetch_add(1) >= cfg_.stream_max_subscribers) {
      subscribers_.fetch_sub(1);
      json_error(res, 503, "too_many_subscribers",
                 "at most " + std::to_string(cfg_.stream_max_subscribers) +
                     " stream subscribers at once ($.hotkeys.stream.max_subscribers)");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    auto sub = std::make_shared<subscription>();
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, sub](size_t, httplib::DataSink& sink) {
          auto write = [&](const std::string& text) {
            sub->last_write = steady_clock::now();
            return sink.write(text.data(), text.size());
          };
          auto& feed = *p_->feed;
          if (!sub->synced) {
            sub->seq = feed.last_seq();
            auto now = p_->clock->now_ms();
            auto wall =
                duration_cast<milliseconds>(system_clock::now().time_since_epoch())
                    .count();
            std::string out;
            for (auto& k : p_->view->list(now)) {
              auto ttl = k.until_ms == hotkey::hot_set::forever
                             ? 0
                             : std::max<int64_t>(1, k.until_ms - now);
              hotkey::hot_event e{sub->seq, hotkey::event_kind::hot,   k.key,    k.count,
                                  ttl,      ttl == 0 ? 0 : wall + ttl, k.manual, {}};
              out +=
                  sse_message("hot", sub->seq, sidecar_event_json(p_->node, sub->seq, e));
            }
            out +=
                sse_message("synced", sub->seq,
                            nlohmann::json{{"seq", sub->seq}, {"node", p_->node}}.dump());
            sub->synced = true;
            return write(out);
          }
          auto got = feed.wait_after(sub->seq, milliseconds{250});
          if (got.closed && got.events.empty()) {
            sink.done();
            return true;
          }
          if (got.lost) {
            sub->synced = false;
            return write(sse_message("reset", sub->seq, "{}"));
          }
          std::string out;
          for (auto& e : got.events) {
            sub->seq = e.seq;
            out += sse_message(hotkey::to_string(e.kind), e.seq,
                               sidecar_event_json(p_->node, e.seq, e));
          }
          if (!out.empty())
            return write(out);
          if (steady_clock::now() - sub->last_write >= seconds{5})
            return write(": ping\n\n");
          return true;
        },
        [this](bool) { subscribers_.fetch_sub(1); });
  });
}

void hotkey_sidecar::route_cache(httplib::Server& server) {
  server.Get(R"(/cache/(.+))", [this](const httplib::Request& req,
                                      httplib::Response& res) {
    if (!bearer_authorized(req, http_secret_, res))
      return;
    std::string key = req.matches[1];
    auto& load = *loader_;
    auto r = svc_.get(key, [&load](const std::string& k) { return load(k); });
    nlohmann::json about{{"key", key}};
    if (cfg_.fallback)
      about["fallback"] = *cfg_.fallback;
    switch (r.source) {
    case hotkey::read_source::hot_cache:
    case hotkey::read_source::loader: {
      auto now = p_->clock->now_ms();
      auto until = p_->view->hot_until(key, now);
      res.set_header("X-Shoal-Source",
                     r.source == hotkey::read_source::hot_cache ? "hot_cache" : "loader");
      res.set_header("X-Shoal-Hot", until ? "1" : "0");
      if (until)
        res.set_header("X-Shoal-Hot-Ttl-Ms",
                       std::to_string(*until == hotkey::hot_set::forever
                                          ? 0
                                          : std::max<int64_t>(1, *until - now)));
      res.set_content(*r.value, "application/octet-stream");
      return;
    }
    case hotkey::read_source::absent:
      json_error(res, 404, "not_found", "the loader has no value for this key", about);
      return;
    case hotkey::read_source::fallback:
      break;
    }
    switch (r.reason) {
    case hotkey::fallback_reason::rate_limited:
      res.set_header("Retry-After", "1");
      json_error(res, 429, "rate_limited",
                 "the loader's rate limit ($.hotkeys.limits) refused this read", about);
      return;
    case hotkey::fallback_reason::breaker_open:
      res.set_header("Retry-After", std::to_string((cfg_.breaker_open_ms + 999) / 1000));
      json_error(res, 503, "breaker_open",
                 "the loader's circuit breaker is open after failures or slow calls",
                 about);
      return;
    case hotkey::fallback_reason::timed_out:
      json_error(res, 504, "timed_out",
                 "waited too long for another read of this key ($.hotkeys.wait_ms)",
                 about);
      return;
    default:
      json_error(res, 502, "loader_failed", "the loader failed: " + load.describe(),
                 about);
      return;
    }
  });
}

} // namespace shoal

// The token service's HTTP API: GET /token/{provider}, POST
// /token/{provider}/rejected and POST /token/{provider}/verify_ticket, behind a
// bearer secret.

#include <httplib.h>

#include "actors/token/actors/token_store.hpp"
#include "runtime/http_auth.hpp"
#include "runtime/token_service.hpp"
#include "runtime/token_service_impl.hpp"

namespace shoal {

using namespace std::chrono;
using nlohmann::json;

void token_service::add_routes(httplib::Server& server) {
  if (d_->http_secret.empty())
    return;
  server.Get(R"(/token/([A-Za-z0-9_-]+))",
             [this](const httplib::Request& req, httplib::Response& res) {
               if (!bearer_authorized(req, d_->http_secret, res))
                 return;
               std::string provider = req.matches[1];
               if (d_->board->slot_of(provider) < 0) {
                 res.status = 404;
                 res.set_content(json{{"error", "unknown provider " + provider}}.dump(),
                                 "application/json");
                 return;
               }
               auto t = client_.get(provider, seconds{5});
               if (!t) {
                 res.status = 503;
                 res.set_content(json{{"error", t.error}}.dump(), "application/json");
                 return;
               }
               auto expires = token::to_epoch_ms(t.snapshot->expires_at);
               auto now = token::to_epoch_ms(token::clock::now());
               res.set_content(json{{"access_token", t.token()},
                                    {"version", t.snapshot->version},
                                    {"expires_at_ms", expires},
                                    {"expires_in_ms", expires - now}}
                                   .dump(),
                               "application/json");
             });
  server.Post(R"(/token/([A-Za-z0-9_-]+)/rejected)", [this](const httplib::Request& req,
                                                            httplib::Response& res) {
    if (!bearer_authorized(req, d_->http_secret, res))
      return;
    std::string provider = req.matches[1];
    auto body = json::parse(req.body, nullptr, false);
    if (d_->board->slot_of(provider) < 0 || body.is_discarded() || !body.is_object() ||
        !body.contains("access_token") || !body["access_token"].is_string()) {
      res.status = d_->board->slot_of(provider) < 0 ? 404 : 400;
      res.set_content(
          R"({"error":"expected a known provider and {\"access_token\": \"...\"}"})",
          "application/json");
      return;
    }
    client_.rejected(provider, body["access_token"].get<std::string>());
    res.status = 202;
    res.set_content(R"({"accepted":true})", "application/json");
  });
  // The component_verify_ticket WeChat pushes every 10 minutes to the Open
  // Platform's callback, forwarded by the application that decrypts it. Written
  // to Redis from here (any node), read by the component's keeper before each
  // refresh. The ticket is a credential: it is neither logged nor echoed.
  server.Post(R"(/token/([A-Za-z0-9_-]+)/verify_ticket)", [this](
                                                              const httplib::Request& req,
                                                              httplib::Response& res) {
    if (!bearer_authorized(req, d_->http_secret, res))
      return;
    std::string provider = req.matches[1];
    auto error = [&](int status, const std::string& text) {
      res.status = status;
      res.set_content(json{{"error", text}}.dump(), "application/json");
    };
    if (d_->board->slot_of(provider) < 0)
      return error(404, "unknown provider " + provider);
    if (d_->components.count(provider) == 0)
      return error(400, "provider " + provider +
                            " is not of kind component: it takes no verify ticket");
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() ||
        !body.contains("component_verify_ticket") ||
        !body["component_verify_ticket"].is_string() ||
        body["component_verify_ticket"].get_ref<const std::string&>().empty())
      return error(400, R"(expected {"component_verify_ticket": "..."})");
    token::token_store store{d_->redis, provider, d_->node + "/http", milliseconds{1000}};
    auto stored =
        store.put_verify_ticket(body["component_verify_ticket"].get<std::string>(),
                                token::to_epoch_ms(token::clock::now()));
    if (!stored)
      return error(503, "verify ticket not stored: " + stored.error().to_string());
    res.status = 202;
    res.set_content(json{{"accepted", true}, {"newest", *stored}}.dump(),
                    "application/json");
  });
}

} // namespace shoal

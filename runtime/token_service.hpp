// token_service: the token keeper on a node, and the API applications use.
//
//   auto& tokens = engine.tokens();
//   auto t = tokens.get("wx");              // no message, no lock while valid
//   if (t) call_platform(t.token());
//   if (errcode == 40001) tokens.rejected("wx", t.token());
//
// The service reads `$.tokens` (providers, keepers, lease_ms) and `$.redis`, runs
// a token cache on every node and, on the nodes allowed to keep tokens, one keeper
// per provider (see actors/token/actors/token_keeper.hpp). Its /status section and
// metrics show, per provider: current version and expiry, the keeper's node,
// upstream calls by result, coalesced waiters, gets served stale, quota used.
//
// With `$.tokens.http_api` on, the node's HTTP port also serves, to callers that
// send `Authorization: Bearer <secret from http_api.secret_env>`:
//   GET  /token/NAME            200
//   {"access_token","version","expires_at_ms","expires_in_ms"}
//                               (waits up to 5 s only when no usable token exists: 503)
//   POST /token/NAME/rejected   body {"access_token": "..."}; 202, refreshes only if
//                               that token is still the current one
//   POST /token/NAME/verify_ticket  (kind component) body
//                               {"component_verify_ticket": "..."}: the ticket WeChat
//                               pushed to the platform's callback; stored in Redis
//                               for whichever node keeps NAME (an older one does
//                               not replace a newer); 202, 503 when Redis is down

#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <caf/fwd.hpp>

#include "actors/token/core/token_board.hpp"
#include "runtime/config.hpp"
#include "runtime/service.hpp"

namespace shoal {

class node;
class token_service;

/// What get() returns: a token snapshot, valid until the engine stops, or why
/// there is none.
struct token_result {
  const token::token_snapshot* snapshot = nullptr;
  std::string error;

  explicit operator bool() const { return snapshot != nullptr; }
  /// The access token; only valid when the result holds one.
  const std::string& token() const { return snapshot->token; }
};

/// The applications' handle on the token service. Thread-safe.
class token_client {
public:
  /// A client of `svc`; null makes a client whose calls all fail.
  explicit token_client(token_service* svc = nullptr) : svc_(svc) {}

  /// The current token of `provider`. Returns at once, without a message or a lock,
  /// while this node holds a usable token: valid and not inside its hand-out
  /// margin (refresh.handout_margin_ms before expiry). Otherwise waits at most
  /// `wait` for the keeper to provide one; at the end of the wait it fails rather
  /// than hand out a token in its last moments.
  token_result get(std::string_view provider,
                   std::chrono::milliseconds wait = std::chrono::seconds{5}) const;

  /// The platform refused `token` (40001, 40014, 42001). The keeper refreshes once
  /// if it is still the current token of `provider`; otherwise nothing happens.
  /// Does not block.
  void rejected(std::string_view provider, std::string_view token) const;

private:
  token_service* svc_;
};

class token_service : public service {
public:
  struct impl;

  explicit token_service(std::unique_ptr<impl> d);
  ~token_service() override;

  std::string name() const override { return "tokens"; }
  nlohmann::json status() override;
  std::vector<std::string> not_ready() override;
  void stop() override;

  /// GET /token/NAME, POST /token/NAME/rejected and POST /token/NAME/verify_ticket
  /// when $.tokens.http_api is on.
  void add_routes(httplib::Server& server) override;

  const token_client& client() const { return client_; }

  impl& internals() { return *d_; }

private:
  std::unique_ptr<impl> d_;
  token_client client_;
};

/// What `shoal token get` prints: the token the cluster's keeper stored for a
/// provider, read from Redis (no upstream call, no node started).
struct stored_token {
  /// Set when a record exists and has not expired.
  std::string token;
  uint64_t version = 0;
  int64_t expires_at_ms = 0;
  /// Why there is no token (config, Redis, no record, expired).
  std::string error;
};

/// Reads the stored token of `provider` with the Redis settings of `cfg`. Blocks
/// up to the configured Redis timeouts.
stored_token read_stored_token(const config& cfg, const std::string& provider);

/// The factory listed in services.cpp: a token service when the config has a
/// `tokens` section with providers.
std::unique_ptr<service> make_token_service(node& n, std::string& error);

} // namespace shoal

// token_service_impl: the state a token service shares between its files:
// lifecycle (token_service.cpp), HTTP routes (token_routes.cpp) and the application
// client (token_client.cpp). Internal to runtime/token_*.cpp.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/token/core/token_board.hpp"
#include "messages/token.hpp"
#include "runtime/adapters/redis_connection.hpp"
#include "runtime/token_metrics.hpp"
#include "runtime/token_service.hpp"

namespace shoal {

struct token_service::impl {
  /// The bearer secret of the HTTP API; empty when the API is off.
  std::string http_secret;
  caf::actor_system* sys = nullptr;
  std::string node;
  std::shared_ptr<token::token_board> board;
  std::shared_ptr<token_metrics> watcher;
  token_cache_actor cache;
  std::vector<token_keeper_actor> keepers;
  /// Where POST /token/NAME/verify_ticket stores the ticket, and the providers of
  /// kind component that take one.
  redis_config redis;
  std::set<std::string> components;
  bool stopped = false;
};

} // namespace shoal

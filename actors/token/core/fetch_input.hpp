// fetch_input: whether a jsapi_ticket refresh may use its base provider's access
// token now.
//
// A ticket request carries the base token; the platform refuses it (40001,
// 42001) if that token dies before the request arrives. So a ticket refresh
// uses the base token only while
//   - the token is not the one getticket already refused (then it waits for a
//     newer one: the keeper reported the refused one to the base keeper), and
//   - the call cannot outlast it: now + call_budget is before its hand-out
//     margin (the last moments, where callers are not given it either), and
//   - it is not inside its own mandatory window (its keeper replaces it any
//     moment: the ticket is refreshed after it, with the new token), unless the
//     ticket itself is urgent (missing, expired or in its mandatory window) and
//     cannot wait for that.
// Otherwise the refresh waits, without an upstream call or a counted failure,
// and asks the cluster for a base token. Pure: time is passed in.

#pragma once

#include <string>
#include <string_view>

#include "actors/token/core/refresh_policy.hpp"
#include "actors/token/core/token_board.hpp"

namespace shoal::token {

struct base_token_choice {
  /// True when `token` may be used for the ticket request now.
  bool ready = false;
  std::string token;
  /// Why not (when !ready): for the keeper's notes and /status.
  std::string why;
};

/// Decides as described above. `base` is this node's snapshot of the base
/// provider (null when it has none); `refused` the base token getticket last
/// refused (empty: none); `ticket_urgent` whether the ticket is missing, expired
/// or in its mandatory window.
base_token_choice choose_base_token(const token_snapshot* base, time_point now,
                                    duration call_budget, bool ticket_urgent,
                                    std::string_view refused);

} // namespace shoal::token

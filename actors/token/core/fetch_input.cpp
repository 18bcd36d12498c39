#include "actors/token/core/fetch_input.hpp"

namespace shoal::token {

base_token_choice choose_base_token(const token_snapshot* base, time_point now,
                                    duration call_budget, bool ticket_urgent,
                                    std::string_view refused) {
  base_token_choice out;
  if (!base) {
    out.why = "no access token of the base provider yet";
    return out;
  }
  auto name = base->provider + " version " + std::to_string(base->version);
  if (!refused.empty() && base->token == refused) {
    out.why = "getticket refused the access token " + name + "; waiting for a new one";
    return out;
  }
  if (now + call_budget >= base->usable_until) {
    out.why = "the access token " + name +
              " is in its last moments (the call could outlast it); waiting for a new "
              "one";
    return out;
  }
  if (now >= base->stale_after && !ticket_urgent) {
    out.why = "the access token " + name +
              " is due for replacement; the ticket is refreshed after it";
    return out;
  }
  out.ready = true;
  out.token = base->token;
  return out;
}

} // namespace shoal::token

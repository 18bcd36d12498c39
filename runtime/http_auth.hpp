// http_auth: the bearer secret every mutating (or secret-revealing) route of the
// node's HTTP port demands, and the size limit of request bodies.
//
//   if (!bearer_authorized(req, secret, res)) return;   // 401 already written
//
// The comparison takes the same time whatever the first differing byte is.

#pragma once

#include <cstddef>
#include <string>

namespace httplib {
struct Request;
struct Response;
} // namespace httplib

namespace shoal {

/// Largest request body the node's HTTP port accepts (larger: 413).
inline constexpr std::size_t max_request_body = 1 << 20;

/// True when `req` carries `Authorization: Bearer <secret>`; otherwise writes a 401
/// with `WWW-Authenticate: Bearer` to `res`. An empty `secret` authorizes nobody.
bool bearer_authorized(const httplib::Request& req, const std::string& secret,
                       httplib::Response& res);

} // namespace shoal

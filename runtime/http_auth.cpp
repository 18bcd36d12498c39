#include "runtime/http_auth.hpp"

#include <algorithm>

#include <httplib.h>

namespace shoal {

namespace {

bool same_secret(const std::string& given, const std::string& expected) {
  // Compares every byte whatever the first difference, so timing does not tell.
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(
        given[i] ^ expected[i % std::max<size_t>(1, expected.size())]);
  return diff == 0 && !expected.empty();
}

} // namespace

bool bearer_authorized(const httplib::Request& req, const std::string& secret,
                       httplib::Response& res) {
  auto header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (header.rfind(prefix, 0) == 0 && same_secret(header.substr(prefix.size()), secret))
    return true;
  res.status = 401;
  res.set_header("WWW-Authenticate", "Bearer");
  res.set_content(R"({"error":"unauthorized"})", "application/json");
  return false;
}

} // namespace shoal

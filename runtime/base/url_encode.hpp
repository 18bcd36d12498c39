// url_encode: percent-encoding for a URL's query string, form body or path segment.
//
//   auto target = "/sync/" + shoal::url_encode(pipeline);   // "a b" -> "a%20b"
//
// Every byte but RFC 3986's unreserved characters ([A-Za-z0-9-._~]) becomes %XX,
// so the result is safe in any of those places. The one implementation every
// caller (token providers, the cache loader's URL keys, the CLI's sync routes) uses.
#pragma once

#include <string>
#include <string_view>

namespace shoal {

inline std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

} // namespace shoal

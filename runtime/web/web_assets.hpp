// The node's status page (index.html, app.js, style.css) and the Chart.js it draws
// with, embedded in the binary at build time (embed.cmake), so that a node serves its
// page with no file to find at run time. status_server serves them:
//
//   for (auto& a : shoal::web::assets())
//     serve(a.path, a.content_type, a.body);

#pragma once

#include <string_view>
#include <vector>

namespace shoal::web {

/// One embedded file and how to serve it.
struct asset {
  /// The URL path it is served at, e.g. "/app.js".
  std::string_view path;
  /// The Content-Type header.
  std::string_view content_type;
  /// The Cache-Control header.
  std::string_view cache_control;
  /// A strong ETag (quoted SHA-1 of the body).
  std::string_view etag;
  std::string_view body;
};

/// Every embedded file. Static data: thread-safe, never changes.
const std::vector<asset>& assets();

} // namespace shoal::web

// http_client: a thin, blocking HTTP/1.1 client over cpp-httplib.
//
//   shoal::http_client client("https://api.weixin.qq.com", {});
//   auto r = client.send({"GET", "/cgi-bin/token?...", {}, "", ""});
//   if (auto* reply = std::get_if<shoal::http_response>(&r)) use(reply->status,
//   reply->body); else report(std::get<shoal::http_error>(r).message);
//
// One client talks to one scheme://host[:port] and keeps its connection alive between
// calls. Failures are values (`http_error`), never exceptions. Error messages name the
// method and the path but never the query string or the body, which may carry
// secrets (a WeChat token request has the secret in its query). Blocking: call it from
// a detached actor or an adapter thread only. Not thread-safe: one client per thread.

#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace httplib {
class Client;
} // namespace httplib

namespace shoal {

/// A request; `target` is path plus optional query string.
struct http_request {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Content-Type of the body; empty when there is no body.
  std::string content_type;
};

/// A reply of any status.
struct http_response {
  int status = 0;
  std::string body;
};

/// Why there is no reply.
enum class http_error_kind {
  /// The base URL is not http(s)://host[:port], or the method is unsupported.
  invalid_request,
  /// TCP or TLS connection failed (refused, unreachable, handshake, certificate).
  connect,
  /// No connection or no complete reply within the configured timeout.
  timeout,
  /// The connection broke while sending or receiving.
  io,
};

/// A transport failure; `message` is safe to log (no query string, no body).
struct http_error {
  http_error_kind kind = http_error_kind::io;
  std::string message;
};

/// Timeouts and TLS settings of a client.
struct http_client_options {
  std::chrono::milliseconds connect_timeout{2000};
  /// Longest silence while waiting for (or reading) the reply.
  std::chrono::milliseconds read_timeout{5000};
  /// Longest silence while sending the request.
  std::chrono::milliseconds write_timeout{5000};
  /// Verify the server certificate for https (on unless a test turns it off).
  bool verify_tls = true;
  /// CA bundle for https; empty uses the system default.
  std::string ca_file;
};

class http_client {
public:
  /// A client for `base_url` = "http://host[:port]" or "https://host[:port]". An
  /// invalid URL makes every send() fail with invalid_request.
  http_client(std::string base_url, http_client_options options);
  ~http_client();

  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Sends `request` (GET or POST) and waits for the reply. Never throws.
  std::variant<http_response, http_error> send(const http_request& request);

  /// The base URL this client talks to.
  const std::string& base_url() const { return base_url_; }

private:
  http_error failure(http_error_kind kind, const http_request& request,
                     const std::string& why) const;

  std::string base_url_;
  http_client_options options_;
  /// Null when base_url_ is invalid.
  std::unique_ptr<httplib::Client> client_;
  std::string url_problem_;
};

/// The path of `target` without its query string: what may be logged.
std::string path_without_query(const std::string& target);

} // namespace shoal

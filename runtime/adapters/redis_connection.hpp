// redis_connection: one client connection to a Redis server, over hiredis.
//
//   shoal::redis_config cfg;
//   cfg.port = 6379; cfg.password = pw;
//   auto redis = shoal::redis_connection::connect(cfg);
//   if (!redis) return redis.error();              // transport error, with server
//   auto reply = redis->command({"SET", key, value, "NX", "PX", "5000"});
//   if (reply && reply->is_status("OK")) ...       // server errors are replies
//   auto cas = redis->eval_cached(cas_script, {key}, {expected, next});
//
// Commands are binary-safe (arguments and replies may hold any bytes). Every
// call blocks the calling thread until the reply arrives or the command
// timeout expires, so call it only from a detached actor or an adapter thread.
// Not thread-safe: use one connection from one thread at a time.
//
// A transport error (timeout, reset, EOF) leaves the connection broken; the
// next call reconnects first (AUTH and SELECT again) and then sends, so callers
// never handle a dead context. A command that failed is never resent by the
// adapter: whether it ran on the server is unknown, and only the caller knows
// whether repeating it is safe. Server error replies (WRONGTYPE, NOSCRIPT, a
// Lua error) are values of kind `error`, not transport errors.

#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/base/expected.hpp"

struct redisContext;

namespace shoal {

/// Where and how to connect. The password is only ever sent in AUTH.
struct redis_config {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  /// ACL user (Redis 6+); empty: AUTH with the password only.
  std::string username;
  /// Empty: no AUTH.
  std::string password;
  /// Database number for SELECT; 0 is the default database.
  int db = 0;
  std::chrono::milliseconds connect_timeout{2000};
  /// Time allowed for sending a command and receiving its reply.
  std::chrono::milliseconds command_timeout{2000};

  /// "host:port", for messages.
  std::string endpoint() const;
};

/// A failure to talk to the server (not a server error reply).
struct redis_error {
  enum class kind {
    /// Connecting failed (refused, unreachable, AUTH or SELECT rejected).
    connect,
    /// No reply within the command timeout (or connect timeout).
    timeout,
    /// Reading or writing failed, or the server closed the connection.
    io,
    /// The server sent something hiredis could not parse.
    protocol,
    /// Anything else hiredis reports.
    other,
  };
  kind what = kind::other;
  std::string message;
  /// "host:port" of the server.
  std::string endpoint;

  /// "redis 127.0.0.1:6379: timeout: Resource temporarily unavailable"
  std::string to_string() const;
};

/// One reply of the Redis protocol (RESP2).
struct redis_reply {
  enum class kind { nil, integer, string, array, status, error };
  kind type = kind::nil;
  /// The value of an integer reply.
  long long integer = 0;
  /// The bytes of a string, status or error reply.
  std::string str;
  /// The elements of an array reply.
  std::vector<redis_reply> elements;

  bool is_nil() const { return type == kind::nil; }
  bool is_error() const { return type == kind::error; }
  /// A status reply equal to `expected`, e.g. is_status("OK").
  bool is_status(std::string_view expected) const {
    return type == kind::status && str == expected;
  }
  /// A server error reply whose code (first word) is `code`, e.g. "NOSCRIPT".
  bool is_error(std::string_view code) const;
};

/// Either a value or a redis_error.
template <class T> using redis_expected = expected<T, redis_error>;

/// An open (or broken, to be reopened on the next call) connection.
/// Move-only; closes on destruction.
class redis_connection {
public:
  /// Connects, then AUTH and SELECT as configured. Blocks up to the connect
  /// timeout plus the command timeout per step.
  static redis_expected<redis_connection> connect(redis_config config);

  redis_connection(redis_connection&& other) noexcept;
  redis_connection& operator=(redis_connection&& other) noexcept;
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;
  ~redis_connection();

  // -- commands --------------------------------------------------------------

  /// Sends one command, e.g. {"SET", key, value}, and waits for its reply.
  /// Reconnects first if the connection is broken.
  redis_expected<redis_reply> command(const std::vector<std::string_view>& argv);
  redis_expected<redis_reply> command(std::initializer_list<std::string_view> argv) {
    return command(std::vector<std::string_view>(argv));
  }

  // -- Lua scripts -----------------------------------------------------------

  /// EVAL `script` with KEYS and ARGV.
  redis_expected<redis_reply> eval(std::string_view script,
                                   const std::vector<std::string_view>& keys,
                                   const std::vector<std::string_view>& args);

  /// EVALSHA of a script loaded earlier (a NOSCRIPT error reply if unknown).
  redis_expected<redis_reply> evalsha(std::string_view sha1,
                                      const std::vector<std::string_view>& keys,
                                      const std::vector<std::string_view>& args);

  /// SCRIPT LOAD; returns the script's SHA1, or a redis_error of kind `other`
  /// carrying the server's error (e.g. a syntax error in the script).
  redis_expected<std::string> script_load(std::string_view script);

  /// Runs `script` by EVALSHA, loading it on first use and again when the
  /// server has forgotten it (NOSCRIPT after a restart or SCRIPT FLUSH). The
  /// SHA1 is cached in this connection, keyed by the script text.
  redis_expected<redis_reply> eval_cached(const std::string& script,
                                          const std::vector<std::string_view>& keys,
                                          const std::vector<std::string_view>& args);

  // -- connection ------------------------------------------------------------

  /// Subscriber mode (after command({"SUBSCRIBE", channel})): the next message the
  /// server pushes, waiting at most `timeout`; nullopt when none came in time (the
  /// connection stays usable). A transport error breaks the connection: the
  /// caller reconnects and subscribes again.
  redis_expected<std::optional<redis_reply>>
  next_message(std::chrono::milliseconds timeout);

  /// Drops the current connection and opens a new one (AUTH, SELECT).
  redis_expected<bool> reconnect();

  /// False after a transport error, until the next call reconnects.
  bool connected() const;

  const redis_config& config() const { return config_; }
  std::string endpoint() const { return config_.endpoint(); }

private:
  explicit redis_connection(redis_config config);
  redis_expected<redis_reply> send(const std::vector<std::string_view>& argv);
  redis_expected<redis_reply> script_call(std::string_view verb, std::string_view body,
                                          const std::vector<std::string_view>& keys,
                                          const std::vector<std::string_view>& args);

  redis_config config_;
  // Null when never connected or after a failed reconnect.
  redisContext* ctx_ = nullptr;
  // Script text -> SHA1 as returned by SCRIPT LOAD.
  std::unordered_map<std::string, std::string> script_shas_;
};

} // namespace shoal

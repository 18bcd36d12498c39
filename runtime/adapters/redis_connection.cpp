#include "runtime/adapters/redis_connection.hpp"

#include <cerrno>
#include <hiredis.h>
#include <poll.h>
#include <sys/time.h>

namespace shoal {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  if (ms.count() <= 0)
    ms = std::chrono::milliseconds{1};
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

redis_reply convert(const redisReply* r) {
  redis_reply out;
  switch (r->type) {
  case REDIS_REPLY_STRING:
    out.type = redis_reply::kind::string;
    out.str.assign(r->str, r->len);
    break;
  case REDIS_REPLY_STATUS:
    out.type = redis_reply::kind::status;
    out.str.assign(r->str, r->len);
    break;
  case REDIS_REPLY_ERROR:
    out.type = redis_reply::kind::error;
    out.str.assign(r->str, r->len);
    break;
  case REDIS_REPLY_INTEGER:
    out.type = redis_reply::kind::integer;
    out.integer = r->integer;
    break;
  case REDIS_REPLY_ARRAY:
    out.type = redis_reply::kind::array;
    out.elements.reserve(r->elements);
    for (size_t i = 0; i < r->elements; ++i)
      out.elements.push_back(convert(r->element[i]));
    break;
  default:
    out.type = redis_reply::kind::nil;
  }
  return out;
}

// hiredis reports a timed-out read or write as an I/O error with errno EAGAIN.
bool is_timeout(int saved_errno, std::string_view message) {
  return saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ||
         saved_errno == ETIMEDOUT ||
         message.find("timed out") != std::string_view::npos ||
         message.find("temporarily unavailable") != std::string_view::npos;
}

redis_error context_error(const redisContext* ctx, int saved_errno, std::string endpoint,
                          bool connecting) {
  redis_error error;
  error.endpoint = std::move(endpoint);
  error.message = ctx != nullptr ? ctx->errstr : "cannot allocate redis context";
  if (is_timeout(saved_errno, error.message))
    error.what = redis_error::kind::timeout;
  else if (connecting)
    error.what = redis_error::kind::connect;
  else if (ctx != nullptr && (ctx->err == REDIS_ERR_IO || ctx->err == REDIS_ERR_EOF))
    error.what = redis_error::kind::io;
  else if (ctx != nullptr && ctx->err == REDIS_ERR_PROTOCOL)
    error.what = redis_error::kind::protocol;
  return error;
}

} // namespace

std::string redis_config::endpoint() const {
  return host + ":" + std::to_string(port);
}

std::string redis_error::to_string() const {
  const char* what_name = "error";
  switch (what) {
  case kind::connect:
    what_name = "connect";
    break;
  case kind::timeout:
    what_name = "timeout";
    break;
  case kind::io:
    what_name = "i/o error";
    break;
  case kind::protocol:
    what_name = "protocol error";
    break;
  case kind::other:
    what_name = "error";
    break;
  }
  return "redis " + endpoint + ": " + what_name + ": " + message;
}

bool redis_reply::is_error(std::string_view code) const {
  if (type != kind::error || str.compare(0, code.size(), code) != 0)
    return false;
  return str.size() == code.size() || str[code.size()] == ' ';
}

redis_connection::redis_connection(redis_config config) : config_(std::move(config)) {}

redis_connection::redis_connection(redis_connection&& other) noexcept
    : config_(std::move(other.config_)), ctx_(std::exchange(other.ctx_, nullptr)),
      script_shas_(std::move(other.script_shas_)) {}

redis_connection& redis_connection::operator=(redis_connection&& other) noexcept {
  if (this != &other) {
    if (ctx_ != nullptr)
      redisFree(ctx_);
    config_ = std::move(other.config_);
    ctx_ = std::exchange(other.ctx_, nullptr);
    script_shas_ = std::move(other.script_shas_);
  }
  return *this;
}

redis_connection::~redis_connection() {
  if (ctx_ != nullptr)
    redisFree(ctx_);
}

redis_expected<redis_connection> redis_connection::connect(redis_config config) {
  redis_connection conn{std::move(config)};
  if (auto ok = conn.reconnect(); !ok)
    return ok.error();
  return conn;
}

bool redis_connection::connected() const {
  return ctx_ != nullptr && ctx_->err == 0;
}

redis_expected<bool> redis_connection::reconnect() {
  if (ctx_ != nullptr) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  errno = 0;
  redisContext* ctx = redisConnectWithTimeout(config_.host.c_str(), config_.port,
                                              to_timeval(config_.connect_timeout));
  if (ctx == nullptr || ctx->err != 0) {
    auto error = context_error(ctx, errno, endpoint(), true);
    if (ctx != nullptr)
      redisFree(ctx);
    return error;
  }
  if (redisSetTimeout(ctx, to_timeval(config_.command_timeout)) != REDIS_OK) {
    auto error = context_error(ctx, errno, endpoint(), true);
    redisFree(ctx);
    return error;
  }
  redisEnableKeepAlive(ctx);
  ctx_ = ctx;
  auto handshake = [this](const std::vector<std::string_view>& argv,
                          std::string_view step) -> redis_expected<bool> {
    auto reply = send(argv);
    if (!reply)
      return reply.error();
    if (reply->is_error()) {
      redisFree(ctx_);
      ctx_ = nullptr;
      return redis_error{redis_error::kind::connect,
                         std::string{step} + " rejected: " + reply->str, endpoint()};
    }
    return true;
  };
  if (!config_.password.empty()) {
    auto auth = config_.username.empty()
                    ? handshake({"AUTH", config_.password}, "AUTH")
                    : handshake({"AUTH", config_.username, config_.password}, "AUTH");
    if (!auth)
      return auth;
  }
  if (config_.db != 0) {
    auto db = std::to_string(config_.db);
    if (auto selected = handshake({"SELECT", db}, "SELECT " + db); !selected)
      return selected;
  }
  return true;
}

redis_expected<redis_reply>
redis_connection::send(const std::vector<std::string_view>& argv) {
  std::vector<const char*> data;
  std::vector<size_t> lengths;
  data.reserve(argv.size());
  lengths.reserve(argv.size());
  for (auto arg : argv) {
    data.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  errno = 0;
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), data.data(), lengths.data()));
  if (raw == nullptr) {
    auto error = context_error(ctx_, errno, endpoint(), false);
    // A broken context can never be used again: the reply may still arrive.
    redisFree(ctx_);
    ctx_ = nullptr;
    return error;
  }
  auto reply = convert(raw);
  freeReplyObject(raw);
  return reply;
}

redis_expected<redis_reply>
redis_connection::command(const std::vector<std::string_view>& argv) {
  if (argv.empty())
    return redis_error{redis_error::kind::other, "empty command", endpoint()};
  if (!connected())
    if (auto ok = reconnect(); !ok)
      return ok.error();
  return send(argv);
}

redis_expected<redis_reply>
redis_connection::script_call(std::string_view verb, std::string_view body,
                              const std::vector<std::string_view>& keys,
                              const std::vector<std::string_view>& args) {
  auto numkeys = std::to_string(keys.size());
  std::vector<std::string_view> argv{verb, body, numkeys};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return command(argv);
}

redis_expected<redis_reply>
redis_connection::eval(std::string_view script, const std::vector<std::string_view>& keys,
                       const std::vector<std::string_view>& args) {
  return script_call("EVAL", script, keys, args);
}

redis_expected<redis_reply>
redis_connection::evalsha(std::string_view sha1,
                          const std::vector<std::string_view>& keys,
                          const std::vector<std::string_view>& args) {
  return script_call("EVALSHA", sha1, keys, args);
}

redis_expected<std::string> redis_connection::script_load(std::string_view script) {
  auto reply = command({"SCRIPT", "LOAD", script});
  if (!reply)
    return reply.error();
  if (reply->type != redis_reply::kind::string)
    return redis_error{redis_error::kind::other, "SCRIPT LOAD failed: " + reply->str,
                       endpoint()};
  return std::move(reply->str);
}

redis_expected<redis_reply>
redis_connection::eval_cached(const std::string& script,
                              const std::vector<std::string_view>& keys,
                              const std::vector<std::string_view>& args) {
  auto known = script_shas_.find(script);
  if (known != script_shas_.end()) {
    auto reply = evalsha(known->second, keys, args);
    if (!reply || !reply->is_error("NOSCRIPT"))
      return reply;
  }
  auto sha = script_load(script);
  if (!sha)
    return sha.error();
  script_shas_[script] = *sha;
  return evalsha(*sha, keys, args);
}

redis_expected<std::optional<redis_reply>>
redis_connection::next_message(std::chrono::milliseconds timeout) {
  if (!connected())
    return redis_error{redis_error::kind::io, "not connected (subscribe again)",
                       endpoint()};
  auto take = [this](void* raw) {
    auto reply = convert(static_cast<redisReply*>(raw));
    freeReplyObject(raw);
    return std::optional<redis_reply>{std::move(reply)};
  };
  // A message may already sit in hiredis' buffer; only then wait on the socket, so
  // that a quiet channel is not a read timeout (which would break the context).
  void* raw = nullptr;
  if (redisGetReplyFromReader(ctx_, &raw) != REDIS_OK) {
    auto error = context_error(ctx_, errno, endpoint(), false);
    redisFree(ctx_);
    ctx_ = nullptr;
    return error;
  }
  if (raw != nullptr)
    return take(raw);
  pollfd pfd{ctx_->fd, POLLIN, 0};
  int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (ready == 0 || (ready < 0 && errno == EINTR))
    return std::optional<redis_reply>{};
  errno = 0;
  if (ready < 0 || redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
    auto error = context_error(ctx_, errno, endpoint(), false);
    redisFree(ctx_);
    ctx_ = nullptr;
    return error;
  }
  return take(raw);
}

} // namespace shoal

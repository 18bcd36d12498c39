#include "runtime/logging.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace shoal {

namespace {

std::shared_mutex secrets_mutex;
std::vector<std::string> secrets;

/// Formats each record itself (text or JSON), redacts it, then hands it on.
class redacting_sink : public spdlog::sinks::base_sink<std::mutex> {
public:
  redacting_sink(std::FILE* out, bool json, std::string node, bool owns,
                 std::string path = {})
      : out_(out), json_(json), node_(std::move(node)), owns_(owns),
        path_(std::move(path)) {}

  ~redacting_sink() override {
    if (owns_)
      std::fclose(out_);
  }

  /// Opens path_ again and writes there from now on; the old file stays in use
  /// when it cannot be opened.
  std::optional<std::string> reopen() {
    if (path_.empty() || !owns_)
      return std::nullopt;
    std::lock_guard<std::mutex> guard{mutex_};
    auto* fresh = std::fopen(path_.c_str(), "a");
    if (fresh == nullptr)
      return "cannot open log file " + path_ + ": " + std::strerror(errno);
    std::fflush(out_);
    std::fclose(out_);
    out_ = fresh;
    return std::nullopt;
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    auto t = std::chrono::system_clock::to_time_t(msg.time);
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch())
            .count() %
        1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[96];
    std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                  tm.tm_sec, static_cast<int>(ms));
    auto level = spdlog::level::to_string_view(msg.level);
    std::string text{msg.payload.data(), msg.payload.size()};
    std::string line;
    if (json_) {
      nlohmann::json j{{"ts", stamp},
                       {"level", std::string{level.data(), level.size()}},
                       {"node", node_},
                       {"msg", text}};
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      line = std::string{stamp} + " " + std::string{level.data(), level.size()} + " [" +
             node_ + "] " + text;
    }
    line = redact(std::move(line));
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), out_);
    // Info and above reach the file at once: they are few (starts, DDL,
    // reconnects, stops) and are what a kill -9 must not take with it.
    if (msg.level >= spdlog::level::info)
      std::fflush(out_);
  }

  void flush_() override { std::fflush(out_); }

private:
  std::FILE* out_;
  bool json_;
  std::string node_;
  bool owns_;
  std::string path_;
};

std::shared_ptr<spdlog::logger> make_logger(std::FILE* out, bool json, std::string node,
                                            bool owns, std::string path = {}) {
  auto sink =
      std::make_shared<redacting_sink>(out, json, std::move(node), owns, std::move(path));
  auto logger = std::make_shared<spdlog::logger>("shoal", sink);
  logger->flush_on(spdlog::level::info);
  return logger;
}

std::mutex logger_mutex;
std::shared_ptr<spdlog::logger> current = make_logger(stderr, false, "-", false);

} // namespace

spdlog::logger& log() {
  std::lock_guard<std::mutex> guard{logger_mutex};
  return *current;
}

std::optional<std::string> configure_logging(const log_config& cfg,
                                             const std::string& node) {
  std::FILE* out = stderr;
  bool owns = false;
  if (!cfg.file.empty()) {
    out = std::fopen(cfg.file.c_str(), "a");
    if (out == nullptr)
      return "cannot open log file " + cfg.file;
    owns = true;
  }
  auto logger = make_logger(out, cfg.format == "json", node, owns, cfg.file);
  logger->set_level(spdlog::level::from_str(cfg.level));
  std::lock_guard<std::mutex> guard{logger_mutex};
  // Loggers handed out earlier stay alive through their shared owners; this one
  // is kept until the next configure_logging.
  static std::vector<std::shared_ptr<spdlog::logger>> retired;
  retired.push_back(current);
  current = std::move(logger);
  return std::nullopt;
}

std::optional<std::string> reopen_log_file() {
  std::shared_ptr<spdlog::logger> logger;
  {
    std::lock_guard<std::mutex> guard{logger_mutex};
    logger = current;
  }
  for (auto& sink : logger->sinks())
    if (auto r = std::dynamic_pointer_cast<redacting_sink>(sink))
      if (auto err = r->reopen())
        return err;
  return std::nullopt;
}

void add_secret(const std::string& value) {
  if (value.size() < 4)
    return;
  std::unique_lock<std::shared_mutex> guard{secrets_mutex};
  for (auto& s : secrets)
    if (s == value)
      return;
  secrets.push_back(value);
}

void add_secrets_of(const config& cfg) {
  auto add = [](const std::string& env) {
    if (auto v = secret_from_env(env))
      add_secret(*v);
  };
  add(cfg.tls.passphrase_env);
  add(cfg.http.tls.passphrase_env);
  if (cfg.redis)
    add(cfg.redis->password_env);
  for (auto& [_, m] : cfg.mysql)
    add(m.password_env);
  for (auto& p : cfg.sync.pipelines) {
    add(p.source.password_env);
    add(p.target.password_env);
  }
  for (auto& p : cfg.tokens.providers)
    if (p.is_object())
      for (auto& [key, value] : p.items())
        if (key.size() > 4 && key.substr(key.size() - 4) == "_env" && value.is_string())
          add(value.get<std::string>());
}

std::string redact(std::string text) {
  std::shared_lock<std::shared_mutex> guard{secrets_mutex};
  for (auto& s : secrets) {
    size_t pos = 0;
    while ((pos = text.find(s, pos)) != std::string::npos) {
      text.replace(pos, s.size(), "***");
      pos += 3;
    }
  }
  return text;
}

} // namespace shoal

// Structured logging for a shoal process, on spdlog.
//
// One logger per process (`shoal::log()`), configured from the config's `log`
// section: level, destination (stderr or a file) and format (text or one JSON
// object per line). Every line passes through a redactor that replaces the
// value of every secret the process knows (passwords, app secrets, passphrases
// read from the environment) with `***`, so a secret that slips into a message
// (an error string from a client library, a URL) never reaches the log.
//
// Thread-safe: log from any thread, including actors.

#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "runtime/config.hpp"

namespace shoal {

/// The process's logger; logs to stderr at info until configure_logging() runs.
spdlog::logger& log();

/// Applies `cfg` (level, file, format) to the process's logger; `node` is added
/// to JSON lines. Returns an error message if the log file cannot be opened.
std::optional<std::string> configure_logging(const log_config& cfg,
                                             const std::string& node);

/// Closes and opens again the log file configure_logging() opened (after a log
/// rotation moved it: `logrotate` then SIGUSR1). Lines go on to the old file if the
/// path cannot be opened; returns that error. Nothing to do when logging to stderr.
std::optional<std::string> reopen_log_file();

/// From now on, every log line has `value` replaced by `***`. Values shorter than
/// 4 characters are ignored (they would mask ordinary words).
void add_secret(const std::string& value);

/// Registers the values of every environment variable that `cfg` names as
/// holding a secret.
void add_secrets_of(const config& cfg);

/// `text` with every known secret replaced by `***`.
std::string redact(std::string text);

} // namespace shoal

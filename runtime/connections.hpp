// connections: the client settings of the config's servers, with their passwords
// read from the environment variables the config names.
//
//   auto conn = mysql_connection::connect(to_mysql_config(cfg.mysql.at("main")));
//   auto redis = redis_connection::connect(to_redis_config(*cfg.redis));
#pragma once

#include <algorithm>
#include <chrono>

#include "runtime/adapters/mysql_connection.hpp"
#include "runtime/adapters/redis_connection.hpp"
#include "runtime/config.hpp"

namespace shoal {

/// A mysql_config for a server of the config. The library's timeouts are whole
/// seconds: milliseconds round up, to at least one second.
inline mysql_config to_mysql_config(const mysql_settings& s) {
  mysql_config c;
  c.host = s.address.host;
  c.port = s.address.port;
  c.user = s.user;
  if (auto pw = secret_from_env(s.password_env))
    c.password = *pw;
  auto secs = [](int64_t ms) {
    return std::chrono::seconds{std::max<int64_t>(1, (ms + 999) / 1000)};
  };
  c.connect_timeout = secs(s.connect_timeout_ms);
  c.read_timeout = secs(s.read_timeout_ms);
  c.write_timeout = secs(s.read_timeout_ms);
  return c;
}

/// A redis_config for the config's Redis; timeout_ms bounds connect and commands.
inline redis_config to_redis_config(const redis_settings& r) {
  redis_config out;
  out.host = r.address.host;
  out.port = r.address.port;
  if (auto pw = secret_from_env(r.password_env))
    out.password = *pw;
  out.db = static_cast<int>(r.db);
  out.connect_timeout = std::chrono::milliseconds{r.timeout_ms};
  out.command_timeout = std::chrono::milliseconds{r.timeout_ms};
  return out;
}

} // namespace shoal

// pipeline_json: a `sync.pipelines[]` entry of a node config for tests, from one
// test MariaDB to another, the password read from SHOAL_TEST_MYSQL_PW (start the
// node with that variable set to source.password()).
//
//   json cfg{{"sync", {{"pipelines", json::array({pipeline_json(
//       "shop", 901, source(), target(), {{"partitions", 2}, {"start", "current"}})})}}}};

#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/mariadb_server.hpp"

namespace shoal::test {

/// Pipeline `name` from `source` (as replica `server_id`) to `target`, with the
/// keys of `extra` (an object) added or replacing the defaults.
inline nlohmann::json
pipeline_json(const std::string& name, uint32_t server_id, const mariadb_server& source,
              const mariadb_server& target,
              const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json p{
      {"name", name},
      {"source",
       {{"port", source.port()},
        {"password_env", "SHOAL_TEST_MYSQL_PW"},
        {"server_id", server_id}}},
      {"target", {{"port", target.port()}, {"password_env", "SHOAL_TEST_MYSQL_PW"}}}};
  p.update(extra);
  return p;
}

} // namespace shoal::test

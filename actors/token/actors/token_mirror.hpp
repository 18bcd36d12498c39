// token_mirror: an optional copy of each provider's token record in a MySQL table,
// for when Redis is down or comes back empty.
//
//   CREATE TABLE shoal.token_mirror (
//     provider       VARCHAR(64) PRIMARY KEY,
//     token          TEXT NOT NULL,
//     obtained_at_ms BIGINT NOT NULL,
//     expires_at_ms  BIGINT NOT NULL,
//     version        BIGINT UNSIGNED NOT NULL,
//     written_by     VARCHAR(128) NOT NULL)
//
// The keeper writes every token it adopts; a row only ever moves to a higher
// version (an upsert whose update keeps the row unless the version grows), so an
// old keeper cannot move the mirror backwards either. Keepers read it when they
// start: a node that starts while Redis is down serves the last known good token,
// and a keeper that finds Redis empty writes the mirrored token back instead of
// spending an upstream call. Redis stays the source of truth for the lease and the
// compare-and-set; the mirror is a best-effort second copy (the scenario's "usually
// not worth a double write", so it is off unless configured).
//
// Blocking: use it from a detached actor only. Reconnects on the next call after
// a lost connection. Not thread-safe.

#pragma once

#include <optional>
#include <string>

#include "actors/token/core/token_state.hpp"
#include "runtime/adapters/mysql_connection.hpp"

namespace shoal::token {

class token_mirror {
public:
  /// The mirror in `table` ("db.table"; created with its database if missing).
  token_mirror(mysql_config server, std::string table);

  /// Writes `record` of `provider` unless the row already has a version as high.
  mysql_expected<bool> write(const std::string& provider, const token_record& record,
                             const std::string& written_by);

  /// The mirrored record of `provider`; nullopt when there is none.
  mysql_expected<std::optional<token_record>> read(const std::string& provider);

  const std::string& table() const { return table_; }

private:
  mysql_expected<mysql_connection*> connection();

  mysql_config server_;
  std::string table_;
  std::string quoted_table_;
  std::optional<mysql_connection> conn_;
};

} // namespace shoal::token

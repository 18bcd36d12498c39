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
// The same server also holds each provider's fallback lease, for when Redis cannot
// be reached (see token_keeper.hpp):
//
//   CREATE TABLE shoal.token_mirror_lease (        -- the mirror's table + "_lease"
//     provider VARCHAR(64) PRIMARY KEY,
//     owner    VARCHAR(128) NOT NULL,              -- '' when free
//     until_ms BIGINT NOT NULL)                    -- the MySQL server's clock
//
// A keeper takes it by a conditional UPDATE (owner is this keeper, or the lease ran
// out by the server's clock), so the lease is timed by one clock, whatever the
// nodes' clocks say.
//
// Blocking: use it from a detached actor only. Reconnects on the next call after
// a lost connection. Not thread-safe.

#pragma once

#include <chrono>
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

  /// Takes or extends `provider`'s fallback lease for `owner`, for `lease` from now
  /// on the MySQL server's clock. True when `owner` holds it; false when another
  /// owner does and its lease has not run out.
  mysql_expected<bool> take_lease(const std::string& provider, const std::string& owner,
                                  std::chrono::milliseconds lease);

  /// Gives `provider`'s fallback lease up if `owner` holds it; true when it did.
  mysql_expected<bool> release_lease(const std::string& provider,
                                     const std::string& owner);

  const std::string& table() const { return table_; }

private:
  mysql_expected<mysql_connection*> connection();

  mysql_config server_;
  std::string table_;
  std::string quoted_table_;
  std::string quoted_lease_table_;
  std::optional<mysql_connection> conn_;
};

} // namespace shoal::token

// token_store: a provider's keeper lease and token record in Redis.
//
//   shoal:token:{P}:lease   string  owner id, PX lease     SET NX PX to take it,
//                                                          renewed only by its owner
//   shoal:token:{P}:record  hash    token, obtained_at_ms, expires_at_ms, version
//   shoal:token:{P}:calls:D integer upstream calls on UTC day D, by every keeper
//                                   of the cluster (expires after two days)
//   shoal:token:{P}:verify_ticket   hash  ticket, received_at_ms: the newest
//                                   component_verify_ticket pushed to the cluster
//                                   (kind component; expires 12 h after receipt,
//                                   as the ticket does at the platform)
//
//   plain key (optional, e.g. wx:access_token:APPID)  string  the bare token,
//                                   PX = expires_at - now - margin: what WxJava's
//                                   WxMpRedisConfigImpl and similar clients read
//
// The record is only written by a Lua script that checks, atomically, that the
// writer still owns the lease and that the stored version is the one the writer
// last saw (compare-and-set). A keeper that lost its lease mid-refresh therefore
// cannot overwrite a newer token (fencing), and versions only ever grow. The plain
// key is written by the same script, so it is fenced the same way and never holds a
// token older than the record's. It lives outside the {P} hash tag: on a Redis
// Cluster the script would need both in one slot, so shoal talks to one Redis (or a
// primary with replicas), as it does everywhere.
//
// Blocking (every call waits for Redis up to the configured timeouts): use it from
// the keeper's detached store worker only. Reconnects on the next call after a
// transport error. Not thread-safe.

#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "actors/token/core/token_state.hpp"
#include "runtime/adapters/redis_connection.hpp"

namespace shoal::token {

/// What a compare-and-set write did.
enum class cas_outcome {
  written,
  /// The stored version differs from the expected one (someone wrote first).
  version_conflict,
  /// The writer does not hold the lease (any more).
  not_owner,
};

class token_store {
public:
  /// The store of `provider`; `owner` identifies this keeper in the lease.
  /// `plain_key`, when not empty, also receives the bare token on every write,
  /// expiring `plain_key_margin` before the token does.
  token_store(redis_config redis, std::string provider, std::string owner,
              std::chrono::milliseconds lease, std::string plain_key = {},
              std::chrono::milliseconds plain_key_margin = std::chrono::milliseconds{0});

  /// Takes the lease if nobody holds it (SET NX PX). True when this owner holds it.
  redis_expected<bool> acquire_lease();

  /// Extends the lease if this owner still holds it; false when it does not.
  redis_expected<bool> renew_lease();

  /// Gives the lease up if this owner holds it.
  redis_expected<bool> release_lease();

  /// The stored record; nullopt when there is none.
  redis_expected<std::optional<token_record>> read();

  /// Writes `record` if this owner holds the lease and the stored version equals
  /// `expected_version` (0: no record), and record.version is higher.
  redis_expected<cas_outcome> write(const token_record& record,
                                    uint64_t expected_version);

  /// Counts one upstream call against the cluster's quota for UTC day `day`:
  /// returns the day's count including this call, or minus the count when `limit`
  /// calls were already made that day (nothing counted). limit <= 0: no limit.
  redis_expected<int64_t> consume_quota(int64_t day, int64_t limit);

  /// Records that the platform said the day's quota is used up (45009): the day's
  /// count becomes at least `limit`, so keepers elsewhere stop too.
  redis_expected<bool> exhaust_quota(int64_t day, int64_t limit);

  /// Stores a component_verify_ticket received at `received_at_ms` unless a newer
  /// one is stored already; true when stored. Needs no lease: any node receives
  /// pushes.
  redis_expected<bool> put_verify_ticket(const std::string& ticket,
                                         int64_t received_at_ms);

  /// The newest stored component_verify_ticket; empty when none (or expired).
  redis_expected<std::string> read_verify_ticket();

  const std::string& owner() const { return owner_; }

private:
  redis_expected<redis_connection*> connection();

  redis_config redis_;
  std::optional<redis_connection> conn_;
  std::string lease_key_;
  std::string record_key_;
  std::string calls_prefix_;
  std::string verify_ticket_key_;
  std::string plain_key_;
  std::string plain_key_margin_ms_;
  std::string owner_;
  std::string lease_ms_;
};

/// Milliseconds since the epoch of `t`, and back.
int64_t to_epoch_ms(time_point t);
time_point from_epoch_ms(int64_t ms);

} // namespace shoal::token

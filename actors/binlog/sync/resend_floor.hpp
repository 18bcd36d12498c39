// resend_floor: the key at or below which the reader hands nothing on again.
//
//   resend_floor floor{lowest_checkpoint};   // after a restart
//   if (floor.covers(key)) skip;             // applied before: do not resend
//   floor.raise(last_handed);                // after a source reconnect
//
// After a restart the floor is the lowest partition checkpoint; after a source
// reconnect, the last change handed on (that change and everything before it
// were sent once already). It only ever moves forward: a reconnect before
// anything new was handed on keeps it where it was, so a barrier (a primary
// key change, applied by the reader itself) below it is never applied twice.
// Pure logic.
#pragma once

#include <optional>

#include "actors/binlog/decoder/binlog_position.hpp"

namespace shoal::binlog {

class resend_floor {
public:
  resend_floor() = default;
  explicit resend_floor(std::optional<change_key> at) : at_(std::move(at)) {}

  /// True when the change `key` was handed on before (or applied everywhere).
  bool covers(const change_key& key) const { return at_ && key <= *at_; }

  /// Moves the floor up to `key`; a lower or empty key leaves it.
  void raise(const std::optional<change_key>& key) {
    if (key && (!at_ || *at_ < *key))
      at_ = key;
  }

  const std::optional<change_key>& at() const { return at_; }

private:
  // Nullopt: nothing to skip (a first start).
  std::optional<change_key> at_;
};

} // namespace shoal::binlog

// token_board: the tokens of every provider on this node, readable by any thread
// without a lock or a message.
//
//   token_board board({"wx", "idp"});
//   auto slot = board.slot_of("wx");                  // once; -1 when unknown
//   if (auto* t = board.current(slot); t && clock::now() < t->usable_until) use(t->token);
//
// Each provider has one atomically swapped pointer to an immutable snapshot. The
// token cache actor is the only writer (publish()); readers do one acquire load.
// A published snapshot is never freed or changed while the board lives, so a
// pointer a reader got stays valid until the board is destroyed. That costs one
// snapshot per refresh (a few dozen a day per provider) and no reclamation scheme.

#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "actors/token/core/refresh_policy.hpp"

namespace shoal::token {

/// One token as this node serves it. Immutable once published.
struct token_snapshot {
  std::string provider;
  std::string token;
  time_point obtained_at;
  time_point expires_at;
  /// From here on the token is served although it should have been replaced
  /// (its mandatory refresh window has started): counted as stale-served.
  time_point stale_after;
  /// The token is handed out only before this point (its hand-out margin,
  /// refresh_policy_config::handout_margin, starts here); then callers wait for
  /// the new one. Before expires_at.
  time_point usable_until;
  uint64_t version = 0;
  /// The node whose keeper adopted it.
  std::string keeper_node;
};

class token_board {
public:
  explicit token_board(std::vector<std::string> providers);

  token_board(const token_board&) = delete;
  token_board& operator=(const token_board&) = delete;

  /// The slot of `provider`, or -1 when the board does not know it. Lock-free.
  int slot_of(std::string_view provider) const;

  /// The provider names, in slot order.
  std::vector<std::string> providers() const;

  /// The newest snapshot of slot `slot` (null before the first). Lock-free.
  const token_snapshot* current(int slot) const {
    return slots_[static_cast<size_t>(slot)].now.load(std::memory_order_acquire);
  }

  /// Makes `snapshot` current when its provider is known and its version is higher
  /// than the current one; returns whether it did. Thread-safe.
  bool publish(token_snapshot snapshot);

private:
  struct slot {
    std::string provider;
    std::atomic<const token_snapshot*> now{nullptr};
    /// Every snapshot ever published to this slot: readers may still hold them.
    std::vector<std::unique_ptr<const token_snapshot>> kept;
  };

  std::mutex write_mutex_;
  std::unique_ptr<slot[]> slots_;
  size_t size_ = 0;
};

} // namespace shoal::token

// rule_book: the rules in force on a node, shared by its shard, cache actor and
// readers, replaced as a whole when newer rules arrive (reload, or a peer's push).
//
//   auto set = book.current();               // any thread
//   if (auto* rule = set->matcher.match(key)) ...
//   book.offer(version, *parse_rules(json), json.dump());
//
// A rule set carries a version (0 for the config's rules, the reload's wall-clock ms
// after that); offer() keeps the newest. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/hotkey/core/rule_matcher.hpp"

namespace shoal::hotkey {

/// One immutable version of the rules.
struct rule_set {
  rule_set(uint64_t v, std::vector<hotkey_rule> rules, std::string j)
      : version(v), matcher(std::move(rules)), json(std::move(j)) {}
  /// Newer sets have larger versions.
  uint64_t version;
  rule_matcher matcher;
  /// The rules as a JSON array (what travels between nodes).
  std::string json;
};

/// The current rule_set of a node. Thread-safe.
class rule_book {
public:
  /// Starts with `initial`.
  explicit rule_book(std::shared_ptr<const rule_set> initial)
      : current_(std::move(initial)) {}

  /// The rules in force now; stays valid as long as the caller holds it.
  std::shared_ptr<const rule_set> current() const {
    std::lock_guard<std::mutex> guard{lock_};
    return current_;
  }

  /// Installs `next` if its version is newer than the current one; true if it did.
  bool offer(std::shared_ptr<const rule_set> next) {
    std::lock_guard<std::mutex> guard{lock_};
    if (current_ && next->version <= current_->version)
      return false;
    current_ = std::move(next);
    if (listener_)
      listener_(current_);
    return true;
  }

  /// Calls `listener` with every rule set offer() installs from now on, in version
  /// order (under the book's lock: it must not call back into the book).
  void on_change(std::function<void(const std::shared_ptr<const rule_set>&)> listener) {
    std::lock_guard<std::mutex> guard{lock_};
    listener_ = std::move(listener);
  }

private:
  mutable std::mutex lock_;
  /// Never null.
  std::shared_ptr<const rule_set> current_;
  std::function<void(const std::shared_ptr<const rule_set>&)> listener_;
};

} // namespace shoal::hotkey

#include "actors/hotkey/actors/peer_book.hpp"

namespace shoal::hotkey {

void peer_book::set_cache(const std::string& node, caf::actor cache) {
  std::lock_guard<std::mutex> guard{lock_};
  auto& e = nodes_[node];
  e.cache = std::move(cache);
  if (!e.cache && !e.shard)
    nodes_.erase(node);
}

void peer_book::set_shard(const std::string& node, caf::actor shard) {
  std::lock_guard<std::mutex> guard{lock_};
  auto& e = nodes_[node];
  e.shard = std::move(shard);
  if (!e.cache && !e.shard)
    nodes_.erase(node);
}

void peer_book::erase(const std::string& node) {
  std::lock_guard<std::mutex> guard{lock_};
  nodes_.erase(node);
}

std::vector<std::string> peer_book::shard_nodes() const {
  std::lock_guard<std::mutex> guard{lock_};
  std::vector<std::string> result;
  for (auto& [name, e] : nodes_)
    if (e.shard)
      result.push_back(name);
  return result;
}

caf::actor peer_book::shard_of(const std::string& node) const {
  std::lock_guard<std::mutex> guard{lock_};
  auto i = nodes_.find(node);
  return i == nodes_.end() ? caf::actor{} : i->second.shard;
}

std::vector<caf::actor> peer_book::caches() const {
  std::lock_guard<std::mutex> guard{lock_};
  std::vector<caf::actor> result;
  for (auto& [_, e] : nodes_)
    if (e.cache)
      result.push_back(e.cache);
  return result;
}

std::vector<std::string> peer_book::cache_nodes() const {
  std::lock_guard<std::mutex> guard{lock_};
  std::vector<std::string> result;
  for (auto& [name, e] : nodes_)
    if (e.cache)
      result.push_back(name);
  return result;
}

} // namespace shoal::hotkey

#include "actors/token/core/token_board.hpp"

namespace shoal::token {

token_board::token_board(std::vector<std::string> providers)
    : slots_(std::make_unique<slot[]>(providers.size())), size_(providers.size()) {
  for (size_t i = 0; i < size_; ++i)
    slots_[i].provider = std::move(providers[i]);
}

int token_board::slot_of(std::string_view provider) const {
  for (size_t i = 0; i < size_; ++i)
    if (slots_[i].provider == provider)
      return static_cast<int>(i);
  return -1;
}

std::vector<std::string> token_board::providers() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < size_; ++i)
    out.push_back(slots_[i].provider);
  return out;
}

bool token_board::publish(token_snapshot snapshot) {
  auto i = slot_of(snapshot.provider);
  if (i < 0)
    return false;
  std::lock_guard<std::mutex> guard(write_mutex_);
  auto& s = slots_[static_cast<size_t>(i)];
  auto* old = s.now.load(std::memory_order_relaxed);
  if (old && old->version >= snapshot.version)
    return false;
  s.kept.push_back(std::make_unique<const token_snapshot>(std::move(snapshot)));
  s.now.store(s.kept.back().get(), std::memory_order_release);
  return true;
}

} // namespace shoal::token

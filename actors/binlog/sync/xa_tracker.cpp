#include "actors/binlog/sync/xa_tracker.hpp"

#include <algorithm>

namespace shoal::binlog {

void xa_tracker::begin_group(bool mariadb_gtid, bool prepared) {
  flagged_ = mariadb_gtid;
  holding_ = mariadb_gtid && prepared;
  group_rows_.clear();
}

void xa_tracker::on_xa_start() {
  if (!flagged_)
    holding_ = true;
}

bool xa_tracker::on_xa_end(const std::string& xid, const binlog_position& group_start) {
  if (!holding_)
    return false;
  pending_[xid] = prepared{group_start, std::move(group_rows_)};
  group_rows_.clear();
  holding_ = false;
  return true;
}

xa_tracker::commit_result xa_tracker::commit(const std::string& xid, bool one_phase) {
  commit_result r;
  auto held = pending_.find(xid);
  if (held == pending_.end()) {
    r.what =
        one_phase ? commit_result::outcome::nothing : commit_result::outcome::unknown;
    return r;
  }
  r.what = commit_result::outcome::apply;
  r.rows = std::move(held->second.rows);
  r.prepared_at = held->second.at;
  pending_.erase(held);
  return r;
}

bool xa_tracker::rollback(const std::string& xid) {
  return pending_.erase(xid) > 0;
}

void xa_tracker::applying(const binlog_position& prepared_at,
                          const change_key& commit_end) {
  applying_.push_back(committed{prepared_at, commit_end});
}

std::optional<binlog_position> xa_tracker::floor(const change_key& applied_everywhere) {
  applying_.erase(std::remove_if(applying_.begin(), applying_.end(),
                                 [&](const committed& c) {
                                   return !(applied_everywhere < c.commit_end);
                                 }),
                  applying_.end());
  std::optional<binlog_position> low;
  for (auto& [_, p] : pending_)
    if (!low || p.at < *low)
      low = p.at;
  for (auto& c : applying_)
    if (!low || c.prepared_at < *low)
      low = c.prepared_at;
  return low;
}

std::string xa_tracker::xid_of(const std::string& statement, const std::string& prefix) {
  auto id =
      statement.size() > prefix.size() ? statement.substr(prefix.size()) : std::string{};
  while (!id.empty() && (id.back() == ' ' || id.back() == ';'))
    id.pop_back();
  const std::string one_phase = " ONE PHASE";
  if (id.size() > one_phase.size() &&
      id.compare(id.size() - one_phase.size(), one_phase.size(), one_phase) == 0)
    id.resize(id.size() - one_phase.size());
  return id;
}

} // namespace shoal::binlog

#include "actors/binlog/sync/detail/pipeline_state.hpp"

#include "actors/binlog/sync/checkpoint.hpp"
#include "runtime/base/backoff.hpp"

namespace shoal::binlog::detail {

using namespace std::chrono;

size_t session_budget(mysql_connection& conn) {
  auto packet = conn.scalar("SELECT @@max_allowed_packet");
  return statement_budget(packet && *packet ? std::stoull(**packet) : 16u << 20);
}

void pipeline_actor::fail(const std::string& why) {
  st_->record_failure(why);
  stopping_ = true;
  if (!reason_)
    reason_ = caf::make_error(caf::sec::runtime_error, why);
}

void pipeline_actor::pause(milliseconds d) {
  // A receive's timeout counts from the last message, not from its start, so
  // the deadline is kept here.
  auto deadline = steady_clock::now() + d;
  while (!stopping_) {
    auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0)
      return;
    receive_one(left);
  }
}

std::optional<mysql_connection> connect_source(pipeline_actor& a,
                                               const mysql_config& source) {
  auto& st = a.shared();
  backoff delay{milliseconds{100}, milliseconds{2000}};
  bool logged = false;
  while (!a.stopping()) {
    auto conn = mysql_connection::connect(source);
    if (conn)
      return std::move(*conn);
    if (!is_connection_lost(conn.error())) {
      a.fail("source: " + conn.error().to_string());
      return std::nullopt;
    }
    if (!logged)
      st.log(true, "source: " + conn.error().to_string() + " (retrying)");
    logged = true;
    a.pause(delay.next());
  }
  return std::nullopt;
}

std::optional<target_session> open_target(pipeline_actor& a, const std::string& what,
                                          uint64_t epoch) {
  auto& st = a.shared();
  backoff delay{milliseconds{100}, milliseconds{2000}};
  bool logged = false;
  while (!a.stopping()) {
    auto s = target_session::open(st.settings.target, st.identity(epoch));
    if (s)
      return std::move(*s);
    if (!is_connection_lost(s.error())) {
      a.fail(what + ": " + s.error().to_string());
      return std::nullopt;
    }
    if (!logged)
      st.log(true, what + ": " + s.error().to_string() + " (retrying)");
    logged = true;
    a.pause(delay.next());
  }
  return std::nullopt;
}

bool recover_target(pipeline_actor& a, target_session& t, const std::string& what) {
  backoff delay{milliseconds{100}, milliseconds{2000}};
  while (!a.stopping()) {
    a.pause(delay.next());
    if (a.stopping())
      return false;
    auto r = t.recover();
    if (r)
      return true;
    if (!is_connection_lost(r.error())) {
      a.fail(what + ": setting up the target session again: " + r.error().to_string());
      return false;
    }
  }
  return false;
}

/// The statements for `ops`, each at most `budget` bytes; a batch holding a
/// value only a non-strict source can hold (see needs_lenient_mode) runs
/// without strictness.
statement_batch statements_for(const std::vector<row_op>& ops, size_t budget) {
  if (!needs_lenient_mode(ops))
    return build_statements(ops, budget);
  auto prefix = lenient("").size();
  auto batch = build_statements(ops, budget > prefix ? budget - prefix : 1);
  for (auto& sql : batch.statements)
    sql = lenient(sql);
  return batch;
}

/// "file:pos: db.t (key values)" for a row op, for messages.
std::string describe_op(const row_op& op) {
  std::string out = op.key.at.to_string();
  if (!op.table)
    return out;
  out += ": " + op.table->source_db + "." + op.table->source_table;
  auto& image =
      op.kind == op_kind::upsert || op.kind == op_kind::insert ? op.after : op.before;
  std::string key;
  for (auto k : op.table->key) {
    if (k >= image.values.size() || !image.present[k])
      continue;
    if (!key.empty())
      key += ", ";
    key += op.table->columns[k] + "=" + to_string(image.values[k]);
  }
  if (!key.empty())
    out += " (" + key + ")";
  return out;
}

/// After a batch failed with a data error, finds the first op the target
/// rejects by applying the ops one by one in a transaction that is rolled back.
/// Returns "where: the server's message", or the original error when no single
/// op fails.
std::string locate_rejected(target_session& t, const std::vector<row_op>& ops,
                            const mysql_error& original) {
  auto budget = session_budget(t.connection());
  auto& c = t.connection();
  if (!c.begin())
    return original.to_string();
  std::string found;
  for (auto& op : ops) {
    if (op.kind == op_kind::mark)
      continue;
    for (auto& sql : statements_for({op}, budget).statements) {
      auto r = c.exec(sql);
      if (!r) {
        found = describe_op(op) + ": " + r.error().to_string();
        break;
      }
    }
    if (!found.empty())
      break;
  }
  c.rollback();
  return found.empty() ? original.to_string() : found;
}

} // namespace shoal::binlog::detail

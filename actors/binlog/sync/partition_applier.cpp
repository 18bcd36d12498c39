#include "actors/binlog/sync/partition_applier.hpp"

#include <algorithm>
#include <deque>
#include <iterator>
#include <variant>

#include "actors/binlog/sync/checkpoint.hpp"
#include "actors/binlog/sync/detail/pipeline_state.hpp"
#include "actors/binlog/sync/router.hpp"
#include "actors/binlog/sync/stream_sink.hpp"
#include "runtime/base/backoff.hpp"

namespace shoal::binlog::detail {

using namespace std::chrono;

namespace {

class partition_applier : public pipeline_actor {
public:
  partition_applier(caf::blocking_actor* self, std::shared_ptr<pipeline::shared> st,
                    uint32_t id, binlog_reader_actor reader)
      : pipeline_actor(self, std::move(st)), id_(id), reader_(std::move(reader)),
        name_("partition " + std::to_string(id_)),
        keys_(st_->settings.invalidation_rules) {}

  void run() {
    try {
      loop();
    } catch (std::exception& e) {
      fail(name_ + ": unexpected error: " + e.what());
    }
  }

  // Queues what arrives: messages are handled in order by the main loop only,
  // so a batch that comes while another is retried (pause() serves the
  // mailbox) waits its turn instead of growing the batch in progress.
  bool receive_one(milliseconds timeout) override {
    return receive_with(
        timeout, [&](partition_start& s) { inbox_.emplace_back(std::move(s)); },
        [&](partition_batch& b) { inbox_.emplace_back(std::move(b)); },
        [&](drain_request& d) { inbox_.emplace_back(d); },
        [&](round_share& r) { inbox_.emplace_back(std::move(r)); });
  }

private:
  using inbound =
      std::variant<partition_start, partition_batch, drain_request, round_share>;

  void loop() {
    auto& cfg = st_->settings;
    // A Redis stream keeps its own positions; the others' checkpoints are on
    // the MySQL target or state server.
    if (cfg.kind != target_kind::redis_stream) {
      conn_ = open_target(*this, name_ + " target");
      if (!conn_)
        return;
    }
    if (cfg.kind == target_kind::redis_stream || cfg.kind == target_kind::kafka) {
      auto sink = stream_sink::make(cfg);
      if (!sink) {
        fail(name_ + ": target: " + sink.error());
        return;
      }
      sink_.emplace(std::move(*sink));
    }
    while (!stopping()) {
      bool got = next(milliseconds{100});
      while (got && pending_rows_ < cfg.batch_rows && !drain_ && !stopping())
        got = next(milliseconds{0});
      if (stopping())
        return;
      if (!pending_.empty() && !apply())
        return;
      if (drain_) {
        self_->send(reader_, drained_reply{id_, *drain_});
        drain_.reset();
      }
    }
  }

  // Handles the oldest message, waiting up to `timeout` for one; false when
  // none came.
  bool next(milliseconds timeout) {
    if (inbox_.empty() && (!receive_one(timeout) || inbox_.empty()))
      return false;
    auto m = std::move(inbox_.front());
    inbox_.pop_front();
    if (auto* s = std::get_if<partition_start>(&m)) {
      skip_ = s->applied;
      epoch_ = s->epoch;
      if (conn_)
        conn_->set_epoch(s->epoch);
    } else if (auto* r = std::get_if<round_share>(&m)) {
      apply_round(*r);
    } else if (auto* b = std::get_if<partition_batch>(&m)) {
      take(*b);
    } else {
      drain_ = std::get<drain_request>(m).id;
    }
    return true;
  }

  void take(partition_batch& b) {
    if (st_->fault("partition_exception"))
      throw std::runtime_error("injected failure");
    int64_t rows = 0;
    int64_t skipped = 0;
    int64_t skipped_bytes = 0;
    for (auto& op : b.ops) {
      bool row = op.kind != op_kind::mark;
      if (skip_ && op.key <= *skip_) {
        skipped += row ? 1 : 0;
        skipped_bytes += op_bytes(op);
        continue;
      }
      rows += row ? 1 : 0;
      pending_.push_back(std::move(op));
    }
    pending_rows_ += static_cast<size_t>(rows);
    if (skipped > 0)
      self_->send(reader_, rows_done{skipped, id_, std::nullopt, skipped_bytes});
    std::lock_guard<std::mutex> guard{st_->mtx};
    st_->status.partitions[id_].queued += rows;
  }

  // Applies pending_ in one transaction with the checkpoint; false when the
  // pipeline must stop.
  bool apply() {
    auto& cfg = st_->settings;
    if (cfg.kind == target_kind::redis_stream)
      return append();
    // Kafka: delivered before the checkpoint is committed (at least once).
    if (cfg.kind == target_kind::kafka && !deliver())
      return false;
    while (!stopping()) {
      if (budget_ == 0)
        budget_ = session_budget(conn_->connection());
      // Without rows to write (target none, or a stream delivered above) only
      // the checkpoint is written.
      auto batch = cfg.kind != target_kind::mysql ? statement_batch{}
                                                  : statements_for(pending_, budget_);
      if (!batch.error.empty()) {
        fail(name_ + ": " + batch.error);
        return false;
      }
      auto stale = stale_keys(pending_);
      if (!stale)
        return false;
      st_->invalidate(*stale, false);
      auto& statements = batch.statements;
      auto last = pending_.back().key;
      statements.push_back(
          checkpoint_store_sql(cfg.checkpoint_database, cfg.name, id_, last));
      auto outcome = commit(statements, pending_);
      if (outcome == committed::yes) {
        st_->invalidate(*stale, true);
        finish(last, count_rows(pending_));
        return true;
      }
      if (outcome == committed::stop || !reload())
        return false;
      if (pending_.empty())
        return true;
    }
    return false;
  }

  // The events of pending_ (stream targets); nullopt when the pipeline must
  // stop (a value that cannot be written faithfully).
  std::optional<std::vector<stream_entry>> pending_events() {
    auto server_id = st_->source_server_id();
    auto entries = sink_->entries(pending_, id_, server_id);
    if (entries)
      return std::move(*entries);
    fail(name_ + ": " + entries.error() +
         "; the pipeline stops rather than send a changed value");
    return std::nullopt;
  }

  // A stream target: pending_'s events and this partition's position go to
  // the stream's server in one script; false when the pipeline must stop.
  bool append() {
    auto entries = pending_events();
    if (!entries)
      return false;
    auto stale = stale_keys(pending_);
    if (!stale)
      return false;
    st_->invalidate(*stale, false);
    auto last = pending_.back().key;
    std::string why;
    auto r = sink_->append(
        std::to_string(id_), epoch_, last, *entries,
        [this](milliseconds d, const std::string& error) {
          st_->log(true, name_ + ": target " + error + " (retrying)");
          pause(d);
          return !stopping();
        },
        why);
    if (r == stream_sink::sent::appended) {
      st_->invalidate(*stale, true);
      finish(last, count_rows(pending_));
      return true;
    }
    if (stopping())
      return false;
    if (r == stream_sink::sent::fenced)
      st_->record_claimed_elsewhere(name_ + ": " + why);
    fail(name_ + ": target " + why);
    return false;
  }

  // Kafka: pending_'s events, acknowledged by the brokers; false when the
  // pipeline must stop.
  bool deliver() {
    auto entries = pending_events();
    if (!entries)
      return false;
    std::string why;
    auto alive = [this] {
      receive_queued();
      return !stopping();
    };
    auto wait = [this](milliseconds d, const std::string& error) {
      st_->log(true, name_ + ": target " + error + " (sending the batch again)");
      pause(d);
      return !stopping();
    };
    if (sink_->deliver(*entries, alive, wait, why))
      return true;
    if (!stopping())
      fail(name_ + ": target " + why);
    return false;
  }

  enum class committed { yes, unknown, stop };

  // Runs `statements` (which apply `ops`) in one fenced transaction. unknown:
  // the connection broke and is back; the caller finds out from the target
  // whether the commit happened. stop: the pipeline failed.
  committed commit(const std::vector<std::string>& statements,
                   const std::vector<row_op>& ops) {
    auto failure = conn_->apply_generated(statements, budget_);
    if (!failure && st_->fault("commit_reply_lost")) {
      apply_error lost;
      lost.error.code = 2013;
      lost.error.message = "injected: lost connection after COMMIT";
      failure = lost;
    }
    if (!failure)
      return committed::yes;
    if (failure->fenced) {
      st_->record_claimed_elsewhere(name_ + ": " + failure->error.message);
      fail(name_ + ": " + failure->error.message);
      return committed::stop;
    }
    if (!is_connection_lost(failure->error)) {
      fail(name_ + ": the target rejected a change: " +
           locate_rejected(*conn_, ops, failure->error) +
           "; the pipeline stops so that the target does not diverge from the source");
      return committed::stop;
    }
    st_->log(true, name_ + ": " + failure->error.to_string() + " (reconnecting)");
    budget_ = 0; // the target may have restarted with another max_allowed_packet
    if (!recover_target(*this, *conn_, name_))
      return committed::stop;
    return committed::unknown;
  }

  // Commits a share of a round ("apply": "transaction") with its records, in
  // one transaction; then answers round_done. After a lost connection, this
  // partition's sync_round row tells whether the commit happened: it names the
  // epoch and round that wrote it.
  void apply_round(const round_share& r) {
    auto& cfg = st_->settings;
    if (st_->fault("partition_exception"))
      throw std::runtime_error("injected failure");
    auto rows = count_rows(r.ops);
    {
      std::lock_guard<std::mutex> guard{st_->mtx};
      st_->status.partitions[id_].queued += rows;
    }
    auto stale = stale_keys(r.ops);
    if (!stale)
      return;
    st_->invalidate(*stale, false);
    while (!stopping()) {
      if (budget_ == 0)
        budget_ = session_budget(conn_->connection());
      auto batch = statements_for(r.ops, budget_);
      if (!batch.error.empty()) {
        fail(name_ + ": " + batch.error);
        return;
      }
      auto& statements = batch.statements;
      for (auto& [p, groups] : r.records)
        statements.push_back(
            checkpoint_store_sql(cfg.checkpoint_database, cfg.name, p, r.end));
      statements.push_back(round_store_sql(cfg.checkpoint_database, cfg.name, epoch_,
                                           r.round, r.end.at, r.records));
      auto outcome = commit(statements, r.ops);
      if (outcome == committed::stop)
        return;
      auto done = outcome == committed::yes ? std::optional<bool>{true}
                                            : round_committed(r.round);
      if (!done)
        return;
      if (*done) {
        st_->invalidate(*stale, true);
        break;
      }
    }
    if (stopping())
      return;
    uint32_t newest = 0;
    for (auto& op : r.ops)
      newest = std::max(newest, op.event_time);
    {
      std::lock_guard<std::mutex> guard{st_->mtx};
      for (auto& [p, groups] : r.records) {
        auto& s = st_->status.partitions[p];
        if (s.applied < r.end)
          s.applied = r.end;
      }
      auto& s = st_->status.partitions[id_];
      s.rows_applied += static_cast<uint64_t>(rows);
      s.transactions += r.transactions;
      s.queued = std::max<int64_t>(0, s.queued - rows);
      st_->status.rows_applied += static_cast<uint64_t>(rows);
      st_->applied_time = std::max(st_->applied_time, newest);
    }
    st_->cv.notify_all();
    self_->send(reader_, round_done{r.round, id_, rows, ops_bytes(r.ops)});
  }

  // Whether this partition's sync_round row was written by `round` of this
  // run; nullopt when the pipeline must stop.
  std::optional<bool> round_committed(uint64_t round) {
    auto& cfg = st_->settings;
    backoff delay{milliseconds{100}, milliseconds{2000}};
    while (!stopping()) {
      auto rounds = load_rounds(conn_->connection(), cfg.checkpoint_database, cfg.name);
      if (rounds) {
        for (auto& rec : *rounds)
          if (rec.partition == id_)
            return rec.epoch == epoch_ && rec.round == round;
        return false;
      }
      if (!is_connection_lost(rounds.error())) {
        fail(name_ + ": reading the round record again: " + rounds.error().to_string());
        return std::nullopt;
      }
      if (!recover_target(*this, *conn_, name_))
        return std::nullopt;
      pause(delay.next());
    }
    return std::nullopt;
  }

  // After a lost connection: the commit may have happened before it broke.
  // Drops what the checkpoint says is applied, returning its credits; false
  // when the pipeline must stop.
  bool reload() {
    auto& cfg = st_->settings;
    backoff delay{milliseconds{100}, milliseconds{2000}};
    while (!stopping()) {
      auto keys = load_checkpoints(conn_->connection(), cfg.checkpoint_database, cfg.name,
                                   cfg.partitions);
      if (keys) {
        auto& k = (*keys)[id_];
        if (!k)
          return true;
        std::vector<row_op> done;
        auto keep =
            std::stable_partition(pending_.begin(), pending_.end(),
                                  [&](const row_op& op) { return !(op.key <= *k); });
        std::move(keep, pending_.end(), std::back_inserter(done));
        pending_.erase(keep, pending_.end());
        if (!done.empty()) {
          // Their keys were made before the commit was sent.
          if (auto stale = keys_.of(done))
            st_->invalidate(*stale, true);
          auto rows = count_rows(done);
          pending_rows_ -= std::min(pending_rows_, static_cast<size_t>(rows));
          finish(*k, rows, done);
        }
        return true;
      }
      if (!is_connection_lost(keys.error())) {
        fail(name_ + ": reading the checkpoint again: " + keys.error().to_string());
        return false;
      }
      if (!recover_target(*this, *conn_, name_))
        return false;
      pause(delay.next());
    }
    return false;
  }

  // The hot-cache keys `ops` make stale, made before they are committed: a key
  // that cannot be made stops the pipeline with nothing committed, so no change
  // reaches the target without its invalidation. nullopt then.
  std::optional<std::vector<std::string>> stale_keys(const std::vector<row_op>& ops) {
    auto keys = keys_.of(ops);
    if (keys)
      return std::move(*keys);
    fail(name_ + ": hotkeys.invalidate_from: " + keys.error() +
         "; the pipeline stops before committing the change, so that no cached value "
         "outlives it unnoticed");
    return std::nullopt;
  }

  static int64_t count_rows(const std::vector<row_op>& ops) {
    return std::count_if(ops.begin(), ops.end(),
                         [](const row_op& op) { return op.kind != op_kind::mark; });
  }

  // Records that everything up to `last` is committed: `rows` row changes of
  // `done` (pending_ when omitted, which is then emptied); returns their credits.
  void finish(const change_key& last, int64_t rows) {
    finish(last, rows, pending_);
    pending_.clear();
    pending_rows_ = 0;
  }

  void finish(const change_key& last, int64_t rows, const std::vector<row_op>& done) {
    uint32_t newest = 0;
    for (auto& op : done)
      newest = std::max(newest, op.event_time);
    skip_ = last;
    {
      std::lock_guard<std::mutex> guard{st_->mtx};
      auto& p = st_->status.partitions[id_];
      if (p.applied < last)
        p.applied = last;
      p.rows_applied += static_cast<uint64_t>(rows);
      p.transactions += 1;
      p.queued = std::max<int64_t>(0, p.queued - rows);
      st_->status.rows_applied += static_cast<uint64_t>(rows);
      st_->applied_time = std::max(st_->applied_time, newest);
    }
    st_->cv.notify_all();
    self_->send(reader_, rows_done{rows, id_, last, ops_bytes(done)});
  }

  uint32_t id_;
  binlog_reader_actor reader_;
  // Received and not yet handled, oldest first.
  std::deque<inbound> inbox_;
  std::string name_;
  cache_keys keys_;
  std::optional<target_session> conn_;
  /// A stream target's back end instead of conn_.
  std::optional<stream_sink> sink_;
  // session_budget of conn_; 0 until read after a (re)connect.
  size_t budget_ = 0;
  std::optional<change_key> skip_;
  // The ownership epoch of this run (partition_start).
  uint64_t epoch_ = 0;
  std::vector<row_op> pending_;
  size_t pending_rows_ = 0;
  std::optional<uint64_t> drain_;
};

} // namespace

caf::error run_partition_applier(caf::blocking_actor* self,
                                 std::shared_ptr<pipeline::shared> st, uint32_t id,
                                 binlog_reader_actor reader) {
  self->link_to(reader);
  partition_applier a{self, std::move(st), id, std::move(reader)};
  a.run();
  return a.exit_reason();
}

} // namespace shoal::binlog::detail

#include "actors/binlog/pipeline.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <caf/all.hpp>

#include "actors/binlog/binlog_stream.hpp"
#include "actors/binlog/checkpoint.hpp"
#include "actors/binlog/ddl_statement.hpp"
#include "actors/binlog/event_decoder.hpp"
#include "actors/binlog/router.hpp"
#include "actors/binlog/snapshot.hpp"
#include "actors/binlog/sql_builder.hpp"

namespace shoal::binlog::detail {

/// First message to a partition: the key it has already applied.
struct partition_start {
  change_key applied;
};
/// Ops for one partition, in binlog order.
struct partition_batch {
  std::vector<row_op> ops;
};
/// Apply everything received so far, then answer drained.
struct drain_request {
  uint64_t id = 0;
};
struct drained_reply {
  uint32_t partition = 0;
  uint64_t id = 0;
};
/// Credits back to the reader: rows applied (or skipped).
struct rows_done {
  int64_t rows = 0;
};

} // namespace shoal::binlog::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::detail::partition_start)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::detail::partition_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::detail::drain_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::detail::drained_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::binlog::detail::rows_done)

namespace shoal::binlog {

using namespace std::chrono;
using namespace detail;

struct pipeline::shared {
  pipeline_settings settings;
  std::atomic<bool> stopping{false};
  mutable std::mutex mtx;
  mutable std::condition_variable cv;
  pipeline_status status;
  int running = 0;
  // Source time of the newest change applied; for lag.
  uint32_t applied_time = 0;
  // Rate sampling.
  mutable steady_clock::time_point rate_at = steady_clock::now();
  mutable uint64_t rate_rows = 0;
  mutable double rate = 0;

  void log(bool error, const std::string& line) const {
    if (settings.log)
      settings.log(error, "sync " + settings.name + ": " + line);
  }

  /// Stops the pipeline for good with `why`.
  void fail(const std::string& why) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (status.state == "failed")
        return;
      status.state = "failed";
      status.error = why;
    }
    stopping = true;
    cv.notify_all();
    log(true, "stopped: " + why);
  }

  void set_state(const std::string& s) {
    std::lock_guard<std::mutex> guard{mtx};
    if (status.state != "failed")
      status.state = s;
  }

  void actor_started() {
    std::lock_guard<std::mutex> guard{mtx};
    ++running;
  }

  void actor_done() {
    std::lock_guard<std::mutex> guard{mtx};
    --running;
    cv.notify_all();
  }

  /// Sleeps up to `d`, less when stopping.
  void pause(milliseconds d) {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait_for(lock, d, [&] { return stopping.load(); });
  }
};

namespace {

/// Settings every shoal session on the target uses.
mysql_expected<mysql_ok> prepare_target_session(mysql_connection& conn) {
  auto r =
      conn.exec("SET SESSION sql_mode='NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION',"
                " time_zone='+00:00', foreign_key_checks=0, unique_checks=1");
  if (!r)
    return r.error();
  return mysql_ok{};
}

/// statement_budget of `conn`'s max_allowed_packet; of MariaDB's default (16 MiB)
/// when it cannot be read: the connection is lost then and the statements fail.
size_t session_budget(mysql_connection& conn) {
  auto packet = conn.scalar("SELECT @@max_allowed_packet");
  return statement_budget(packet && *packet ? std::stoull(**packet) : 16u << 20);
}

/// Connects with backoff until it works or the pipeline stops.
std::optional<mysql_connection> connect_retrying(pipeline::shared& st,
                                                 const mysql_config& cfg,
                                                 const std::string& what, bool target) {
  auto delay = milliseconds{100};
  bool logged = false;
  while (!st.stopping) {
    auto conn = mysql_connection::connect(cfg);
    if (conn) {
      if (!target)
        return std::move(*conn);
      if (auto s = prepare_target_session(*conn); s)
        return std::move(*conn);
      else if (!is_connection_lost(s.error())) {
        st.fail(what + ": " + s.error().to_string());
        return std::nullopt;
      }
    } else {
      if (!is_connection_lost(conn.error())) {
        st.fail(what + ": " + conn.error().to_string());
        return std::nullopt;
      }
      if (!logged)
        st.log(true, what + ": " + conn.error().to_string() + " (retrying)");
      logged = true;
    }
    st.pause(delay);
    delay = std::min(delay * 2, milliseconds{2000});
  }
  return std::nullopt;
}

// Receives one message within `timeout`; false when none came.
template <class... Fs>
bool receive_one(caf::blocking_actor* self, milliseconds timeout, Fs&&... fs) {
  bool got = true;
  self->receive(
      std::forward<Fs>(fs)..., caf::after(timeout) >> [&] { got = false; });
  return got;
}

// -- partition applier --------------------------------------------------------

class partition_applier {
public:
  partition_applier(caf::blocking_actor* self, std::shared_ptr<pipeline::shared> st,
                    uint32_t id, caf::actor reader)
      : self_(self), st_(std::move(st)), id_(id), reader_(std::move(reader)) {}

  void run() {
    auto& cfg = st_->settings;
    conn_ = connect_retrying(*st_, cfg.target,
                             "partition " + std::to_string(id_) + " target", true);
    if (!conn_)
      return;
    while (!st_->stopping) {
      bool got = receive_one(
          self_, milliseconds{100}, [&](partition_start& s) { skip_ = s.applied; },
          [&](partition_batch& b) { take(b); }, [&](drain_request& d) { drain_ = d.id; });
      while (got && pending_rows_ < cfg.batch_rows && !drain_ && !st_->stopping)
        got = receive_one(
            self_, milliseconds{0}, [&](partition_start& s) { skip_ = s.applied; },
            [&](partition_batch& b) { take(b); },
            [&](drain_request& d) { drain_ = d.id; });
      if (!pending_.empty() && !apply())
        return;
      if (drain_) {
        self_->send(reader_, drained_reply{id_, *drain_});
        drain_.reset();
      }
    }
  }

private:
  void take(partition_batch& b) {
    int64_t rows = 0;
    int64_t skipped = 0;
    for (auto& op : b.ops) {
      bool row = op.kind != op_kind::mark;
      if (skip_ && op.key <= *skip_) {
        skipped += row ? 1 : 0;
        continue;
      }
      rows += row ? 1 : 0;
      pending_.push_back(std::move(op));
    }
    pending_rows_ += static_cast<size_t>(rows);
    if (skipped > 0)
      self_->send(reader_, rows_done{skipped});
    std::lock_guard<std::mutex> guard{st_->mtx};
    st_->status.partitions[id_].queued += rows;
  }

  // Applies pending_ in one transaction with the checkpoint; false when the
  // pipeline must stop.
  bool apply() {
    auto& cfg = st_->settings;
    auto delay = milliseconds{100};
    while (!st_->stopping) {
      if (budget_ == 0)
        budget_ = session_budget(*conn_);
      auto batch = build_statements(pending_, budget_);
      if (!batch.error.empty()) {
        st_->fail("partition " + std::to_string(id_) + ": " + batch.error);
        return false;
      }
      auto& statements = batch.statements;
      auto last = pending_.back().key;
      statements.push_back(
          checkpoint_store_sql(cfg.checkpoint_database, cfg.name, id_, last));
      std::string failed_sql;
      auto result =
          conn_->transaction([&](mysql_connection& c) -> mysql_expected<mysql_ok> {
            for (auto& sql : statements) {
              if (auto r = c.exec(sql); !r) {
                failed_sql = sql;
                return r.error();
              }
            }
            return mysql_ok{};
          });
      if (result) {
        finish(last);
        return true;
      }
      auto& err = result.error();
      if (is_transaction_conflict(err)) {
        continue;
      }
      if (!is_connection_lost(err)) {
        if (failed_sql.size() > 300)
          failed_sql = failed_sql.substr(0, 300) + "...";
        st_->fail("partition " + std::to_string(id_) + ": applying changes up to " +
                  last.to_string() + " on the target failed: " + err.to_string() +
                  " in: " + failed_sql);
        return false;
      }
      st_->log(true, "partition " + std::to_string(id_) + ": " + err.to_string() +
                         " (reconnecting)");
      st_->pause(delay);
      delay = std::min(delay * 2, milliseconds{2000});
      budget_ = 0;
      if (!conn_->reconnect() || !prepare_target_session(*conn_))
        continue;
      // The commit may have happened before the connection broke: skip what
      // the checkpoint says is applied.
      auto keys =
          load_checkpoints(*conn_, cfg.checkpoint_database, cfg.name, cfg.partitions);
      if (!keys)
        continue;
      if (auto& k = (*keys)[id_]) {
        int64_t dropped = 0;
        auto keep =
            std::remove_if(pending_.begin(), pending_.end(), [&](const row_op& op) {
              bool done = op.key <= *k;
              dropped += done && op.kind != op_kind::mark ? 1 : 0;
              return done;
            });
        pending_.erase(keep, pending_.end());
        if (pending_.empty()) {
          pending_rows_ = 0;
          finish(*k);
          return true;
        }
      }
    }
    return false;
  }

  void finish(const change_key& last) {
    int64_t rows = 0;
    uint32_t newest = 0;
    for (auto& op : pending_) {
      if (op.kind != op_kind::mark)
        ++rows;
      newest = std::max(newest, op.event_time);
    }
    pending_.clear();
    pending_rows_ = 0;
    skip_ = last;
    {
      std::lock_guard<std::mutex> guard{st_->mtx};
      auto& p = st_->status.partitions[id_];
      p.applied = last;
      p.rows_applied += static_cast<uint64_t>(rows);
      p.transactions += 1;
      p.queued = std::max<int64_t>(0, p.queued - rows);
      st_->status.rows_applied += static_cast<uint64_t>(rows);
      st_->applied_time = std::max(st_->applied_time, newest);
    }
    st_->cv.notify_all();
    if (rows > 0)
      self_->send(reader_, rows_done{rows});
  }

  caf::blocking_actor* self_;
  std::shared_ptr<pipeline::shared> st_;
  uint32_t id_;
  caf::actor reader_;
  std::optional<mysql_connection> conn_;
  // session_budget of conn_; 0 until read after a (re)connect.
  size_t budget_ = 0;
  std::optional<change_key> skip_;
  std::vector<row_op> pending_;
  size_t pending_rows_ = 0;
  std::optional<uint64_t> drain_;
};

// -- reader -------------------------------------------------------------------

// A failure that stops the pipeline.
struct stop_pipeline {
  std::string why;
};

class reader {
public:
  reader(caf::blocking_actor* self, std::shared_ptr<pipeline::shared> st,
         std::vector<caf::actor> partitions)
      : self_(self), st_(std::move(st)), parts_(std::move(partitions)),
        outbox_(parts_.size()) {}

  void run() {
    try {
      if (!prepare())
        return;
      stream();
    } catch (stop_pipeline& e) {
      st_->fail(e.why);
    }
  }

private:
  pipeline_settings& cfg() { return st_->settings; }

  // Checks the source, loads checkpoints, finds where to start.
  bool prepare() {
    auto src = connect_retrying(*st_, cfg().source, "source", false);
    if (!src)
      return false;
    auto fmt = src->scalar("SELECT @@global.binlog_format");
    auto log_bin = src->scalar("SELECT @@global.log_bin");
    if (!fmt || !log_bin)
      throw stop_pipeline{"source " + src->endpoint() + ": " +
                          (!fmt ? fmt.error() : log_bin.error()).to_string()};
    if (log_bin->value_or("0") != "1")
      throw stop_pipeline{"source " + src->endpoint() +
                          " has no binary log (log_bin=OFF): start it with --log-bin "
                          "and binlog_format=ROW"};
    if (fmt->value_or("") != "ROW")
      throw stop_pipeline{"source " + src->endpoint() +
                          " has binlog_format=" + fmt->value_or("?") +
                          "; shoal needs row events: set binlog_format=ROW on the source "
                          "(SET GLOBAL binlog_format=ROW and binlog_format=ROW in its "
                          "config file)"};
    target_ = connect_retrying(*st_, cfg().target, "target", true);
    if (!target_)
      return false;
    for (auto& sql : checkpoint_schema_sql(cfg().checkpoint_database))
      check(target_->exec(sql), "creating the checkpoint table");
    auto keys = load_checkpoints(*target_, cfg().checkpoint_database, cfg().name,
                                 cfg().partitions);
    if (!keys)
      throw stop_pipeline{keys.error().to_string()};
    if (auto low = lowest_key(*keys)) {
      start_ = low->at;
      // Nothing at or below the lowest partition key needs handing on again.
      resend_floor_ = low;
      auto floor = load_xa_floor(*target_, cfg().checkpoint_database, cfg().name);
      check(floor, "reading the XA floor");
      if (*floor)
        xa_floor_written_ = **floor;
      if (*floor && **floor < start_) {
        start_ = **floor;
        st_->log(false, "an XA transaction prepared at " + start_.to_string() +
                            " was not applied everywhere: reading again from there");
      }
      st_->log(false, "resuming from " + start_.to_string());
      for (uint32_t p = 0; p < parts_.size(); ++p)
        self_->send(parts_[p], partition_start{*(*keys)[p]});
      initial_.clear();
      return true;
    }
    auto& mode = cfg().start_mode;
    if (mode == "snapshot") {
      st_->set_state("snapshot");
      auto result = copy_snapshot(*src, *target_, cfg().filter, 2000,
                                  [&](uint64_t copied, uint64_t expected) {
                                    std::lock_guard<std::mutex> guard{st_->mtx};
                                    st_->status.snapshot_rows = copied;
                                    st_->status.snapshot_rows_expected = expected;
                                  });
      if (!result.error.empty())
        throw stop_pipeline{"snapshot: " + result.error};
      start_ = result.position;
      st_->log(false, "snapshot of " + std::to_string(result.tables) + " tables, " +
                          std::to_string(result.rows) + " rows at " + start_.to_string());
    } else if (mode == "position") {
      start_ = cfg().start_position;
    } else if (mode == "gtid") {
      gtid_ = cfg().start_gtid;
    } else {
      auto status = src->query("SHOW MASTER STATUS");
      check(status, "SHOW MASTER STATUS");
      if (status->rows.empty())
        throw stop_pipeline{"source " + src->endpoint() +
                            ": SHOW MASTER STATUS is empty"};
      start_.file = status->rows[0][0].value_or("");
      start_.pos = std::stoull(status->rows[0][1].value_or("4"));
    }
    if (gtid_.empty())
      store_initial({start_, 0});
    return true;
  }

  // Every partition starts at `key` (first start of the pipeline).
  void store_initial(const change_key& key) {
    store_all(key);
    for (auto& p : parts_)
      self_->send(p, partition_start{key});
    st_->log(false, "starting at " + key.at.to_string());
  }

  void store_all(const change_key& key) {
    auto r = on_target([&](mysql_connection& t) {
      return t.transaction([&](mysql_connection& c) -> mysql_expected<mysql_ok> {
        for (uint32_t p = 0; p < parts_.size(); ++p)
          if (auto e = c.exec(
                  checkpoint_store_sql(cfg().checkpoint_database, cfg().name, p, key));
              !e)
            return e.error();
        return mysql_ok{};
      });
    });
    check(r, "writing the checkpoint");
    {
      std::lock_guard<std::mutex> guard{st_->mtx};
      for (auto& p : st_->status.partitions)
        if (p.applied < key)
          p.applied = key;
    }
    st_->cv.notify_all();
  }

  // Runs `f` on the target connection; reconnects and runs it again while
  // the connection is lost (a target restart), until the pipeline stops.
  template <class F>
  auto on_target(F&& f) -> decltype(f(std::declval<mysql_connection&>())) {
    auto delay = milliseconds{100};
    while (true) {
      auto r = f(*target_);
      if (r || !is_connection_lost(r.error()) || st_->stopping)
        return r;
      st_->log(true, "target: " + r.error().to_string() + " (reconnecting)");
      st_->pause(delay);
      delay = std::min(delay * 2, milliseconds{2000});
      if (target_->reconnect())
        prepare_target_session(*target_);
    }
  }

  template <class T> void check(const mysql_expected<T>& r, const std::string& what) {
    if (!r)
      throw stop_pipeline{what + ": " + r.error().to_string()};
  }

  void stream() {
    st_->set_state("running");
    resume_at_ = start_;
    auto delay = milliseconds{100};
    while (!st_->stopping) {
      stream_options opts;
      opts.server_id = cfg().server_id;
      opts.start = resume_at_;
      opts.gtid = gtid_;
      opts.heartbeat = cfg().heartbeat;
      auto s = binlog_stream::open(cfg().source, opts);
      if (!s) {
        if (!is_connection_lost(s.error()))
          throw stop_pipeline{"source: " + s.error().to_string()};
        st_->pause(delay);
        delay = std::min(delay * 2, milliseconds{2000});
        continue;
      }
      delay = milliseconds{100};
      decoder_ = event_decoder{};
      decoder_.set_checksum((*s)->checksums() ? checksum_algorithm::crc32
                                              : checksum_algorithm::off);
      file_ = resume_at_.file;
      decoder_.set_source(file_);
      in_group_ = false;
      while (!st_->stopping) {
        auto bytes = (*s)->next();
        if (!bytes) {
          if (st_->stopping)
            return;
          if (!is_connection_lost(bytes.error()) && bytes.error().code != 2013)
            throw stop_pipeline{"source " + resume_at_.to_string() + ": " +
                                bytes.error().to_string()};
          st_->log(true, "source connection lost: " + bytes.error().to_string() +
                             "; reconnecting from " + last_end_.to_string());
          break;
        }
        handle(*bytes);
        if (++since_poll_ >= 64) {
          since_poll_ = 0;
          poll();
        }
        while (inflight_ >= cfg().max_inflight_rows && !st_->stopping)
          wait_credit(milliseconds{100});
      }
      // Reconnect from the start of the group in progress; do not hand on its
      // rows again.
      flush_all();
      resend_floor_ = last_handed_;
      resume_at_ = in_group_ ? group_start_ : last_end_;
      gtid_.clear();
      std::lock_guard<std::mutex> guard{st_->mtx};
      ++st_->status.reconnects;
    }
  }

  void poll() {
    while (receive_one(
        self_, milliseconds{0}, [&](rows_done& d) { inflight_ -= d.rows; },
        [&](drained_reply& d) { on_drained(d); })) {
    }
    if (!xa_applying_.empty())
      update_xa_floor();
    std::lock_guard<std::mutex> guard{st_->mtx};
    st_->status.inflight = inflight_;
  }

  void wait_credit(milliseconds timeout) {
    receive_one(
        self_, timeout, [&](rows_done& d) { inflight_ -= d.rows; },
        [&](drained_reply& d) { on_drained(d); });
    poll();
  }

  void on_drained(const drained_reply& d) {
    if (d.id == barrier_id_)
      ++drained_;
  }

  void handle(std::string_view bytes) {
    auto header = event_decoder::read_header(bytes);
    if (!header)
      throw stop_pipeline{header.error().to_string()};
    uint64_t offset =
        header->log_pos >= header->event_size ? header->log_pos - header->event_size : 0;
    auto ev = decoder_.decode(bytes, offset);
    if (!ev) {
      auto err = ev.error();
      if (err.source.empty())
        err.source = file_;
      throw stop_pipeline{err.to_string()};
    }
    auto& h = ev->header;
    std::visit([&](auto& body) { on_event(h, offset, body); }, ev->body);
    if (h.log_pos != 0 && h.type != static_cast<uint8_t>(event_type::heartbeat)) {
      std::lock_guard<std::mutex> guard{st_->mtx};
      st_->status.source = {file_, h.log_pos};
    }
  }

  // -- events ----------------------------------------------------------------

  void on_event(const event_header&, uint64_t, rotate_event& e) {
    file_ = e.next_file;
    decoder_.set_source(file_);
    if (!in_group_)
      last_end_ = {file_, e.position};
  }

  void open_group(uint64_t offset) {
    if (!in_group_ && gtid_pending_initial()) {
      store_initial({{file_, offset}, 0});
      gtid_.clear();
    }
    group_start_ = {file_, offset};
    in_group_ = true;
    group_index_ = 0;
    touched_.clear();
    xa_prepare_ = false;
    xa_rows_.clear();
  }

  bool gtid_pending_initial() const { return !gtid_.empty() && start_.empty(); }

  void on_event(const event_header&, uint64_t offset, mariadb_gtid_event& e) {
    open_group(offset);
    standalone_ = e.standalone();
    xa_prepare_ = (e.flags & 64) != 0;
  }

  void on_event(const event_header&, uint64_t offset, mysql_gtid_event&) {
    open_group(offset);
    standalone_ = false;
  }

  void on_event(const event_header& h, uint64_t offset, query_event& q) {
    switch (q.kind) {
    case query_kind::begin:
      if (!in_group_)
        open_group(offset);
      standalone_ = false;
      return;
    case query_kind::commit:
    case query_kind::rollback:
      if (starts_with_xa(q.statement, "XA END ") && xa_prepare_)
        hold_prepared(xa_id(q.statement, "XA END "));
      else if (starts_with_xa(q.statement, "XA COMMIT "))
        commit_prepared(offset, q.statement);
      else if (starts_with_xa(q.statement, "XA ROLLBACK ") &&
               xa_pending_.erase(xa_id(q.statement, "XA ROLLBACK ")) > 0)
        update_xa_floor();
      end_group(h.log_pos);
      return;
    case query_kind::savepoint:
      return;
    case query_kind::dml:
      throw stop_pipeline{file_ + ":" + std::to_string(offset) +
                          ": QUERY: statement-based change \"" +
                          q.statement.substr(0, 100) +
                          "\" (binlog_format=STATEMENT or MIXED on the source): shoal "
                          "applies only row events; set binlog_format=ROW"};
    case query_kind::ddl:
      if (!in_group_)
        open_group(offset);
      apply_ddl(h, offset, q);
      end_group(h.log_pos);
      return;
    case query_kind::other:
      if (!in_group_ || standalone_)
        end_group(h.log_pos);
      return;
    }
  }

  void on_event(const event_header& h, uint64_t, xid_event&) { end_group(h.log_pos); }

  void on_event(const event_header& h, uint64_t offset, rows_event& e) {
    auto& tm = *e.table;
    if (!cfg().filter.selected(tm.schema, tm.table))
      return;
    if (!in_group_)
      open_group(offset);
    auto schema = resolve(tm, offset);
    for (auto& row : e.rows) {
      if (xa_prepare_) {
        // A prepared XA transaction is not committed yet: hold its rows until its
        // XA COMMIT (applied there, in commit order) or XA ROLLBACK (dropped).
        bool moves =
            e.kind == row_kind::update && schema->has_key() && changes_key(*schema, row);
        xa_rows_.push_back(held_row{e.kind, schema, std::move(row), h.timestamp, moves});
        continue;
      }
      change_key key{group_start_, ++group_index_};
      if (resend_floor_ && key <= *resend_floor_)
        continue;
      bool moves =
          e.kind == row_kind::update && schema->has_key() && changes_key(*schema, row);
      dispatch(ops_for_row(e.kind, schema, std::move(row), key, h.timestamp), moves, key);
    }
  }

  /// Routes one row's ops to their partitions (a key change in a barrier).
  void dispatch(std::vector<row_op> ops, bool moves, const change_key& key) {
    ++rows_read_;
    if (moves) {
      apply_in_barrier(ops, key);
      return;
    }
    for (auto& op : ops) {
      auto& image =
          op.kind == op_kind::upsert || op.kind == op_kind::insert ? op.after : op.before;
      auto p = partition_of(*op.table, image, static_cast<uint32_t>(parts_.size()));
      outbox_[p].push_back(std::move(op));
      ++inflight_;
      touched_.insert(p);
      if (outbox_[p].size() >= cfg().batch_rows)
        flush(p);
    }
    last_handed_ = key;
  }

  // -- XA ----------------------------------------------------------------------

  static bool starts_with_xa(const std::string& statement, const char* prefix) {
    return statement.compare(0, std::strlen(prefix), prefix) == 0;
  }

  /// The xid of "XA END|COMMIT|ROLLBACK <xid> [ONE PHASE]" as the binlog spells it.
  static std::string xa_id(const std::string& statement, const char* prefix) {
    auto id = statement.substr(std::strlen(prefix));
    while (!id.empty() && (id.back() == ' ' || id.back() == ';'))
      id.pop_back();
    const std::string one_phase = " ONE PHASE";
    if (id.size() > one_phase.size() &&
        id.compare(id.size() - one_phase.size(), one_phase.size(), one_phase) == 0)
      id.resize(id.size() - one_phase.size());
    return id;
  }

  void hold_prepared(const std::string& xid) {
    xa_pending_[xid] = prepared_xa{group_start_, std::move(xa_rows_)};
    xa_rows_.clear();
    xa_prepare_ = false;
    // Durable before anything after this group is handed on: a crash from here
    // on resumes at or before this XA PREPARE.
    update_xa_floor();
  }

  /// Keeps the floor row at the earliest XA PREPARE whose rows are not yet
  /// applied by every partition.
  void update_xa_floor() {
    if (!xa_applying_.empty()) {
      change_key applied_everywhere;
      {
        std::lock_guard<std::mutex> guard{st_->mtx};
        bool first = true;
        for (auto& p : st_->status.partitions)
          if (first || p.applied < applied_everywhere) {
            applied_everywhere = p.applied;
            first = false;
          }
      }
      xa_applying_.erase(std::remove_if(xa_applying_.begin(), xa_applying_.end(),
                                        [&](const applying_xa& a) {
                                          return !(applied_everywhere < a.commit_end);
                                        }),
                         xa_applying_.end());
    }
    std::optional<binlog_position> floor;
    for (auto& [_, x] : xa_pending_)
      if (!floor || x.prepared_at < *floor)
        floor = x.prepared_at;
    for (auto& a : xa_applying_)
      if (!floor || a.prepared_at < *floor)
        floor = a.prepared_at;
    if (floor == xa_floor_written_)
      return;
    auto sql = floor ? xa_floor_store_sql(cfg().checkpoint_database, cfg().name, *floor)
                     : xa_floor_clear_sql(cfg().checkpoint_database, cfg().name);
    check(on_target([&](mysql_connection& t) { return t.exec(sql); }),
          "writing the XA floor");
    xa_floor_written_ = floor;
  }

  void commit_prepared(uint64_t offset, const std::string& statement) {
    auto xid = xa_id(statement, "XA COMMIT ");
    auto held = xa_pending_.find(xid);
    if (held == xa_pending_.end()) {
      if (statement.find("ONE PHASE") != std::string::npos)
        return; // its rows were in this group, already handed on
      throw stop_pipeline{
          file_ + ":" + std::to_string(offset) + ": QUERY: XA COMMIT " + xid +
          " commits a transaction whose XA PREPARE came before the position this "
          "pipeline read from (it started, or resumed after a crash, between the two), "
          "so its changes are not known here: the target would miss them; resync "
          "(start: snapshot)"};
    }
    // Applied at the commit, where the source made the changes visible; keys of
    // this group keep them in binlog order and after every earlier change.
    auto prepared = std::move(held->second);
    xa_pending_.erase(held);
    for (auto& r : prepared.rows) {
      change_key key{group_start_, ++group_index_};
      if (resend_floor_ && key <= *resend_floor_)
        continue;
      dispatch(ops_for_row(r.kind, r.table, std::move(r.change), key, r.time), r.moves, key);
    }
    // The floor stays until every partition has applied this group (its end is
    // the next group's start; poll() lifts it).
    xa_applying_.push_back(applying_xa{prepared.prepared_at, {group_start_, group_index_}});
  }

  void on_event(const event_header&, uint64_t, heartbeat_event&) {
    poll();
    if (!in_group_)
      broadcast_marks();
  }

  void on_event(const event_header&, uint64_t offset, incident_event& e) {
    throw stop_pipeline{file_ + ":" + std::to_string(offset) +
                        ": INCIDENT: the source lost events (" + e.message +
                        "); the target cannot be kept equal from here: resync"};
  }

  template <class T> void on_event(const event_header&, uint64_t, T&) {}

  // -- groups ----------------------------------------------------------------

  void end_group(uint32_t log_pos) {
    if (log_pos != 0)
      last_end_ = {file_, log_pos};
    in_group_ = false;
    change_key key{last_end_, 0};
    for (auto p : touched_) {
      row_op mark;
      mark.key = key;
      outbox_[p].push_back(std::move(mark));
      flush(p);
    }
    touched_.clear();
    poll();
    if (steady_clock::now() - last_broadcast_ > milliseconds{200})
      broadcast_marks();
    std::lock_guard<std::mutex> guard{st_->mtx};
    st_->status.handed_on = last_end_;
    st_->status.rows_read = rows_read_;
    st_->status.inflight = inflight_;
  }

  void broadcast_marks() {
    last_broadcast_ = steady_clock::now();
    if (last_end_.empty())
      return;
    change_key key{last_end_, 0};
    if (last_mark_ && key <= *last_mark_)
      return;
    last_mark_ = key;
    for (uint32_t p = 0; p < parts_.size(); ++p) {
      row_op mark;
      mark.key = key;
      outbox_[p].push_back(std::move(mark));
      flush(p);
    }
  }

  void flush(uint32_t p) {
    if (outbox_[p].empty())
      return;
    self_->send(parts_[p], partition_batch{std::move(outbox_[p])});
    outbox_[p].clear();
  }

  void flush_all() {
    for (uint32_t p = 0; p < parts_.size(); ++p)
      flush(p);
  }

  // Every partition applies all it has; returns false when stopping.
  void drain_all() {
    flush_all();
    ++barrier_id_;
    drained_ = 0;
    for (auto& p : parts_)
      self_->send(p, drain_request{barrier_id_});
    while (drained_ < parts_.size()) {
      if (st_->stopping)
        throw stop_pipeline{"stopped during a barrier"};
      wait_credit(milliseconds{100});
    }
  }

  // A key-changing update: drain, apply it here with every checkpoint at
  // `key`, in one target transaction.
  void apply_in_barrier(const std::vector<row_op>& ops, const change_key& key) {
    drain_all();
    auto batch = build_statements(ops, session_budget(*target_));
    if (!batch.error.empty())
      throw stop_pipeline{key.to_string() + ": " + batch.error};
    auto& statements = batch.statements;
    for (uint32_t p = 0; p < parts_.size(); ++p)
      statements.push_back(
          checkpoint_store_sql(cfg().checkpoint_database, cfg().name, p, key));
    auto r = on_target([&](mysql_connection& t) {
      return t.transaction([&](mysql_connection& c) -> mysql_expected<mysql_ok> {
        for (auto& sql : statements)
          if (auto e = c.exec(sql); !e)
            return e.error();
        return mysql_ok{};
      });
    });
    check(r, key.to_string() + ": applying a primary key change");
    last_handed_ = key;
    {
      std::lock_guard<std::mutex> guard{st_->mtx};
      st_->status.rows_applied += 1;
      for (auto& p : st_->status.partitions)
        p.applied = key;
    }
    st_->cv.notify_all();
  }

  void apply_ddl(const event_header& h, uint64_t offset, const query_event& q) {
    auto where = file_ + ":" + std::to_string(offset);
    change_key after{{file_, h.log_pos}, 0};
    if (resend_floor_ && after <= *resend_floor_)
      return;
    auto d = parse_ddl(q.statement, q.schema);
    auto& filter = cfg().filter;
    if (d.temporary)
      return;
    std::string sql = q.statement;
    std::string use_db;
    if (d.scope == ddl_scope::database) {
      auto& db = d.tables[0].first;
      if (filter.is_internal(db) || !filter.database_selected(db))
        return;
      auto target_db = filter.target_database_of(db);
      if (d.verb == "CREATE DATABASE")
        sql = "CREATE DATABASE IF NOT EXISTS " + sql_identifier(target_db);
      else if (d.verb == "DROP DATABASE")
        sql = "DROP DATABASE IF EXISTS " + sql_identifier(target_db);
      else if (target_db != db)
        throw stop_pipeline{where + ": DDL on renamed database " + db +
                            " cannot be applied: " + q.statement};
    } else if (d.scope == ddl_scope::tables) {
      size_t selected = 0;
      for (auto& [db, table] : d.tables)
        selected += filter.selected(db, table) ? 1 : 0;
      if (selected == 0)
        return;
      if (selected != d.tables.size())
        throw stop_pipeline{where +
                            ": DDL names tables inside and outside the pipeline's "
                            "filter; shoal cannot apply it: " +
                            q.statement};
      for (auto& [db, table] : d.tables) {
        auto target = filter.target_of(db, table);
        if (target.second != table || (target.first != db && db != q.schema))
          throw stop_pipeline{where + ": DDL on renamed table " + db + "." + table +
                              " cannot be applied by shoal (apply it to the target by "
                              "hand): " +
                              q.statement};
      }
      use_db = filter.target_database_of(q.schema.empty() ? d.tables[0].first : q.schema);
    } else {
      if (q.schema.empty() || filter.is_internal(q.schema) ||
          !filter.database_selected(q.schema))
        return;
      use_db = filter.target_database_of(q.schema);
    }
    drain_all();
    schemas_.clear();
    auto r = on_target([&](mysql_connection& t) -> mysql_expected<uint64_t> {
      if (!use_db.empty()) {
        auto u = t.exec("USE " + sql_identifier(use_db));
        if (!u && (u.error().code != 1049 || is_connection_lost(u.error())))
          return u;
      }
      return t.exec(sql);
    });
    if (!r) {
      static const std::set<unsigned> already{1007, 1008, 1050, 1051,
                                              1060, 1091, 1146, 1061};
      bool maybe_done = !ddl_seen_ && already.count(r.error().code) != 0;
      if (!maybe_done)
        throw stop_pipeline{
            where + ": QUERY: the target rejected DDL \"" + q.statement +
            "\": " + r.error().to_string() +
            "; the pipeline stops so that source and target do not diverge"};
      st_->log(true, where + ": DDL already applied before the restart (" +
                         r.error().message + "), continuing");
    }
    ddl_seen_ = true;
    store_all(after);
    last_handed_ = after;
  }

  // -- schemas ---------------------------------------------------------------

  std::shared_ptr<const table_schema> resolve(const table_map& tm, uint64_t offset) {
    auto name = tm.schema + "." + tm.table;
    auto i = schemas_.find(name);
    if (i != schemas_.end() && i->second->columns.size() == tm.columns.size())
      return i->second;
    auto s = std::make_shared<table_schema>();
    s->source_db = tm.schema;
    s->source_table = tm.table;
    std::tie(s->target_db, s->target_table) = cfg().filter.target_of(tm.schema, tm.table);
    auto where = file_ + ":" + std::to_string(offset) + ": " + name;
    bool named = std::all_of(tm.columns.begin(), tm.columns.end(),
                             [](const column_def& c) { return c.name.has_value(); });
    auto lit = [&](const std::string& v) { return target_->quote(v); };
    if (named) {
      for (auto& c : tm.columns)
        s->columns.push_back(*c.name);
    } else {
      auto cols = on_target([&](mysql_connection& t) {
        return t.query(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=" +
            lit(s->target_db) + " AND TABLE_NAME=" + lit(s->target_table) +
            " ORDER BY ORDINAL_POSITION");
      });
      check(cols, where + ": reading the target's columns");
      for (auto& r : cols->rows)
        s->columns.push_back(r[0].value_or(""));
      if (s->columns.size() != tm.columns.size())
        throw stop_pipeline{
            where + ": the source's rows have " + std::to_string(tm.columns.size()) +
            " columns but the target " + s->target_db + "." + s->target_table + " has " +
            std::to_string(s->columns.size()) +
            " (binlog_row_metadata=FULL on the source gives shoal the "
            "column names; otherwise the target must match the source)"};
    }
    for (auto& [col, prefix] : tm.primary_key) {
      (void)prefix;
      s->key.push_back(col);
    }
    if (s->key.empty()) {
      auto idx = on_target([&](mysql_connection& t) {
        return t.query("SELECT INDEX_NAME, COLUMN_NAME, NON_UNIQUE, NULLABLE FROM "
                       "information_schema.STATISTICS"
                       " WHERE TABLE_SCHEMA=" +
                       lit(s->target_db) + " AND TABLE_NAME=" + lit(s->target_table) +
                       " ORDER BY INDEX_NAME='PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX");
      });
      check(idx, where + ": reading the target's keys");
      std::map<std::string, std::vector<std::string>> unique;
      std::set<std::string> unusable;
      std::vector<std::string> order;
      for (auto& r : idx->rows) {
        auto index = r[0].value_or("");
        if (r[2].value_or("1") != "0" || r[3].value_or("") == "YES")
          unusable.insert(index);
        if (!unique.count(index))
          order.push_back(index);
        unique[index].push_back(r[1].value_or(""));
      }
      for (auto& index : order) {
        if (unusable.count(index))
          continue;
        for (auto& c : unique[index]) {
          auto pos = std::find(s->columns.begin(), s->columns.end(), c);
          if (pos != s->columns.end())
            s->key.push_back(static_cast<uint32_t>(pos - s->columns.begin()));
        }
        if (s->key.size() != unique[index].size())
          s->key.clear();
        if (!s->key.empty())
          break;
      }
    }
    if (s->has_key())
      check_collisions(*s, where);
    schemas_[name] = s;
    return s;
  }

  /// Sets single_partition when rows of different keys can collide on the target.
  void check_collisions(table_schema& s, const std::string& where) {
    auto lit = [&](const std::string& v) { return target_->quote(v); };
    auto in_table = " WHERE TABLE_SCHEMA=" + lit(s.target_db) + " AND TABLE_NAME=" +
                    lit(s.target_table);
    auto unique = on_target([&](mysql_connection& t) {
      return t.query("SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS" +
                     in_table + " AND NON_UNIQUE=0");
    });
    check(unique, where + ": reading the target's unique keys");
    if (!unique->rows.empty() && std::stoll(unique->rows[0][0].value_or("0")) > 1) {
      s.single_partition = true;
      s.single_partition_reason = "it has more than one unique key";
    }
    auto collations = on_target([&](mysql_connection& t) {
      return t.query("SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS" +
                     in_table);
    });
    check(collations, where + ": reading the target's collations");
    auto ends = [](const std::string& text, const std::string& tail) {
      return text.size() >= tail.size() &&
             text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
    };
    s.key_pads.assign(s.key.size(), false);
    for (auto& r : collations->rows) {
      auto column = r[0].value_or("");
      auto collation = r[1].value_or("");
      auto k = std::find_if(s.key.begin(), s.key.end(), [&](uint32_t i) {
        return i < s.columns.size() && s.columns[i] == column;
      });
      bool in_key = k != s.key.end();
      // Byte-exact: binary strings, _nopad_bin and MySQL 8's _0900_bin. Other _bin
      // collations pad: exact once trailing spaces are dropped. The rest fold.
      auto nopad = collation.empty() || collation == "binary" || ends(collation, "_nopad_bin") ||
                   ends(collation, "_0900_bin");
      auto pads = !nopad && ends(collation, "_bin");
      if (in_key && pads)
        s.key_pads[static_cast<size_t>(k - s.key.begin())] = true;
      if (in_key && !nopad && !pads && !s.single_partition) {
        s.single_partition = true;
        s.single_partition_reason = "key column " + column + " has collation " + collation +
                                    " (values that differ in case, accents or trailing "
                                    "spaces are one row); a _bin collation lets it spread";
      }
    }
    if (s.single_partition)
      st_->log(false, where + ": applied by one partition in binlog order: " +
                          s.single_partition_reason);
  }

  caf::blocking_actor* self_;
  std::shared_ptr<pipeline::shared> st_;
  std::vector<caf::actor> parts_;
  std::vector<std::vector<row_op>> outbox_;
  std::optional<mysql_connection> target_;
  event_decoder decoder_;
  binlog_position start_;
  std::string gtid_;
  std::vector<change_key> initial_;
  binlog_position resume_at_;
  std::string file_;
  binlog_position last_end_;
  binlog_position group_start_;
  bool in_group_ = false;
  bool standalone_ = false;
  /// A row of a prepared XA transaction, held until its XA COMMIT.
  struct held_row {
    row_kind kind;
    std::shared_ptr<const table_schema> table;
    row_change change;
    uint32_t time;
    bool moves;
  };
  /// The current group is an XA PREPARE (GTID flag FL_PREPARED_XA).
  bool xa_prepare_ = false;
  /// Rows of the XA transaction being prepared.
  std::vector<held_row> xa_rows_;
  struct prepared_xa {
    /// Where its XA PREPARE group begins.
    binlog_position prepared_at;
    std::vector<held_row> rows;
  };
  /// Prepared XA transactions by xid, waiting for XA COMMIT or XA ROLLBACK.
  std::map<std::string, prepared_xa> xa_pending_;
  struct applying_xa {
    binlog_position prepared_at;
    /// Its last row's key: applied everywhere once every partition is past it.
    change_key commit_end;
  };
  /// Committed XA transactions whose rows some partition has not applied yet.
  std::vector<applying_xa> xa_applying_;
  /// The floor row as last written (nullopt: none).
  std::optional<binlog_position> xa_floor_written_;
  uint64_t group_index_ = 0;
  std::set<uint32_t> touched_;
  std::optional<change_key> last_handed_;
  std::optional<change_key> resend_floor_;
  std::optional<change_key> last_mark_;
  steady_clock::time_point last_broadcast_;
  int64_t inflight_ = 0;
  uint64_t rows_read_ = 0;
  int since_poll_ = 0;
  uint64_t barrier_id_ = 0;
  size_t drained_ = 0;
  bool ddl_seen_ = false;
  std::map<std::string, std::shared_ptr<const table_schema>> schemas_;
};

} // namespace

pipeline::pipeline(std::shared_ptr<shared> state) : state_(std::move(state)) {}

pipeline::~pipeline() {
  stop();
}

std::shared_ptr<pipeline> pipeline::start(caf::actor_system& sys,
                                          pipeline_settings settings) {
  auto st = std::make_shared<shared>();
  st->settings = std::move(settings);
  if (st->settings.partitions == 0)
    st->settings.partitions = 1;
  st->status.name = st->settings.name;
  st->status.state = "starting";
  st->status.partitions.resize(st->settings.partitions);
  // The reader is spawned first so partitions know where to send credits; it
  // receives their handles in its first message.
  // State travels as spawn arguments, not captures: CAF 0.17's spawn of a
  // function without arguments dereferences an empty shared_ptr (UBSan).
  using state_ptr = decltype(st);
  auto reader_actor = sys.spawn(
      [](caf::blocking_actor* self, state_ptr st) {
        std::vector<caf::actor> parts;
        self->receive([&](std::vector<caf::actor>& p) { parts = std::move(p); });
        reader r{self, st, std::move(parts)};
        r.run();
        st->stopping = true;
        st->cv.notify_all();
        st->actor_done();
      },
      st);
  st->actor_started();
  std::vector<caf::actor> parts;
  for (uint32_t i = 0; i < st->settings.partitions; ++i) {
    st->actor_started();
    parts.push_back(sys.spawn(
        [](caf::blocking_actor* self, state_ptr st, uint32_t i, caf::actor reader_actor) {
          partition_applier a{self, st, i, reader_actor};
          a.run();
          st->actor_done();
        },
        st, i, reader_actor));
  }
  caf::anon_send(reader_actor, std::move(parts));
  return std::shared_ptr<pipeline>{new pipeline(st)};
}

const std::string& pipeline::name() const {
  return state_->settings.name;
}

pipeline_status pipeline::status() const {
  auto& st = *state_;
  std::lock_guard<std::mutex> guard{st.mtx};
  auto s = st.status;
  auto now = steady_clock::now();
  auto dt = duration<double>(now - st.rate_at).count();
  if (dt >= 1.0) {
    st.rate = static_cast<double>(s.rows_applied - st.rate_rows) / dt;
    st.rate_rows = s.rows_applied;
    st.rate_at = now;
  }
  s.rows_per_second = st.rate;
  if (s.inflight > 0 && st.applied_time > 0) {
    auto wall = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
    s.lag_seconds = std::max<double>(0, static_cast<double>(wall - st.applied_time));
  }
  return s;
}

bool pipeline::wait_applied(const binlog_position& pos, milliseconds timeout) const {
  auto& st = *state_;
  change_key want{pos, 0};
  std::unique_lock<std::mutex> lock{st.mtx};
  return st.cv.wait_for(lock, timeout,
                        [&] {
                          if (st.status.state == "failed" || st.stopping)
                            return true;
                          return std::all_of(st.status.partitions.begin(),
                                             st.status.partitions.end(),
                                             [&](const partition_status& p) {
                                               return want <= p.applied;
                                             });
                        }) &&
         st.status.state != "failed" && !st.stopping;
}

void pipeline::stop() {
  auto& st = *state_;
  st.stopping = true;
  std::unique_lock<std::mutex> lock{st.mtx};
  st.cv.notify_all();
  st.cv.wait_for(lock, seconds{40}, [&] { return st.running == 0; });
  if (st.status.state != "failed")
    st.status.state = "stopped";
}

} // namespace shoal::binlog

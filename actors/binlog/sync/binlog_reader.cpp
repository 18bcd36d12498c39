#include "actors/binlog/sync/binlog_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <set>
#include <unistd.h>

#include "actors/binlog/decoder/event_decoder.hpp"
#include "actors/binlog/sync/change_event.hpp"
#include "actors/binlog/sync/checkpoint.hpp"
#include "actors/binlog/sync/ddl_plan.hpp"
#include "actors/binlog/sync/detail/pipeline_state.hpp"
#include "actors/binlog/sync/key_choice.hpp"
#include "actors/binlog/sync/resend_floor.hpp"
#include "actors/binlog/sync/router.hpp"
#include "actors/binlog/sync/snapshot.hpp"
#include "actors/binlog/sync/source_switch.hpp"
#include "actors/binlog/sync/stream_sink.hpp"
#include "actors/binlog/sync/writeset.hpp"
#include "actors/binlog/sync/xa_tracker.hpp"
#include "runtime/adapters/binlog_stream.hpp"
#include "runtime/base/backoff.hpp"

namespace shoal::binlog::detail {

using namespace std::chrono;

namespace {

// A failure that stops the pipeline.
struct stop_pipeline {
  std::string why;
};

class reader : public pipeline_actor {
public:
  reader(caf::blocking_actor* self, std::shared_ptr<pipeline::shared> st)
      : pipeline_actor(self, std::move(st)), keys_(cfg().invalidation_rules) {}

  void run() {
    try {
      // pipeline::start sends the partitions right after spawning them.
      while (parts_.empty() && !stopping())
        receive_one(milliseconds{1000});
      if (stopping())
        return;
      if (!prepare())
        return;
      // Keys of rows a previous run committed may have gone out only before
      // their commit (it died in between), and a snapshot copy names no row:
      // every key of the templates is stale once, here.
      st_->invalidate_matching(keys_.patterns_of({}, {}));
      stream();
    } catch (stop_pipeline& e) {
      // While stopping (asked to, or after a partition failed) the reason is
      // already known; what broke on the way out is not news.
      if (!stopping())
        fail(e.why);
    } catch (std::exception& e) {
      fail("reader: unexpected error at " + last_end_.to_string() + ": " + e.what());
    }
  }

  bool receive_one(milliseconds timeout) override {
    return receive_with(
        timeout,
        [&](partition_handles& h) {
          parts_ = std::move(h.partitions);
          outbox_.resize(parts_.size());
          applied_.resize(parts_.size());
        },
        [&](rows_done& d) { on_done(d); }, [&](drained_reply& d) { on_drained(d); },
        [&](round_done& d) { on_round_done(d); });
  }

private:
  pipeline_settings& cfg() { return st_->settings; }

  /// "apply": "transaction": whole source transactions go out in rounds.
  bool rounds() const { return st_->settings.whole_transactions; }

  /// The target is not a MySQL server that rows are applied to (a change
  /// stream, or none): `target_` keeps only the pipeline's state, and table
  /// schemas come from the binlog alone.
  bool streams() const { return st_->settings.kind != target_kind::mysql; }
  /// A Redis stream (stream_sink.hpp), whose server keeps its positions.
  bool redis_stream() const { return st_->settings.kind == target_kind::redis_stream; }
  /// A change stream of events (Redis or Kafka): sink_ writes them.
  bool writes_events() const {
    return redis_stream() || st_->settings.kind == target_kind::kafka;
  }

  /// How the stream sink waits for Redis: logging why, serving the mailbox.
  stream_sink::waiter sink_waiter() {
    return [this](milliseconds d, const std::string& why) {
      st_->log(true, "target " + why + " (retrying)");
      pause(d);
      return !stopping();
    };
  }

  /// Sends what the reader itself writes (DDL, key changes). Redis: appended
  /// under slot "r" with its position, once. Kafka: delivered, then every
  /// partition's checkpoint moves to `end` on the state server (a crash in
  /// between sends them again: at least once).
  void append_here(const change_key& end, const std::vector<stream_entry>& entries,
                   const std::string& what) {
    std::string why;
    if (!redis_stream()) {
      auto alive = [this] {
        receive_queued();
        return !stopping();
      };
      if (!sink_->deliver(entries, alive, sink_waiter(), why))
        throw stop_pipeline{what + ": " + why};
      apply_on_target(checkpoints_at(end), what + ": writing the checkpoint");
      return;
    }
    auto r = sink_->append("r", epoch_, end, entries, sink_waiter(), why);
    if (r == stream_sink::sent::appended)
      return;
    if (r == stream_sink::sent::fenced)
      st_->record_claimed_elsewhere(why);
    throw stop_pipeline{what + ": " + why};
  }

  // Checks the source, claims the pipeline, loads checkpoints, finds where to
  // start.
  bool prepare() {
    target_ = open_target(*this, "target");
    if (!target_)
      return false;
    if (target_->annotates_rows())
      st_->log(false, "the target's binlog keeps the text of shoal's batch statements "
                      "(binlog_annotate_row_events): the target user lacks BINLOG ADMIN "
                      "to turn it off for shoal's sessions; granting it makes the "
                      "target's binlog smaller and its apply faster");
    for (auto& sql : checkpoint_schema_sql(cfg().checkpoint_database))
      check(on_target([&](mysql_connection& t) { return t.exec(sql); }),
            "creating the checkpoint tables");
    check(on_target([&](mysql_connection& t) {
            return upgrade_checkpoint_schema(t, cfg().checkpoint_database);
          }),
          "adding the gtid columns to the checkpoint tables");
    auto owner = cfg().owner.empty() ? default_owner() : cfg().owner;
    auto epoch = on_target([&](mysql_connection& t) {
      return claim_pipeline(t, cfg().checkpoint_database, cfg().name, owner,
                            cfg().leased);
    });
    check(epoch, "claiming the pipeline");
    epoch_ = *epoch;
    target_->set_epoch(epoch_);
    {
      std::lock_guard<std::mutex> guard{st_->mtx};
      st_->status.epoch = epoch_;
    }
    st_->log(false, "claimed by " + owner + " with epoch " + std::to_string(epoch_));
    // An older owner frozen inside a DDL or a snapshot copy must not finish it
    // once this one writes.
    bool fenced = false;
    auto evicted = target_->evict_older_writers(&fenced);
    while (!evicted && is_connection_lost(evicted.error()) && !stopping()) {
      if (!reconnect_target())
        throw stop_pipeline{"target: " + evicted.error().to_string()};
      evicted = target_->evict_older_writers(&fenced);
    }
    if (fenced) {
      st_->record_claimed_elsewhere(evicted.error().message);
      throw stop_pipeline{"pipeline " + cfg().name + " was claimed again before it " +
                          "started: " + evicted.error().to_string()};
    }
    check(evicted, "ending an older owner's DDL or snapshot session");
    if (*evicted)
      st_->log(false, "ended " + std::to_string(*evicted) +
                          " session(s) of an older owner holding the writer lock");
    if (writes_events()) {
      auto sink = stream_sink::make(cfg());
      if (!sink)
        throw stop_pipeline{"target: " + sink.error()};
      sink_.emplace(std::move(*sink));
    }
    if (redis_stream()) {
      std::string why;
      stream_claim_ = sink_->claim(epoch_, sink_waiter(), why);
      if (!stream_claim_) {
        if (!stopping() && why.find("newer run") != std::string::npos)
          st_->record_claimed_elsewhere(why);
        throw stop_pipeline{"target: " + why};
      }
    }
    return start_on_a_source();
  }

  // -- the source and its candidates ------------------------------------------
  //
  // `source` and then `source.candidates`, in that order; the server that
  // wrote the checkpoints first while it answers. Checkpoints written on
  // another server are moved to the chosen one by GTID (source_switch.hpp);
  // when a candidate cannot take them (it lacks a group the target applied),
  // the next one is tried.

  struct cannot_move {
    std::string why;
    /// The server does not have the groups yet (a replica catching up).
    bool behind = false;
    /// The server has other transactions where the target applied some.
    bool diverged = false;
  };

  struct source_choice {
    size_t index = 0;
    mysql_connection conn;
    source_identity identity;
  };

  std::vector<mysql_config> candidates() const {
    std::vector<mysql_config> out{st_->settings.source};
    out.insert(out.end(), st_->settings.source_candidates.begin(),
               st_->settings.source_candidates.end());
    return out;
  }

  static std::string endpoint_of(const mysql_config& c) {
    return c.host + ":" + std::to_string(c.port);
  }

  // The candidates that answer now, the server that wrote the checkpoints
  // first. Only `source` when no server is recorded: checkpoints of unknown
  // origin (written before servers were recorded), or a first start, belong
  // to the configured source.
  std::vector<source_choice> reachable_sources(std::string& errors) {
    auto stored = on_target([&](mysql_connection& t) {
      return load_source(t, cfg().checkpoint_database, cfg().name);
    });
    check(stored, "reading which source the checkpoints belong to");
    std::vector<source_choice> out;
    auto all = candidates();
    if (!*stored)
      all.resize(1);
    for (size_t i = 0; i < all.size(); ++i) {
      auto conn = mysql_connection::connect(all[i]);
      if (!conn) {
        // With candidates, one refusing logins does not stop a pipeline that
        // another can serve.
        if (!is_connection_lost(conn.error()) && all.size() == 1)
          throw stop_pipeline{"source " + endpoint_of(all[i]) + ": " +
                              conn.error().to_string()};
        errors += (errors.empty() ? "" : "; ") + conn.error().to_string();
        continue;
      }
      auto id = conn->scalar("SELECT @@server_id");
      if (!id) {
        errors += (errors.empty() ? "" : "; ") + id.error().to_string();
        continue;
      }
      source_choice c{i, std::move(*conn), {}};
      c.identity.server_id = std::stoull(id->value_or("0"));
      c.identity.endpoint = endpoint_of(all[i]);
      out.push_back(std::move(c));
    }
    if (*stored)
      std::stable_partition(out.begin(), out.end(), [&](const source_choice& c) {
        return c.identity.server_id == (*stored)->server_id;
      });
    return out;
  }

  // Finds a source that can take the pipeline's checkpoints and starts there
  // (position()); waits while none answers or none has the groups yet.
  bool start_on_a_source() {
    backoff delay{milliseconds{100}, milliseconds{2000}};
    std::string last_log;
    while (!stopping()) {
      std::string errors;
      auto found = reachable_sources(errors);
      bool behind = false;
      bool diverged = false;
      std::vector<std::string> refused;
      for (auto& c : found) {
        check_source(c.conn);
        try {
          if (c.index > 0) {
            // A replica without log_slave_updates logs none of its primary's
            // transactions: it could never take the checkpoints.
            auto logs = c.conn.scalar("SELECT @@global.log_slave_updates");
            if (logs && logs->value_or("1") == "0")
              throw cannot_move{"it does not log what it replicates "
                                "(log_slave_updates=OFF): it cannot take over from "
                                "its primary"};
          }
          source_ = candidates()[c.index];
          source_index_ = c.index;
          {
            std::lock_guard<std::mutex> guard{st_->mtx};
            st_->status.source_endpoint = c.identity.endpoint;
            st_->status.source_server_id = c.identity.server_id;
          }
          auto started = position(c.conn, c.identity);
          std::lock_guard<std::mutex> guard{st_->mtx};
          st_->status.waiting_for_source.clear();
          return started;
        } catch (cannot_move& e) {
          behind = behind || e.behind;
          diverged = diverged || e.diverged;
          refused.push_back(c.identity.endpoint + ": " + e.why);
        }
      }
      std::string why;
      for (auto& r : refused)
        why += (why.empty() ? "" : "; ") + r;
      // A server with other transactions where the target applied some is
      // proof of divergence; anything else may pass (the server that wrote
      // the checkpoints comes back, a replica catches up): wait and say why.
      if (diverged && !behind)
        throw stop_pipeline{"no source can take the checkpoints: " + why};
      auto line = found.empty() ? "no source answers (" + errors + ")"
                                : "no source can take the checkpoints yet: " + why;
      {
        std::lock_guard<std::mutex> guard{st_->mtx};
        st_->status.waiting_for_source = line;
      }
      if (line != last_log)
        st_->log(true, line + " (retrying)");
      last_log = line;
      pause(delay.next());
    }
    return false;
  }

  // The source must log rows.
  void check_source(mysql_connection& src) {
    auto fmt = src.scalar("SELECT @@global.binlog_format");
    auto log_bin = src.scalar("SELECT @@global.log_bin");
    if (!fmt || !log_bin)
      throw stop_pipeline{"source " + src.endpoint() + ": " +
                          (!fmt ? fmt.error() : log_bin.error()).to_string()};
    if (log_bin->value_or("0") != "1")
      throw stop_pipeline{"source " + src.endpoint() +
                          " has no binary log (log_bin=OFF): start it with --log-bin "
                          "and binlog_format=ROW"};
    if (fmt->value_or("") != "ROW")
      throw stop_pipeline{"source " + src.endpoint() +
                          " has binlog_format=" + fmt->value_or("?") +
                          "; shoal needs row events: set binlog_format=ROW on the source "
                          "(SET GLOBAL binlog_format=ROW and binlog_format=ROW in its "
                          "config file)"};
    if (streams())
      check_stream_source(src);
  }

  // A change stream writes each event from the binlog alone: column names,
  // character sets and members from TABLE_MAP metadata, both whole images.
  void check_stream_source(mysql_connection& src) {
    for (auto var : {"binlog_row_metadata", "binlog_row_image"}) {
      // Invalidation alone (target none) needs the names, not whole images.
      if (!writes_events() && std::string{var} == "binlog_row_image")
        continue;
      auto v = src.scalar(std::string{"SELECT @@global."} + var);
      if (!v)
        throw stop_pipeline{"source " + src.endpoint() + ": " + v.error().to_string()};
      if (v->value_or("") != "FULL")
        throw stop_pipeline{
            "source " + src.endpoint() + " has " + var + "=" + v->value_or("?") + "; a " +
            std::string{writes_events() ? "stream target" : "pipeline without a target"} +
            " needs " + var +
            "=FULL (column names, character sets and whole before and after images "
            "in the binlog): SET GLOBAL " +
            var + "=FULL and put it in the config file"};
    }
    auto names =
        src.query("SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS");
    check(names, "source " + src.endpoint() + ": reading the collations");
    charsets_.clear();
    for (auto& r : names->rows)
      if (r[0] && r[1])
        charsets_[static_cast<uint32_t>(std::stoul(*r[0]))] = *r[1];
    if (!writes_events())
      return;
    // Their text forms are not written yet (change_event.hpp): refused rather
    // than sent as their stored bytes.
    auto odd = src.query(
        "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM "
        "information_schema.COLUMNS WHERE DATA_TYPE IN ('uuid','inet4','inet6')");
    check(odd, "source " + src.endpoint() + ": reading the column types");
    for (auto& r : odd->rows) {
      auto db = r[0].value_or("");
      auto table = r[1].value_or("");
      if (cfg().filter.selected(db, table))
        throw stop_pipeline{"source " + src.endpoint() + ": " + db + "." + table + "." +
                            r[2].value_or("") + " is of type " + r[3].value_or("") +
                            ", which a stream target cannot write faithfully yet: "
                            "exclude the table, or change the column to CHAR/BINARY"};
    }
  }

  // The GTID of the last group before `at` on the source (MariaDB's
  // BINLOG_GTID_POS); empty when the source is MySQL or logs several domains.
  static mariadb_gtid gtid_before(mysql_connection& src, const binlog_position& at) {
    auto r = src.scalar("SELECT BINLOG_GTID_POS(" + src.quote(at.file) + "," +
                        std::to_string(at.pos) + ")");
    if (!r || !*r)
      return {};
    return mariadb_gtid::parse(**r).value_or(mariadb_gtid{});
  }

  // The checkpoints were written on another server: moves every stored place
  // (partition keys, a DDL in progress, round records) to where the same
  // GTIDs are on `src`, in one transaction that also records `src` as theirs.
  void move_checkpoints(const std::vector<std::optional<change_key>>& keys,
                        const source_identity& from, const source_identity& to) {
    auto floor = on_target([&](mysql_connection& t) {
      return load_xa_floor(t, cfg().checkpoint_database, cfg().name);
    });
    check(floor, "reading the XA floor");
    if (*floor)
      throw cannot_move{"an XA transaction prepared at " + (*floor)->to_string() +
                        " on " + from.endpoint +
                        " is not committed on the target yet; moving to another "
                        "server is not supported then (bring " +
                        from.endpoint + " back, or resync)"};
    std::vector<gtid_point> points;
    for (auto& k : keys)
      points.push_back({k->at, k->gtid, k->index > 0});
    if (ddl_intent_)
      points.push_back({ddl_intent_->at, ddl_intent_->gtid, true});
    auto located = locate_points(source_, cfg().server_id, points, [this] {
      receive_queued();
      return stopping();
    });
    if (!located.error.empty())
      throw cannot_move{located.error, located.behind, located.diverged};
    auto records = on_target([&](mysql_connection& t) {
      return load_rounds(t, cfg().checkpoint_database, cfg().name);
    });
    check(records, "reading the round records");
    auto& db = cfg().checkpoint_database;
    // Rows of a larger partition count stored before are rewritten too.
    std::vector<std::string> statements{checkpoint_clear_sql(db, cfg().name)};
    auto quote = [&](const std::string& v) { return target_->connection().quote(v); };
    for (uint32_t p = 0; p < keys.size(); ++p) {
      auto k = *keys[p];
      k.at = located.positions[p];
      statements.push_back(checkpoint_store_sql(db, cfg().name, p, k));
    }
    if (ddl_intent_) {
      auto& at = located.positions[keys.size()];
      statements.push_back(
          "UPDATE " + sql_identifier(db) + ".`sync_ddl` SET file=" + quote(at.file) +
          ", pos=" + std::to_string(at.pos) + " WHERE pipeline=" + quote(cfg().name));
    }
    // A round record names its round's end, where the partitions that
    // committed their share stand: it moves with them; the others are spent.
    for (auto& r : *records) {
      std::optional<binlog_position> moved;
      for (uint32_t p = 0; p < keys.size(); ++p)
        if (keys[p]->index == 0 && keys[p]->at == r.end)
          moved = located.positions[p];
      auto where = " WHERE pipeline=" + quote(cfg().name) +
                   " AND partition_id=" + std::to_string(r.partition);
      statements.push_back(
          moved ? "UPDATE " + sql_identifier(db) + ".`sync_round` SET file=" +
                      quote(moved->file) + ", pos=" + std::to_string(moved->pos) + where
                : "DELETE FROM " + sql_identifier(db) + ".`sync_round`" + where);
    }
    statements.push_back(source_store_sql(db, cfg().name, to));
    apply_on_target(statements, "moving the checkpoints to " + to.endpoint);
    std::string moved;
    for (uint32_t p = 0; p < keys.size(); ++p)
      if (p < 3)
        moved += (p ? ", " : "") + keys[p]->to_string() + " -> " +
                 located.positions[p].to_string();
    st_->log(false, "the checkpoints were written from " + from.endpoint +
                        " (server_id " + std::to_string(from.server_id) +
                        "); moved by GTID to " + to.endpoint + " (server_id " +
                        std::to_string(to.server_id) + ", " +
                        std::to_string(located.events_read) + " events read): " + moved +
                        (keys.size() > 3 ? ", ..." : ""));
    std::lock_guard<std::mutex> guard{st_->mtx};
    ++st_->status.source_switches;
  }

  // Loads the checkpoints and finds where to start reading `src`: the
  // lowest checkpoint (moved there first when another server wrote it), or
  // the configured start. Throws cannot_move when `src` cannot take them.
  bool position(mysql_connection& src, const source_identity& identity) {
    auto stored_source = on_target([&](mysql_connection& t) {
      return load_source(t, cfg().checkpoint_database, cfg().name);
    });
    check(stored_source, "reading which source the checkpoints belong to");
    auto keys = on_target([&](mysql_connection& t) {
      return load_checkpoints(t, cfg().checkpoint_database, cfg().name, cfg().partitions);
    });
    if (!keys)
      throw stop_pipeline{keys.error().to_string()};
    if (redis_stream())
      take_stream_positions(*keys);
    auto intent = on_target([&](mysql_connection& t) {
      return load_ddl_intent(t, cfg().checkpoint_database, cfg().name);
    });
    check(intent, "reading the DDL in progress");
    ddl_intent_ = *intent;
    if (lowest_key(*keys) && *stored_source &&
        (*stored_source)->server_id != identity.server_id) {
      move_checkpoints(*keys, **stored_source, identity);
      return position(src, identity);
    }
    if (!*stored_source || (*stored_source)->endpoint != identity.endpoint)
      apply_on_target({source_store_sql(cfg().checkpoint_database, cfg().name, identity)},
                      "recording the source");
    if (auto low = lowest_key(*keys)) {
      // load_checkpoints only accepts another stored count when every stored
      // key is the same: then each partition of the new count starts there.
      if (auto stored = stored_partitions(); stored != cfg().partitions) {
        st_->log(false, "partition count changed from " + std::to_string(stored) +
                            " to " + std::to_string(cfg().partitions) +
                            "; every partition was at " + low->to_string() +
                            ", so each new one starts there");
        rewrite_checkpoints(*low);
      }
      if (rounds() && low->index != 0)
        throw stop_pipeline{
            "pipeline \"" + cfg().name +
            "\" was checkpointed inside a source "
            "transaction (" +
            low->to_string() +
            ") by \"apply\": \"key\", and "
            "\"apply\": \"transaction\" commits transactions whole: run it with "
            "\"apply\": \"key\" until the source is idle for a moment (the "
            "partitions then stand between transactions), then switch"};
      auto high = *low;
      for (auto& k : *keys)
        if (high < *k)
          high = *k;
      if (!(high == *low))
        check_interrupted_round(*low, high);
      acc_start_ = *low;
      last_group_end_ = low->at;
      start_ = low->at;
      // Nothing at or below the lowest partition key needs handing on again.
      resend_floor_ = resend_floor{low};
      auto floor = on_target([&](mysql_connection& t) {
        return load_xa_floor(t, cfg().checkpoint_database, cfg().name);
      });
      check(floor, "reading the XA floor");
      if (*floor)
        xa_floor_written_ = **floor;
      if (*floor && **floor < start_) {
        start_ = **floor;
        st_->log(false, "an XA transaction prepared at " + start_.to_string() +
                            " was not applied everywhere: reading again from there");
      }
      // The server that wrote the checkpoint must still have its binlog: one
      // reset (RESET MASTER) or rebuilt under the same server_id has other
      // transactions at those positions.
      if (low->index == 0 && !low->gtid.empty()) {
        auto there = gtid_before(src, low->at);
        if (!there.empty() && there != low->gtid)
          throw stop_pipeline{
              "source " + identity.endpoint + " has GTID " + there.to_string() +
              " before " + low->at.to_string() + ", where the checkpoint has " +
              low->gtid.to_string() +
              ": its binlog is not the one the checkpoint was written from (the "
              "server was reset or rebuilt); resync (start: snapshot)"};
      }
      last_gtid_ = low->index == 0 && start_ == low->at && !low->gtid.empty()
                       ? low->gtid
                       : gtid_before(src, start_);
      st_->log(false, "resuming from " + start_.to_string() + " on " + identity.endpoint);
      for (uint32_t p = 0; p < parts_.size(); ++p) {
        applied_[p] = *(*keys)[p];
        self_->send(parts_[p], partition_start{*(*keys)[p], epoch_});
      }
      {
        std::lock_guard<std::mutex> guard{st_->mtx};
        for (uint32_t p = 0; p < st_->status.partitions.size() && p < keys->size(); ++p)
          st_->status.partitions[p].applied = *(*keys)[p];
      }
      mark_running();
      return true;
    }
    // A snapshot that lost its source connection copies again on a new one.
    std::optional<mysql_connection> again;
    auto* cur = &src;
    auto mode = cfg().start_mode;
    if (mode == start_point::snapshot) {
      st_->set_state(pipeline_state::snapshot);
      // Under the writer lock: a frozen older owner must not copy into tables
      // a newer one already streams into (copy_snapshot recreates them).
      auto copy = [&] {
        snapshot_result result;
        auto failure = target_->run_as_writer([&](mysql_connection& t) {
          result = copy_snapshot(*cur, t, cfg().filter, 2000,
                                 [&](uint64_t copied, uint64_t expected) {
                                   {
                                     std::lock_guard<std::mutex> guard{st_->mtx};
                                     st_->status.snapshot_rows = copied;
                                     st_->status.snapshot_rows_expected = expected;
                                   }
                                   // A long copy still stops on an exit message.
                                   receive_queued();
                                   return !stopping();
                                 });
          return mysql_expected<mysql_ok>{mysql_ok{}};
        });
        if (failure && failure->fenced) {
          st_->record_claimed_elsewhere(failure->error.message);
          throw stop_pipeline{"snapshot: " + failure->error.message};
        }
        if (failure) {
          result.error = "target: " + failure->error.to_string();
          result.connection_lost = is_connection_lost(failure->error);
        }
        return result;
      };
      auto result = copy();
      // A lost connection costs the copy, not the pipeline: nothing is
      // checkpointed before the copy ends, so a new one, from a new view, recreates
      // every table and starts streaming from that view's position instead.
      backoff delay{milliseconds{100}, milliseconds{2000}};
      while (!result.error.empty() && result.connection_lost && !stopping()) {
        st_->log(true, "snapshot: " + result.error +
                           " (copying again from a new view after reconnecting)");
        {
          std::lock_guard<std::mutex> guard{st_->mtx};
          ++st_->status.reconnects;
          st_->status.snapshot_rows = 0;
        }
        pause(delay.next());
        again = connect_source(*this, source_);
        if (!again || !reconnect_target())
          return false;
        cur = &*again;
        result = copy();
      }
      if (!result.error.empty())
        throw stop_pipeline{"snapshot: " + result.error};
      start_ = result.position;
      st_->log(false, "snapshot of " + std::to_string(result.tables) + " tables, " +
                          std::to_string(result.rows) + " rows at " + start_.to_string());
    } else if (mode == start_point::position) {
      start_ = cfg().start_position;
    } else if (mode == start_point::gtid) {
      gtid_ = cfg().start_gtid;
    } else {
      auto status = cur->query("SHOW MASTER STATUS");
      check(status, "SHOW MASTER STATUS");
      if (status->rows.empty())
        throw stop_pipeline{"source " + cur->endpoint() +
                            ": SHOW MASTER STATUS is empty"};
      start_.file = status->rows[0][0].value_or("");
      start_.pos = std::stoull(status->rows[0][1].value_or("4"));
    }
    if (gtid_.empty()) {
      last_gtid_ = gtid_before(*cur, start_);
      store_initial(boundary_key(start_));
    } else {
      last_gtid_ = mariadb_gtid::parse(gtid_).value_or(mariadb_gtid{});
    }
    return true;
  }

  // A stream target's positions are those its server holds, each written with
  // the entries it covers; the state server's keys stand where no partition
  // has appended yet.
  void take_stream_positions(std::vector<std::optional<change_key>>& keys) {
    auto& claim = *stream_claim_;
    if (lowest_key(keys) && !claim.existed)
      throw stop_pipeline{
          "target " + sink_->endpoint() + " holds none of pipeline " + cfg().name +
          "'s state although it ran before (its state server " + cfg().target.endpoint() +
          " has positions): Redis lost its data, or another "
          "server is configured. Nothing is sent from here, so that no change is "
          "skipped: to send every change again from the start, delete the pipeline's "
          "rows from " +
          cfg().checkpoint_database + ".sync_checkpoint"};
    // A row's partition depends on the count: under another count a partition
    // would send again changes of keys another one already sent. The count
    // changes only where every partition stands at one position.
    auto stored = stored_partitions();
    if (stored != 0 && stored != keys.size() && !claim.positions.empty()) {
      auto first = claim.positions.begin()->second;
      bool agree = true;
      for (uint32_t p = 0; p < stored; ++p) {
        auto at = claim.positions.find(p);
        agree = agree && at != claim.positions.end() && !(at->second < first) &&
                !(first < at->second);
      }
      if (!agree)
        throw stop_pipeline{
            "target " + sink_->endpoint() + ": the partition count changed from " +
            std::to_string(stored) + " to " + std::to_string(keys.size()) +
            " while the partitions stand at different positions: run with " +
            std::to_string(stored) +
            " partitions until the source is idle for a moment (they then agree), then "
            "change it"};
      for (auto& k : keys)
        k = first;
      return;
    }
    for (auto& [p, key] : claim.positions)
      if (p < keys.size())
        keys[p] = key;
  }

  // The partitions stand at different keys. In transaction mode that is a
  // round cut short: those at `high` committed their share (their sync_round
  // rows say which groups), the others did not; the round is read again from
  // `low` and only the other groups applied. In key mode after such a stop the
  // per-partition keys would skip rows, so it stops with what to do.
  void check_interrupted_round(const change_key& low, const change_key& high) {
    if (streams())
      return; // no rounds: each partition resumes from its own position
    auto records = on_target([&](mysql_connection& t) {
      return load_rounds(t, cfg().checkpoint_database, cfg().name);
    });
    check(records, "reading the round records");
    std::vector<const round_record*> at_high;
    for (auto& r : *records)
      if (r.partition < parts_.size() && high == change_key{r.end, 0})
        at_high.push_back(&r);
    auto range = low.to_string() + " .. " + high.to_string();
    if (!rounds()) {
      if (!at_high.empty())
        throw stop_pipeline{
            "pipeline \"" + cfg().name +
            "\" stopped in the middle of a round of "
            "\"apply\": \"transaction\" (its partitions stand at " +
            range +
            "), which key mode cannot resume without applying rows twice or skipping "
            "them: run it with \"apply\": \"transaction\" until the source is idle "
            "for a moment, then switch"};
      return;
    }
    if (at_high.empty())
      throw stop_pipeline{
          "pipeline \"" + cfg().name + "\" has partitions at different positions (" +
          range +
          ") without a round record: they were written in \"apply\": \"key\" "
          "mode, whose partitions do not apply whole transactions; run it with "
          "\"apply\": \"key\" until the source is idle for a moment (the partitions "
          "then agree on one position), then switch"};
    for (auto* r : at_high) {
      auto groups = decode_groups(r->groups);
      if (!groups)
        throw stop_pipeline{cfg().checkpoint_database +
                            ".sync_round: the row of "
                            "pipeline \"" +
                            cfg().name + "\" partition " + std::to_string(r->partition) +
                            " does not hold a list of groups; resync (start: snapshot)"};
      done_before_.insert(groups->begin(), groups->end());
      old_groups_[r->partition] = std::move(*groups);
    }
    forced_end_ = high;
    st_->log(false, "a round ending at " + high.at.to_string() +
                        " was cut short: " + std::to_string(at_high.size()) + " of " +
                        std::to_string(parts_.size()) + " partitions committed " +
                        std::to_string(done_before_.size()) +
                        " of its transactions; reading it again from " +
                        low.at.to_string() + " to apply the others");
  }

  static std::string default_owner() {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0)
      std::strcpy(host, "unknown-host");
    return std::string{host} + ":" + std::to_string(getpid());
  }

  // How many partition rows the checkpoint table holds for this pipeline.
  uint32_t stored_partitions() {
    auto n = on_target([&](mysql_connection& t) {
      return t.scalar("SELECT COUNT(*) FROM " +
                      sql_identifier(cfg().checkpoint_database) +
                      ".`sync_checkpoint` WHERE pipeline=" + t.quote(cfg().name) +
                      " AND partition_id>=0");
    });
    check(n, "counting the checkpoint rows");
    return static_cast<uint32_t>(std::stoul(n->value_or("0")));
  }

  // Replaces the partition rows with one per configured partition at `key`.
  void rewrite_checkpoints(const change_key& key) {
    std::vector<std::string> statements{
        checkpoint_clear_sql(cfg().checkpoint_database, cfg().name)};
    for (uint32_t p = 0; p < parts_.size(); ++p)
      statements.push_back(
          checkpoint_store_sql(cfg().checkpoint_database, cfg().name, p, key));
    apply_on_target(statements, "rewriting the checkpoint for the new partition count");
  }

  // Every partition starts at `key` (first start of the pipeline).
  void store_initial(const change_key& key) {
    store_all(key);
    mark_running();
    for (auto& p : parts_)
      self_->send(p, partition_start{key, epoch_});
    st_->log(false, "starting at " + key.at.to_string());
  }

  /// Every partition's checkpoint at `key`.
  std::vector<std::string> checkpoints_at(const change_key& key) {
    std::vector<std::string> statements;
    for (uint32_t p = 0; p < parts_.size(); ++p)
      statements.push_back(
          checkpoint_store_sql(cfg().checkpoint_database, cfg().name, p, key));
    return statements;
  }

  void store_all(const change_key& key) {
    apply_on_target(checkpoints_at(key), "writing the checkpoint");
    mark_applied_everywhere(key);
    acc_start_ = key;
    acc_groups_ = 0;
    last_group_end_ = key.at;
  }

  // The start position is applied: wait_applied() can succeed from here on,
  // so status() must not still say "starting" or "snapshot" (stream() would
  // say "running" a moment later).
  void mark_running() { st_->set_state(pipeline_state::running); }

  void mark_applied_everywhere(const change_key& key) {
    for (auto& a : applied_)
      if (a < key)
        a = key;
    {
      std::lock_guard<std::mutex> guard{st_->mtx};
      for (auto& p : st_->status.partitions)
        if (p.applied < key)
          p.applied = key;
    }
    st_->cv.notify_all();
  }

  // Runs `f` on the target connection; reconnects (with the session set up
  // again) and runs it again while the connection is lost, until the pipeline
  // stops. For reads and idempotent writes only.
  template <class F>
  auto on_target(F&& f) -> decltype(f(std::declval<mysql_connection&>())) {
    while (true) {
      auto r = f(target_->connection());
      if (r || !is_connection_lost(r.error()) || stopping())
        return r;
      st_->log(true, "target: " + r.error().to_string() + " (reconnecting)");
      if (!reconnect_target())
        throw stop_pipeline{"target: " + r.error().to_string()};
    }
  }

  // Applies `statements` in one fenced transaction. After a lost connection,
  // the transaction may have committed: when `applied` is given and every
  // partition's checkpoint is at or past it, it did; otherwise it runs again
  // (the statements must then leave the same state when run twice, as
  // checkpoint writes do).
  // `ops`, when given, are the row changes the statements apply: a value the
  // target rejects is then reported with the row it belongs to.
  void apply_on_target(const std::vector<std::string>& statements,
                       const std::string& what,
                       std::optional<change_key> applied = std::nullopt,
                       const std::vector<row_op>* ops = nullptr) {
    while (true) {
      auto failure = target_->apply(statements);
      if (!failure)
        return;
      if (failure->fenced) {
        st_->record_claimed_elsewhere(failure->error.message);
        throw stop_pipeline{failure->error.message};
      }
      if (stopping())
        throw stop_pipeline{what + ": " + failure->error.to_string()};
      if (!is_connection_lost(failure->error))
        throw stop_pipeline{
            what + ": the target rejected it: " +
            (ops ? locate_rejected(*target_, *ops, failure->error)
                 : failure->error.to_string()) +
            "; the pipeline stops so that the target does not diverge from the source"};
      st_->log(true, "target: " + failure->error.to_string() + " (reconnecting)");
      if (!reconnect_target())
        throw stop_pipeline{what + ": " + failure->error.to_string()};
      if (applied) {
        auto keys = on_target([&](mysql_connection& t) {
          return load_checkpoints(t, cfg().checkpoint_database, cfg().name,
                                  cfg().partitions);
        });
        check(keys, what + ": reading the checkpoint again");
        if (auto low = lowest_key(*keys); low && *applied <= *low)
          return;
      }
    }
  }

  // Reconnects the target session; the target may come back with another
  // max_allowed_packet, so the statement budget is read again.
  bool reconnect_target() {
    budget_ = 0;
    return recover_target(*this, *target_, "target");
  }

  template <class T> void check(const mysql_expected<T>& r, const std::string& what) {
    if (!r)
      throw stop_pipeline{what + ": " + r.error().to_string()};
  }

  void stream() {
    st_->set_state(pipeline_state::running);
    resume_at_ = start_;
    backoff delay{milliseconds{100}, milliseconds{2000}};
    // Since when the source has not answered (lost: it has not).
    steady_clock::time_point lost_since{};
    bool lost = false;
    while (!stopping()) {
      stream_options opts;
      opts.server_id = cfg().server_id;
      opts.start_file = resume_at_.file;
      opts.start_pos = resume_at_.pos;
      opts.gtid = gtid_;
      opts.heartbeat = cfg().heartbeat;
      auto s = binlog_stream::open(source_, opts);
      if (!s) {
        if (!is_connection_lost(s.error()))
          throw stop_pipeline{"source: " + s.error().to_string()};
        auto now = steady_clock::now();
        if (!lost)
          lost_since = now;
        lost = true;
        if (candidates().size() > 1 && now - lost_since >= cfg().source_switch_after) {
          switch_source(s.error().to_string());
          lost = false;
          delay.reset();
          resume_at_ = start_;
          continue;
        }
        pause(delay.next());
        continue;
      }
      lost = false;
      delay.reset();
      decoder_options options;
      // Without TABLE_MAP metadata (binlog_row_metadata=NO_LOG, MariaDB's
      // default) signedness and binary-ness come from the target's schema, which DDL
      // barriers keep at the table map's version; a column nobody can describe stops the
      // pipeline instead of being guessed.
      options.require_column_details = true;
      decoder_ = event_decoder{options};
      decoder_.set_schema_lookup([this](std::string_view db, std::string_view table) {
        return column_info(std::string{db}, std::string{table});
      });
      decoder_.set_checksum((*s)->checksums() ? checksum_algorithm::crc32
                                              : checksum_algorithm::off);
      file_ = resume_at_.file;
      decoder_.set_source(file_);
      in_group_ = false;
      while (!stopping()) {
        auto bytes = (*s)->next();
        if (!bytes) {
          receive_queued();
          if (stopping())
            return;
          if (!is_connection_lost(bytes.error()) && bytes.error().code != 2013)
            throw stop_pipeline{"source " + resume_at_.to_string() + ": " +
                                bytes.error().to_string()};
          st_->log(true, "source connection lost: " + bytes.error().to_string() +
                             "; reconnecting from " + last_end_.to_string());
          break;
        }
        handle(*bytes);
        // The mailbox holds only messages receive_one handles, so a message
        // waiting (an exit one, or credits) is served at once.
        if (++since_poll_ >= 64 || !self_->mailbox().empty()) {
          since_poll_ = 0;
          poll();
        }
        if (rounds()) {
          // One round in flight while the next one fills up to its limit (a
          // transaction larger than that still goes whole). When the source
          // is quiet, the next round goes out as soon as the one in flight is
          // done instead of when the next event comes.
          while (!cut_pending_ && round_in_flight() &&
                 (next_rows_ >= round_limit() || next_bytes_ >= round_byte_limit() ||
                  (!next_.empty() && !in_group_ && !(*s)->readable())) &&
                 !stopping())
            wait_credit(milliseconds{5});
          if (cut_pending_)
            finish_cut();
        } else {
          wait_under_bound();
        }
      }
      // Reconnect from the start of the group in progress; do not hand on its
      // rows again (in transaction mode none were: its rows are read again).
      flush_all();
      txn_ops_.clear();
      resend_floor_.raise(last_handed_);
      resume_at_ = in_group_ ? group_start_ : last_end_;
      gtid_.clear();
      std::lock_guard<std::mutex> guard{st_->mtx};
      ++st_->status.reconnects;
    }
  }

  // The source in use has not answered for source_switch_after: everything
  // handed on is applied (the checkpoints are what moves), then the pipeline
  // starts again from its checkpoints on whichever candidate answers and has
  // the target's transactions (the lost one too, should it come back first).
  void switch_source(const std::string& error) {
    st_->log(true, "source " + endpoint_of(source_) + " has not answered for " +
                       std::to_string(cfg().source_switch_after.count()) + " ms (" +
                       error + "); trying every candidate");
    // What moves is the checkpoints: everything handed on is applied first.
    // In transaction mode that is the round in flight; the transactions
    // gathered for the next one are read again from the checkpoints.
    if (rounds()) {
      while (round_in_flight() && !stopping())
        wait_credit(milliseconds{100});
    } else {
      drain_all();
    }
    if (stopping())
      throw stop_pipeline{"stopped while moving to another source"};
    reset_reading();
    if (!start_on_a_source())
      throw stop_pipeline{"stopped while choosing a source"};
  }

  // Forgets where reading stood, for position() to set it again from the
  // checkpoints (nothing is in flight).
  void reset_reading() {
    for (auto& o : outbox_)
      o.clear();
    txn_ops_.clear();
    touched_.clear();
    in_group_ = false;
    group_index_ = 0;
    group_start_ = {};
    group_gtid_ = {};
    last_gtid_ = {};
    last_end_ = {};
    last_handed_.reset();
    last_mark_.reset();
    forced_end_.reset();
    done_before_.clear();
    old_groups_.clear();
    acc_groups_ = 0;
    next_.clear();
    next_rows_ = 0;
    next_bytes_ = 0;
    gtid_.clear();
    xa_ = xa_tracker{};
    xa_floor_written_.reset();
  }

  // In key mode: waits while the rows in flight are at a bound.
  void wait_under_bound() {
    if (rounds() || !over_bound())
      return;
    // Rows still in the outboxes count as in flight, but no partition has
    // them: hand them on, or the credits that free the reader never come
    // (partitions x batch_rows can exceed max_inflight_rows).
    flush_all();
    while (over_bound() && !stopping())
      wait_credit(milliseconds{100});
  }

  void poll() {
    receive_queued();
    if (xa_.has_applying())
      update_xa_floor();
    // The one place the in-flight counts reach the status (end_group polls).
    std::lock_guard<std::mutex> guard{st_->mtx};
    st_->status.inflight = inflight_;
    st_->status.inflight_bytes = inflight_bytes_;
    st_->status.inflight_bytes_peak = inflight_bytes_peak_;
  }

  // Rows read and not yet applied are at one of the bounds: by count, or by size
  // (wide rows).
  bool over_bound() {
    return inflight_ >= cfg().max_inflight_rows ||
           inflight_bytes_ >= cfg().max_inflight_bytes;
  }

  void add_inflight(int64_t rows, int64_t bytes, uint32_t event_time) {
    if (inflight_ == 0 && rows > 0) {
      std::lock_guard<std::mutex> guard{st_->mtx};
      st_->pending_since = event_time;
    }
    inflight_ += rows;
    inflight_bytes_ += bytes;
    inflight_bytes_peak_ = std::max(inflight_bytes_peak_, inflight_bytes_);
  }

  void on_done(const rows_done& d) {
    inflight_ -= d.rows;
    inflight_bytes_ -= d.bytes;
    if (d.applied && d.partition < applied_.size() && applied_[d.partition] < *d.applied)
      applied_[d.partition] = *d.applied;
  }

  void wait_credit(milliseconds timeout) {
    receive_one(timeout);
    poll();
  }

  bool round_in_flight() const { return round_waiting_ > 0; }

  void on_round_done(const round_done& d) {
    if (!round_in_flight() || d.round != round_id_)
      return;
    inflight_ -= d.rows;
    inflight_bytes_ -= d.bytes;
    if (--round_waiting_ > 0)
      return;
    mark_applied_everywhere(round_end_);
    if (!next_.empty() && !forced_end_)
      dispatch_round();
  }

  void on_drained(const drained_reply& d) {
    if (d.id == barrier_id_)
      ++drained_;
  }

  void handle(std::string_view bytes) {
    if (st_->fault("reader_exception"))
      throw std::runtime_error("injected failure");
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
      store_initial(boundary_key({file_, offset}));
      gtid_.clear();
    }
    group_start_ = {file_, offset};
    group_gtid_ = {};
    in_group_ = true;
    group_index_ = 0;
    touched_.clear();
    xa_.begin_group(false, false);
  }

  bool gtid_pending_initial() const { return !gtid_.empty() && start_.empty(); }

  /// The key of the `index`-th change of the group in progress.
  change_key in_group_key(uint64_t index) const {
    return {group_start_, index, group_gtid_};
  }

  /// The key "everything before `at`", for a place between groups.
  change_key boundary_key(const binlog_position& at) const { return {at, 0, last_gtid_}; }

  void on_event(const event_header&, uint64_t offset, mariadb_gtid_event& e) {
    open_group(offset);
    group_gtid_ = e.gtid;
    standalone_ = e.standalone();
    // MariaDB flags the group of an XA PREPARE in its GTID (FL_PREPARED_XA).
    xa_.begin_group(true, (e.flags & 64) != 0);
  }

  void on_event(const event_header&, uint64_t offset, mysql_gtid_event&) {
    open_group(offset);
    standalone_ = false;
    // MySQL's GTID says nothing about XA: its group of an XA PREPARE opens with
    // XA START and ends with XA END and an XA_PREPARE event.
  }

  // MySQL's XA_PREPARE event: the end of an XA transaction's group, whose rows
  // were held at its XA END. With one_phase (XA COMMIT ... ONE PHASE) they are
  // committed here.
  void on_event(const event_header& h, uint64_t offset, xa_prepare_event& e) {
    if (e.one_phase)
      commit_prepared(offset, e.xid(), true);
    end_group(h.log_pos);
  }

  void on_event(const event_header& h, uint64_t offset, query_event& q) {
    switch (q.kind) {
    case query_kind::begin:
      if (!in_group_)
        open_group(offset);
      standalone_ = false;
      if (starts_with_xa(q.statement, "XA START "))
        xa_.on_xa_start();
      return;
    case query_kind::commit:
    case query_kind::rollback:
      if (starts_with_xa(q.statement, "XA END ") &&
          xa_.on_xa_end(xa_tracker::xid_of(q.statement, "XA END "), group_start_)) {
        // Durable before anything after this group is handed on: a crash from
        // here on resumes at or before this XA PREPARE. The group ends at its
        // XA_PREPARE event.
        update_xa_floor();
        return;
      }
      if (starts_with_xa(q.statement, "XA COMMIT "))
        commit_prepared(offset, xa_tracker::xid_of(q.statement, "XA COMMIT "),
                        q.statement.find(" ONE PHASE") != std::string::npos);
      else if (starts_with_xa(q.statement, "XA ROLLBACK ") &&
               xa_.rollback(xa_tracker::xid_of(q.statement, "XA ROLLBACK ")))
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
    case query_kind::ddl: {
      // A DDL that is not applied (ignored or skipped) inside a transaction
      // after its rows, such as a DROP TEMPORARY TABLE: in transaction mode the
      // transaction goes on to its commit, whole (one that is applied stops
      // the pipeline in apply_ddl).
      bool inside = rounds() && in_group_ && !txn_ops_.empty();
      if (!in_group_)
        open_group(offset);
      apply_ddl(h, offset, q);
      if (!inside)
        end_group(h.log_pos);
      return;
    }
    case query_kind::other:
      if (!in_group_ || standalone_)
        end_group(h.log_pos);
      return;
    }
  }

  void on_event(const event_header& h, uint64_t, xid_event&) { end_group(h.log_pos); }

  // MySQL's compressed transaction: its events as if they came one by one, at
  // the payload event's place (their own log_pos is 0), so the group its GTID
  // opened ends where the payload ends.
  void on_event(const event_header& h, uint64_t offset, transaction_payload_event& p) {
    for (auto& inner : p.events) {
      auto ih = inner.header;
      ih.log_pos = h.log_pos;
      std::visit([&](auto& body) { on_event(ih, offset, body); }, inner.body);
      // A large transaction keeps to the in-flight bounds as its events go.
      wait_under_bound();
    }
  }

  void on_event(const event_header& h, uint64_t offset, rows_event& e) {
    auto& tm = *e.table;
    if (!cfg().filter.selected(tm.schema, tm.table))
      return;
    if (!in_group_)
      open_group(offset);
    auto schema = resolve(tm, offset);
    bool any_generated = std::find(schema->generated.begin(), schema->generated.end(),
                                   true) != schema->generated.end();
    for (auto& row : e.rows) {
      if (any_generated)
        drop_generated(*schema, row);
      if (e.kind != row_kind::write && schema->has_key() &&
          !has_key_values(*schema, row.before))
        schema = match_without_key(schema, offset);
      if (xa_.holding()) {
        // A prepared XA transaction is not committed yet (see xa_tracker).
        bool moves =
            e.kind == row_kind::update && schema->has_key() && changes_key(*schema, row);
        xa_.hold(held_row{e.kind, schema, std::move(row), h.timestamp, moves});
        continue;
      }
      auto key = in_group_key(++group_index_);
      if (resend_floor_.covers(key))
        continue;
      bool moves =
          e.kind == row_kind::update && schema->has_key() && changes_key(*schema, row);
      dispatch(ops_for_row(e.kind, schema, std::move(row), key, h.timestamp), moves, key);
    }
  }

  // A before image without every key column (binlog_row_image=MINIMAL logs the
  // key the source server uses, which may not be the one chosen here): rows of
  // this table are matched on the columns the image has, as for a table without
  // a key, and all go to one partition. Earlier changes of the table went by
  // key to several partitions, so they are applied first.
  std::shared_ptr<const table_schema>
  match_without_key(const std::shared_ptr<const table_schema>& schema, uint64_t offset) {
    if (!cfg().whole_transactions)
      drain_all();
    auto s = std::make_shared<table_schema>(*schema);
    s->key.clear();
    s->key_pads.clear();
    s->single_partition = true;
    s->single_partition_reason = "its before images lack the key columns";
    st_->log(false, file_ + ":" + std::to_string(offset) + ": " + s->source_db + "." +
                        s->source_table +
                        ": before images do not hold the key shoal chose; matching rows "
                        "on the columns they hold, in one partition");
    schemas_[s->source_db + "." + s->source_table] = s;
    return s;
  }

  // Generated columns are the target's to compute: left out of what is written
  // and of what rows are matched on (their values follow from the others).
  static void drop_generated(const table_schema& schema, row_change& row) {
    for (size_t i = 0; i < schema.generated.size(); ++i) {
      if (!schema.generated[i])
        continue;
      if (i < row.after.present.size())
        row.after.present[i] = false;
      if (i < row.before.present.size())
        row.before.present[i] = false;
    }
  }

  /// Routes one row's ops to their partitions (a key change in a barrier).
  void dispatch(std::vector<row_op> ops, bool moves, const change_key& key) {
    ++rows_read_;
    if (rounds()) {
      // The transaction goes out whole at its end (end_round_group).
      for (auto& op : ops)
        txn_ops_.push_back(std::move(op));
      return;
    }
    // One partition applies every row in binlog order: a key change needs no
    // barrier there (and a barrier inside a transaction would split it).
    if (moves && !cfg().whole_transactions) {
      apply_in_barrier(ops, key);
      return;
    }
    for (auto& op : ops) {
      auto& image =
          op.kind == op_kind::upsert || op.kind == op_kind::insert ? op.after : op.before;
      auto p = partition_of(*op.table, image, static_cast<uint32_t>(parts_.size()));
      add_inflight(1, op_bytes(op), op.event_time);
      outbox_[p].push_back(std::move(op));
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

  /// Keeps the floor row at the earliest XA PREPARE whose rows are not yet
  /// applied by every partition.
  void update_xa_floor() {
    change_key applied_everywhere;
    bool first = true;
    for (auto& a : applied_)
      if (first || a < applied_everywhere) {
        applied_everywhere = a;
        first = false;
      }
    auto floor = xa_.floor(applied_everywhere);
    if (floor == xa_floor_written_)
      return;
    auto sql = floor ? xa_floor_store_sql(cfg().checkpoint_database, cfg().name, *floor)
                     : xa_floor_clear_sql(cfg().checkpoint_database, cfg().name);
    apply_on_target({sql}, "writing the XA floor");
    xa_floor_written_ = floor;
  }

  void commit_prepared(uint64_t offset, const std::string& xid, bool one_phase) {
    auto c = xa_.commit(xid, one_phase);
    using outcome = xa_tracker::commit_result::outcome;
    if (c.what == outcome::nothing)
      return;
    if (c.what == outcome::unknown)
      throw stop_pipeline{
          file_ + ":" + std::to_string(offset) + ": QUERY: XA COMMIT " + xid +
          " commits a transaction whose XA PREPARE came before the position this "
          "pipeline read from (it started, or resumed after a crash, between the two), "
          "so its changes are not known here: the target would miss them; resync "
          "(start: snapshot)"};
    // Applied at the commit, where the source made the changes visible; keys of
    // this group keep them in binlog order and after every earlier change.
    for (auto& r : c.rows) {
      auto key = in_group_key(++group_index_);
      if (resend_floor_.covers(key))
        continue;
      dispatch(ops_for_row(r.kind, r.table, std::move(r.change), key, r.time), r.moves,
               key);
    }
    // The floor stays until every partition has applied this group (its end is
    // the next group's start; poll() lifts it).
    xa_.applying(c.prepared_at, in_group_key(group_index_));
  }

  void on_event(const event_header&, uint64_t, heartbeat_event&) {
    poll();
    if (in_group_)
      return;
    if (!rounds())
      broadcast_marks();
    else if (!forced_end_ && !round_in_flight() &&
             acc_start_ < change_key{last_group_end_, 0})
      dispatch_round();
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
    if (!group_gtid_.empty())
      last_gtid_ = group_gtid_;
    in_group_ = false;
    if (rounds()) {
      end_round_group();
      poll();
      std::lock_guard<std::mutex> guard{st_->mtx};
      st_->status.handed_on = last_end_;
      st_->status.gtid = last_gtid_;
      st_->status.rows_read = rows_read_;
      return;
    }
    auto key = boundary_key(last_end_);
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
    st_->status.gtid = last_gtid_;
    st_->status.rows_read = rows_read_;
  }

  // -- rounds ("apply": "transaction") ------------------------------------------
  //
  // Complete transactions gather in the next round while one round is in
  // flight; when it is done (every partition it went to committed) the next
  // goes out at once, its transactions spread by writeset (writeset.hpp) over
  // as many partitions as its size calls for (round_partitions: a share of
  // batch_rows / 8 rows each). A round's end is the end of its last group; every
  // partition's checkpoint moves there, and each partition's sync_round row
  // says which of the round's groups it committed, so a round cut short by a
  // crash is read again and only its other groups applied
  // (check_interrupted_round). Groups are named by ordinal: the n-th group to
  // end after the round's start.

  void end_round_group() {
    auto end = boundary_key(last_end_);
    last_group_end_ = last_end_;
    if (acc_start_ < end) {
      auto ordinal = acc_groups_++;
      if (!txn_ops_.empty()) {
        last_handed_ = txn_ops_.back().key;
        if (!done_before_.count(ordinal)) {
          pending_txn t;
          t.ordinal = ordinal;
          t.rows = txn_ops_.size();
          for (auto& op : txn_ops_)
            add_writeset(op, t.ws);
          t.ops = std::move(txn_ops_);
          auto bytes = ops_bytes(t.ops);
          add_inflight(static_cast<int64_t>(t.rows), bytes, t.ops.front().event_time);
          next_rows_ += t.rows;
          next_bytes_ += bytes;
          next_.push_back(std::move(t));
        }
      }
    }
    txn_ops_.clear();
    if (forced_end_) {
      if (end == *forced_end_)
        dispatch_round();
      else if (*forced_end_ < end)
        throw stop_pipeline{
            last_end_.to_string() + ": the round cut short before the restart ended at " +
            forced_end_->at.to_string() +
            ", which is not the end of a group in this binlog: the source's binlog "
            "changed under the checkpoint; resync (start: snapshot)"};
      return;
    }
    if (round_in_flight())
      return;
    if (!next_.empty() ||
        (acc_start_ < end && steady_clock::now() - last_round_ > milliseconds{200}))
      dispatch_round();
  }

  size_t round_limit() {
    auto by_batch = cfg().batch_rows * parts_.size();
    auto by_memory =
        static_cast<size_t>(std::max<int64_t>(1, cfg().max_inflight_rows / 2));
    return std::max<size_t>(1, std::min(by_batch, by_memory));
  }

  int64_t round_byte_limit() {
    return std::max<int64_t>(1, cfg().max_inflight_bytes / 2);
  }

  // Sends the next round: its transactions to their partitions, every
  // partition's record with a share (the first partition with one also writes
  // the records of those without).
  // A test may cut the round short (fault "round_cut_short": one partition's
  // share is never sent, the pipeline fails once the others committed theirs,
  // as a crash would leave it; see finish_cut).
  void dispatch_round() {
    auto n = static_cast<uint32_t>(parts_.size());
    auto end = boundary_key(last_group_end_);
    std::vector<writeset> sets;
    std::vector<size_t> rows;
    for (auto& t : next_) {
      sets.push_back(std::move(t.ws));
      rows.push_back(t.rows);
    }
    // A small round (a quiet source, or a steady one caught up) is one commit.
    auto used =
        round_partitions(next_rows_, n, std::max<size_t>(1, cfg().batch_rows / 8));
    auto where = assign_transactions(sets, rows, used);
    std::vector<round_share> shares(n);
    std::vector<std::vector<uint32_t>> groups(n);
    for (size_t i = 0; i < next_.size(); ++i) {
      auto& share = shares[where[i]];
      for (auto& op : next_[i].ops)
        share.ops.push_back(std::move(op));
      ++share.transactions;
      groups[where[i]].push_back(next_[i].ordinal);
    }
    for (auto& [p, old] : old_groups_) {
      auto& g = groups[p];
      g.insert(g.end(), old.begin(), old.end());
      std::sort(g.begin(), g.end());
      g.erase(std::unique(g.begin(), g.end()), g.end());
    }
    std::vector<uint32_t> senders;
    for (uint32_t p = 0; p < n; ++p)
      if (!shares[p].ops.empty())
        senders.push_back(p);
    if (senders.empty())
      senders.push_back(0);
    for (uint32_t p = 0; p < n; ++p) {
      auto writer = shares[p].ops.empty() ? senders.front() : p;
      shares[writer].records.emplace_back(p, encode_groups(groups[p]));
    }
    ++round_id_;
    bool cut = senders.size() >= 2 && st_->fault("round_cut_short");
    for (auto p : senders) {
      if (cut && p == senders.back())
        continue;
      shares[p].round = round_id_;
      shares[p].end = end;
      self_->send(parts_[p], std::move(shares[p]));
    }
    round_waiting_ = senders.size();
    round_end_ = end;
    acc_start_ = end;
    acc_groups_ = 0;
    next_.clear();
    next_rows_ = 0;
    next_bytes_ = 0;
    forced_end_.reset();
    done_before_.clear();
    old_groups_.clear();
    last_round_ = steady_clock::now();
    cut_pending_ = cut;
  }

  // The fault "round_cut_short" (dispatch_round): once the shares sent are
  // committed, the pipeline fails.
  void finish_cut() {
    while (round_waiting_ > 1 && !stopping())
      wait_credit(milliseconds{5});
    throw stop_pipeline{"injected: a round cut short at " + round_end_.at.to_string()};
  }

  // Every round handed on is committed (before a DDL).
  void finish_rounds() {
    if (forced_end_)
      throw stop_pipeline{last_end_.to_string() +
                          ": a DDL inside the round cut short before the restart, "
                          "which cannot be: resync (start: snapshot)"};
    while (round_in_flight() && !stopping())
      wait_credit(milliseconds{100});
    if (!next_.empty() || acc_start_ < change_key{last_group_end_, 0})
      dispatch_round();
    while (round_in_flight()) {
      if (stopping())
        throw stop_pipeline{"stopped during a barrier"};
      wait_credit(milliseconds{100});
    }
  }

  void broadcast_marks() {
    last_broadcast_ = steady_clock::now();
    if (last_end_.empty())
      return;
    auto key = boundary_key(last_end_);
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
    if (rounds()) {
      finish_rounds();
      return;
    }
    flush_all();
    ++barrier_id_;
    drained_ = 0;
    for (auto& p : parts_)
      self_->send(p, drain_request{barrier_id_});
    while (drained_ < parts_.size()) {
      if (stopping())
        throw stop_pipeline{"stopped during a barrier"};
      wait_credit(milliseconds{100});
    }
  }

  // A key-changing update: drain, apply it here with every checkpoint at
  // `key`, in one target transaction.
  void apply_in_barrier(const std::vector<row_op>& ops, const change_key& key) {
    drain_all();
    if (streams()) {
      auto server_id = st_->source_server_id();
      auto& added = ops.back();
      auto p =
          partition_of(*added.table, added.after, static_cast<uint32_t>(parts_.size()));
      expected<std::vector<stream_entry>, std::string> entries =
          std::vector<stream_entry>{};
      if (sink_)
        entries = sink_->move_entries(ops.front(), added, p, server_id);
      if (!entries)
        throw stop_pipeline{entries.error()};
      auto stale = keys_.of(ops);
      if (!stale)
        throw stop_pipeline{key.to_string() +
                            ": hotkeys.invalidate_from: " + stale.error()};
      st_->invalidate(*stale, false);
      if (sink_)
        append_here(key, *entries, key.to_string() + ": a primary key change");
      else
        apply_on_target(checkpoints_at(key),
                        key.to_string() + ": writing the checkpoint");
      st_->invalidate(*stale, true);
      applied_in_barrier(key);
      return;
    }
    if (budget_ == 0)
      budget_ = session_budget(target_->connection());
    auto batch = statements_for(ops, budget_);
    if (!batch.error.empty())
      throw stop_pipeline{key.to_string() + ": " + batch.error};
    auto stale = keys_.of(ops);
    if (!stale)
      throw stop_pipeline{key.to_string() +
                          ": hotkeys.invalidate_from: " + stale.error() +
                          "; the pipeline stops before committing the change, so that no "
                          "cached value outlives it unnoticed"};
    auto& statements = batch.statements;
    for (uint32_t p = 0; p < parts_.size(); ++p)
      statements.push_back(
          checkpoint_store_sql(cfg().checkpoint_database, cfg().name, p, key));
    st_->invalidate(*stale, false);
    apply_on_target(statements, key.to_string() + ": applying a primary key change", key,
                    &ops);
    st_->invalidate(*stale, true);
    applied_in_barrier(key);
  }

  void applied_in_barrier(const change_key& key) {
    last_handed_ = key;
    for (auto& a : applied_)
      a = key;
    {
      std::lock_guard<std::mutex> guard{st_->mtx};
      st_->status.rows_applied += 1;
      for (auto& p : st_->status.partitions)
        p.applied = key;
    }
    st_->cv.notify_all();
  }

  void skip_ddl(const std::string& where, const query_event& q, const std::string& why) {
    auto text =
        q.statement.size() > 200 ? q.statement.substr(0, 200) + "..." : q.statement;
    st_->log(false, where + ": not applied (" + why + "): " + text);
    std::lock_guard<std::mutex> guard{st_->mtx};
    ++st_->status.ddl_skipped;
    st_->status.last_skipped_ddl = where + ": " + text;
  }

  void apply_ddl(const event_header& h, uint64_t offset, const query_event& q) {
    auto where = file_ + ":" + std::to_string(offset);
    // The DDL's group ends here (inside a transaction it is not applied).
    change_key after{
        {file_, h.log_pos}, 0, group_gtid_.empty() ? last_gtid_ : group_gtid_};
    if (resend_floor_.covers(after))
      return;
    auto plan = plan_ddl(q.statement, q.schema, cfg().filter, cfg().copy_routines);
    switch (plan.what) {
    case ddl_plan::action::ignore:
      return;
    case ddl_plan::action::skip:
      skip_ddl(where, q, plan.reason);
      return;
    case ddl_plan::action::stop:
      throw stop_pipeline{where + ": " + plan.reason};
    case ddl_plan::action::apply:
      break;
    }
    if (rounds() && !txn_ops_.empty())
      throw stop_pipeline{
          where + ": DDL inside a transaction after " + std::to_string(txn_ops_.size()) +
          " row changes of it; \"apply\": \"transaction\" cannot commit that "
          "transaction whole around a DDL: run this stretch with \"apply\": \"key\""};
    auto& d = plan.parsed;
    auto& sql = plan.sql;
    auto& use_db = plan.use_db;
    auto& touched = plan.touched;
    drain_all();
    schemas_.clear();
    hints_.clear();
    // Sent before the DDL runs and again after its checkpoint, as rows' keys are.
    std::vector<std::vector<std::string>> stale;
    if (d.scope != ddl_scope::other)
      for (auto& [db, table] : d.tables) {
        auto p = keys_.patterns_of(db, d.scope == ddl_scope::database ? "" : table);
        stale.insert(stale.end(), p.begin(), p.end());
      }
    st_->invalidate_matching(stale);
    if (streams()) {
      if (writes_events())
        refuse_unwritten_types(d.tables, q.statement, where);
      auto server_id = st_->source_server_id();
      if (sink_)
        append_here(after,
                    sink_->ddl_entries(q.statement, q.schema, d.tables, after,
                                       static_cast<uint32_t>(parts_.size()), server_id),
                    where + ": the DDL event");
      else
        apply_on_target(checkpoints_at(after),
                        where + ": writing the checkpoint after DDL");
      st_->invalidate_matching(stale);
      mark_applied_everywhere(after);
      last_handed_ = after;
      acc_start_ = after;
      acc_groups_ = 0;
      last_group_end_ = after.at;
      return;
    }
    binlog_position at{file_, offset};
    auto before = ddl_state(d, touched);
    bool applied = false;
    // Matched by the group's GTID where there is one: a DDL recorded on
    // another server (the checkpoints moved) has another position here.
    bool recorded = ddl_intent_ && (group_gtid_.empty() || ddl_intent_->gtid.empty()
                                        ? ddl_intent_->at == at
                                        : ddl_intent_->gtid == group_gtid_);
    if (recorded) {
      // The pipeline stopped after recording this DDL and before its checkpoint:
      // the target's state tells whether the DDL ran.
      applied = before != ddl_intent_->before_state;
      st_->log(false,
               where + ": DDL recorded before a restart " +
                   (applied
                        ? std::string{"already ran on the target; not running it again"}
                        : std::string{"had not run on the target; running it"}));
      if (!applied)
        before = ddl_intent_->before_state;
    } else {
      apply_on_target({ddl_intent_store_sql(cfg().checkpoint_database, cfg().name,
                                            {at, q.statement, before, group_gtid_})},
                      where + ": recording the DDL");
    }
    bool ran = !applied;
    bool retry = false;
    while (!applied) {
      // Under the writer lock, after the owner check: an owner that lost the
      // pipeline while it waited here never runs the DDL (checkpoint.hpp).
      auto failure = target_->run_as_writer([&](mysql_connection& t) {
        // After a lost connection the DDL may have run, or still be running on
        // the server (the lock waited for it): the definition tells, read
        // under the lock.
        if (retry && ddl_state(d, touched) != before)
          return mysql_expected<mysql_ok>{mysql_ok{}};
        (void)st_->fault("ddl_about_to_run"); // tests: a process frozen here
        auto r = t.exec(use_db.empty() ? std::string{"DO 0"}
                                       : "USE " + sql_identifier(use_db));
        if (r || (r.error().code == 1049 && !is_connection_lost(r.error())))
          r = t.exec(sql);
        if (!r)
          return mysql_expected<mysql_ok>{r.error()};
        return mysql_expected<mysql_ok>{mysql_ok{}};
      });
      if (!failure)
        break;
      if (failure->fenced) {
        st_->record_claimed_elsewhere(failure->error.message);
        throw stop_pipeline{where + ": DDL not run: " + failure->error.message};
      }
      if (failure->writer_lock)
        throw stop_pipeline{where + ": DDL not run: " + failure->error.to_string()};
      if (!is_connection_lost(failure->error))
        throw stop_pipeline{
            where + ": QUERY: the target rejected DDL \"" + q.statement +
            "\": " + failure->error.to_string() +
            "; the pipeline stops so that source and target do not diverge (apply the "
            "statement's effect to the target by hand, then restart the pipeline)"};
      st_->log(true, where + ": DDL: " + failure->error.to_string() + " (reconnecting)");
      if (!reconnect_target())
        throw stop_pipeline{where + ": DDL: " + failure->error.to_string()};
      retry = true;
    }
    if (ran && st_->fault("ddl_applied"))
      throw stop_pipeline{where + ": fault injected after the DDL ran"};
    std::vector<std::string> statements;
    for (uint32_t p = 0; p < parts_.size(); ++p)
      statements.push_back(
          checkpoint_store_sql(cfg().checkpoint_database, cfg().name, p, after));
    statements.push_back(ddl_intent_clear_sql(cfg().checkpoint_database, cfg().name));
    apply_on_target(statements, where + ": writing the checkpoint after DDL");
    st_->invalidate_matching(stale);
    ddl_intent_.reset();
    mark_applied_everywhere(after);
    last_handed_ = after;
    acc_start_ = after;
    acc_groups_ = 0;
    last_group_end_ = after.at;
  }

  // A DDL that may give a table a column whose values a stream cannot write
  // faithfully yet (check_stream_source): the source's definition of the tables
  // it names decides. Read now, it can be later than the DDL; a column added and
  // dropped again in between is not seen.
  void
  refuse_unwritten_types(const std::vector<std::pair<std::string, std::string>>& tables,
                         const std::string& statement, const std::string& where) {
    std::string lower;
    for (char c : statement)
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("uuid") == std::string::npos &&
        lower.find("inet4") == std::string::npos &&
        lower.find("inet6") == std::string::npos)
      return;
    auto src = connect_source(*this, source_);
    if (!src)
      throw stop_pipeline{where + ": stopped while reading the source's column types"};
    for (auto& [db, table] : tables) {
      if (table.empty() || !cfg().filter.selected(db, table))
        continue;
      auto odd = src->query(
          "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE "
          "TABLE_SCHEMA=" +
          src->quote(db) + " AND TABLE_NAME=" + src->quote(table) +
          " AND DATA_TYPE IN ('uuid','inet4','inet6')");
      check(odd, where + ": reading the source's column types of " + db + "." + table);
      if (!odd->rows.empty())
        throw stop_pipeline{
            where + ": " + db + "." + table + "." + odd->rows[0][0].value_or("") +
            " is of type " + odd->rows[0][1].value_or("") +
            " after this DDL, which a stream target cannot write faithfully yet: the "
            "pipeline stops before any of its rows is sent (exclude the table, or change "
            "the column to CHAR/BINARY, then resume)"};
    }
  }

  // The target's definitions of what a DDL touches, to tell afterwards whether
  // it ran: SHOW CREATE output (AUTO_INCREMENT counters left out) or "absent".
  std::string ddl_state(const ddl_statement& d,
                        const std::vector<std::pair<std::string, std::string>>& touched) {
    std::string out;
    for (auto& [db, name] : touched) {
      std::string sql;
      auto obj = d.object;
      if (d.scope == ddl_scope::database)
        sql = "SHOW CREATE DATABASE " + sql_identifier(db);
      else if (d.scope == ddl_scope::tables || obj == "SEQUENCE")
        sql = "SHOW CREATE TABLE " + sql_identifier(db) + "." + sql_identifier(name);
      else if (obj == "VIEW" || obj == "TRIGGER" || obj == "EVENT" ||
               obj == "PROCEDURE" || obj == "FUNCTION")
        sql =
            "SHOW CREATE " + obj + " " + sql_identifier(db) + "." + sql_identifier(name);
      else
        continue;
      auto r = on_target([&](mysql_connection& t) { return t.query(sql); });
      out += db + "." + name + ": ";
      if (!r) {
        // Missing objects: 1049 database, 1146 table, 1347 not a view, 1360
        // trigger, 1539 event, 1305 routine.
        static const std::set<unsigned> missing{1049, 1146, 1347, 1360, 1539, 1305};
        if (!missing.count(r.error().code))
          throw stop_pipeline{"reading the target's definition of " + db + "." + name +
                              ": " + r.error().to_string()};
        out += "absent\n";
        continue;
      }
      for (auto& row : r->rows)
        for (size_t i = 1; i < row.size(); ++i)
          out += strip_auto_increment(row[i].value_or("NULL")) + "\t";
      out += "\n";
    }
    return out;
  }

  static std::string strip_auto_increment(std::string text) {
    const std::string word = " AUTO_INCREMENT=";
    auto i = text.find(word);
    if (i == std::string::npos)
      return text;
    auto j = i + word.size();
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])))
      ++j;
    return text.erase(i, j - i);
  }

  // -- schemas ---------------------------------------------------------------

  // What the binlog may not say about a source table's columns, from its target
  // table. Tables the pipeline does not copy get no-one-cares hints: their rows
  // are decoded and dropped.
  std::optional<column_hints> column_info(const std::string& db,
                                          const std::string& table) {
    auto name = db + "." + table;
    if (auto i = hints_.find(name); i != hints_.end())
      return i->second;
    auto& filter = cfg().filter;
    std::optional<column_hints> hints;
    if (streams() && filter.selected(db, table))
      throw stop_pipeline{file_ + ": " + name +
                          ": a TABLE_MAP without column metadata; a stream target needs "
                          "binlog_row_metadata=FULL on the source (it was changed "
                          "while the pipeline ran?)"};
    if (!filter.selected(db, table)) {
      hints = column_hints{};
      hints->is_unsigned.assign(max_columns, false);
      hints->fixed_binary.assign(max_columns, false);
    } else {
      auto target = filter.target_of(db, table);
      auto lit = [&](const std::string& v) { return target_->connection().quote(v); };
      auto cols = on_target([&](mysql_connection& t) {
        return t.query(
            "SELECT COLUMN_TYPE, CHARACTER_SET_NAME FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA=" +
            lit(target.first) + " AND TABLE_NAME=" + lit(target.second) +
            " ORDER BY ORDINAL_POSITION");
      });
      check(cols, name + ": reading the target's column types");
      if (cols->rows.empty())
        throw stop_pipeline{
            file_ + ": " + name + ": rows for a table the target does not have (" +
            target.first + "." + target.second +
            "); the binlog (binlog_row_metadata=NO_LOG) does not describe its columns, "
            "so shoal reads them from the target's copy of the table: create it there, "
            "or start with start=snapshot"};
      hints = column_hints{};
      for (auto& r : cols->rows) {
        auto type = r[0].value_or("");
        hints->is_unsigned.push_back(type.find(" unsigned") != std::string::npos);
        // No character set: binary strings, UUID, INET4/6 (and non-strings,
        // for which the decoder does not ask).
        hints->fixed_binary.push_back(!r[1].has_value());
      }
    }
    hints_[name] = hints;
    return hints;
  }

  /// More columns than a MySQL or MariaDB table can have.
  static constexpr size_t max_columns = 4096;

  std::shared_ptr<const table_schema> resolve(const table_map& tm, uint64_t offset) {
    auto name = tm.schema + "." + tm.table;
    auto i = schemas_.find(name);
    if (i != schemas_.end() && i->second->columns.size() == tm.columns.size())
      return i->second;
    if (streams())
      return resolve_for_stream(tm, offset);
    auto s = std::make_shared<table_schema>();
    s->source_db = tm.schema;
    s->source_table = tm.table;
    std::tie(s->target_db, s->target_table) = cfg().filter.target_of(tm.schema, tm.table);
    auto where = file_ + ":" + std::to_string(offset) + ": " + name;
    bool named = std::all_of(tm.columns.begin(), tm.columns.end(),
                             [](const column_def& c) { return c.name.has_value(); });
    auto lit = [&](const std::string& v) { return target_->connection().quote(v); };
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
    auto generated = on_target([&](mysql_connection& t) {
      return t.query(
          "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=" +
          lit(s->target_db) + " AND TABLE_NAME=" + lit(s->target_table) +
          " AND IS_GENERATED='ALWAYS'");
    });
    check(generated, where + ": reading the target's generated columns");
    s->generated.assign(s->columns.size(), false);
    for (auto& r : generated->rows) {
      auto at = std::find(s->columns.begin(), s->columns.end(), r[0].value_or(""));
      if (at != s->columns.end())
        s->generated[static_cast<size_t>(at - s->columns.begin())] = true;
    }
    for (auto& [col, prefix] : tm.primary_key) {
      (void)prefix;
      s->key.push_back(col);
    }
    if (s->key.empty()) {
      auto idx = on_target([&](mysql_connection& t) {
        return t.query("SHOW INDEX FROM " + sql_identifier(s->target_db) + "." +
                       sql_identifier(s->target_table));
      });
      check(idx, where + ": reading the target's keys");
      std::vector<index_part> parts;
      for (auto& r : idx->rows)
        if (r.size() >= 10)
          parts.push_back({r[2].value_or(""), r[1].value_or("1") == "0",
                           r[9].value_or("") == "YES", r[7].has_value(),
                           r[4].value_or("")});
      s->key = choose_key(parts, s->columns);
      // A key over a generated column cannot be written; such rows are matched
      // on their other columns instead.
      if (std::any_of(s->key.begin(), s->key.end(),
                      [&](uint32_t k) { return s->generated[k]; }))
        s->key.clear();
    }
    check_collisions(*s, where);
    s->keep_before_images =
        std::any_of(cfg().invalidation_rules.begin(), cfg().invalidation_rules.end(),
                    [&](const invalidation_rule& r) {
                      return strcasecmp(r.table.c_str(), name.c_str()) == 0;
                    });
    schemas_[name] = s;
    return s;
  }

  // A stream target's schema comes from the TABLE_MAP alone: names, key and
  // formats as the row was written (every DDL clears what was resolved).
  std::shared_ptr<const table_schema> resolve_for_stream(const table_map& tm,
                                                         uint64_t offset) {
    auto name = tm.schema + "." + tm.table;
    auto where = file_ + ":" + std::to_string(offset) + ": " + name;
    auto s = std::make_shared<table_schema>();
    s->source_db = tm.schema;
    s->source_table = tm.table;
    std::tie(s->target_db, s->target_table) = cfg().filter.target_of(tm.schema, tm.table);
    auto formats = formats_of(tm, [&](uint32_t id) {
      auto c = charsets_.find(id);
      return c == charsets_.end() ? std::string{} : c->second;
    });
    if (!formats)
      throw stop_pipeline{where + ": " + formats.error() +
                          " (a stream target needs binlog_row_metadata=FULL)"};
    s->formats = std::move(*formats);
    for (auto& f : s->formats)
      s->columns.push_back(f.name);
    s->generated.assign(s->columns.size(), false);
    s->folds.assign(s->columns.size(), false);
    for (auto& [col, prefix] : tm.primary_key) {
      (void)prefix;
      s->key.push_back(col);
    }
    s->key_pads.assign(s->key.size(), false);
    if (!s->has_key()) {
      s->single_partition = true;
      s->single_partition_reason = "it has no primary key";
    }
    // Streams carry both images of every update.
    s->keep_before_images = true;
    schemas_[name] = s;
    return s;
  }

  /// Sets single_partition when rows of different keys can collide on the
  /// target, and which columns compare by a collation (matched byte for byte).
  void check_collisions(table_schema& s, const std::string& where) {
    auto lit = [&](const std::string& v) { return target_->connection().quote(v); };
    auto in_table = " WHERE TABLE_SCHEMA=" + lit(s.target_db) +
                    " AND TABLE_NAME=" + lit(s.target_table);
    auto unique = on_target([&](mysql_connection& t) {
      return t.query(
          "SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS" +
          in_table + " AND NON_UNIQUE=0");
    });
    check(unique, where + ": reading the target's unique keys");
    auto collations = on_target([&](mysql_connection& t) {
      return t.query("SELECT COLUMN_NAME, COLLATION_NAME, DATA_TYPE FROM "
                     "information_schema.COLUMNS" +
                     in_table);
    });
    check(collations, where + ": reading the target's collations");
    std::vector<std::pair<std::string, std::string>> pairs;
    s.folds.assign(s.columns.size(), false);
    for (auto& r : collations->rows) {
      pairs.emplace_back(r[0].value_or(""), r[1].value_or(""));
      auto at = std::find(s.columns.begin(), s.columns.end(), pairs.back().first);
      static const std::set<std::string> text_types{"char", "varchar",    "tinytext",
                                                    "text", "mediumtext", "longtext"};
      if (at != s.columns.end())
        s.folds[static_cast<size_t>(at - s.columns.begin())] =
            text_types.count(r[2].value_or("")) && pairs.back().second != "binary";
    }
    if (s.has_key())
      classify_collisions(
          s, unique->rows.empty() ? 0 : std::stoull(unique->rows[0][0].value_or("0")),
          pairs);
    if (s.single_partition)
      st_->log(false, where + ": applied by one partition in binlog order: " +
                          s.single_partition_reason);
  }

  std::vector<binlog_partition_actor> parts_;
  std::vector<std::vector<row_op>> outbox_;
  /// The source read from: settings.source or one of its candidates.
  mysql_config source_;
  size_t source_index_ = 0;
  std::optional<target_session> target_;
  /// A stream target: the reader's own appends, and what the stream's server
  /// held when this run claimed it.
  std::optional<stream_sink> sink_;
  std::optional<stream_claim> stream_claim_;
  /// The source's collation ids and their character sets (stream targets).
  std::map<uint32_t, std::string> charsets_;
  /// Hot-cache keys of the key changes applied here (apply_in_barrier).
  cache_keys keys_;
  event_decoder decoder_;
  binlog_position start_;
  std::string gtid_;
  binlog_position resume_at_;
  std::string file_;
  binlog_position last_end_;
  binlog_position group_start_;
  /// The MariaDB GTID of the group in progress (empty: none, a MySQL source).
  mariadb_gtid group_gtid_;
  /// The GTID of the last group that ended (at last_end_): what a key between
  /// groups records (change_key::gtid).
  mariadb_gtid last_gtid_;
  bool in_group_ = false;
  bool standalone_ = false;
  /// Prepared XA transactions and their held rows.
  xa_tracker xa_;
  /// The floor row as last written (nullopt: none).
  std::optional<binlog_position> xa_floor_written_;
  uint64_t group_index_ = 0;
  std::set<uint32_t> touched_;
  std::optional<change_key> last_handed_;
  resend_floor resend_floor_;
  std::optional<change_key> last_mark_;
  steady_clock::time_point last_broadcast_;
  int64_t inflight_ = 0;
  int64_t inflight_bytes_ = 0;
  int64_t inflight_bytes_peak_ = 0;
  /// What each partition reported applied (rows_done), and what this reader
  /// applied everywhere itself (barriers): what the XA floor is computed from.
  std::vector<change_key> applied_;
  uint64_t rows_read_ = 0;
  int since_poll_ = 0;
  uint64_t barrier_id_ = 0;
  size_t drained_ = 0;
  bool ddl_seen_ = false;
  std::map<std::string, std::shared_ptr<const table_schema>> schemas_;
  /// Signedness and fixed-binary columns of target tables, for the decoder when
  /// the binlog does not carry them; cleared at every DDL like schemas_.
  std::map<std::string, std::optional<column_hints>> hints_;
  /// The ownership epoch this run claimed.
  uint64_t epoch_ = 0;
  /// session_budget of target_ for barrier statements; 0 until read after a
  /// (re)connect.
  size_t budget_ = 0;
  /// A DDL recorded on the target before it ran and not yet checkpointed.
  std::optional<ddl_intent> ddl_intent_;

  // -- rounds ("apply": "transaction") --
  struct pending_txn {
    uint32_t ordinal = 0;
    size_t rows = 0;
    std::vector<row_op> ops;
    writeset ws;
  };
  /// Ops of the group in progress.
  std::vector<row_op> txn_ops_;
  /// Where the round being gathered starts: the last round's end.
  change_key acc_start_;
  /// Groups that ended after acc_start_ (the next one's ordinal).
  uint32_t acc_groups_ = 0;
  /// The end of the last group (rotations aside): where a round may end.
  binlog_position last_group_end_;
  /// The round being gathered.
  std::vector<pending_txn> next_;
  size_t next_rows_ = 0;
  int64_t next_bytes_ = 0;
  uint64_t round_id_ = 0;
  /// Shares of the round in flight not yet committed (0: none in flight).
  size_t round_waiting_ = 0;
  change_key round_end_;
  steady_clock::time_point last_round_;
  /// A round cut short before this start: it must end at forced_end_ again;
  /// the groups done_before_ were committed then, by the partitions whose
  /// groups old_groups_ holds (kept in their records).
  std::optional<change_key> forced_end_;
  std::set<uint32_t> done_before_;
  std::map<uint32_t, std::vector<uint32_t>> old_groups_;
  /// A test cut the round in flight short (finish_cut).
  bool cut_pending_ = false;
};

} // namespace

caf::error run_binlog_reader(caf::blocking_actor* self,
                             std::shared_ptr<pipeline::shared> st) {
  reader r{self, std::move(st)};
  r.run();
  return r.exit_reason();
}

} // namespace shoal::binlog::detail

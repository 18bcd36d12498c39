#include "runtime/sync_service.hpp"

#include <algorithm>
#include <thread>

#include <caf/actor_system.hpp>
#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "runtime/connections.hpp"
#include "runtime/counter_feed.hpp"
#include "runtime/hotkey_service.hpp"
#include "runtime/http_auth.hpp"
#include "runtime/logging.hpp"
#include "runtime/node.hpp"

namespace shoal {

using namespace std::chrono;

struct sync_service::metrics {
  explicit metrics(prometheus::Registry& r)
      : source_position(
            prometheus::BuildGauge()
                .Name("shoal_sync_source_position_bytes")
                .Help("Byte offset in the source binlog file of the last event read.")
                .Register(r)),
        source_file(prometheus::BuildGauge()
                        .Name("shoal_sync_source_file_number")
                        .Help("Number of the source binlog file of the last event read.")
                        .Register(r)),
        applied_position(
            prometheus::BuildGauge()
                .Name("shoal_sync_partition_applied_position_bytes")
                .Help("Byte offset in the source binlog applied by a partition.")
                .Register(r)),
        queue(prometheus::BuildGauge()
                  .Name("shoal_sync_partition_queued_rows")
                  .Help("Rows received by a partition and not yet committed.")
                  .Register(r)),
        rows_read(prometheus::BuildCounter()
                      .Name("shoal_sync_rows_read_total")
                      .Help("Row changes read from the source since the node started.")
                      .Register(r)),
        rows_applied(
            prometheus::BuildCounter()
                .Name("shoal_sync_rows_applied_total")
                .Help("Row changes applied to the target since the node started.")
                .Register(r)),
        keys_invalidated(prometheus::BuildCounter()
                             .Name("shoal_sync_keys_invalidated_total")
                             .Help("Hot-cache keys dropped on every node after their "
                                   "rows committed (hotkeys.invalidate_from).")
                             .Register(r)),
        lag(prometheus::BuildGauge()
                .Name("shoal_sync_lag_seconds")
                .Help("Seconds between now and the source time of the oldest unapplied "
                      "change.")
                .Register(r)),
        inflight(prometheus::BuildGauge()
                     .Name("shoal_sync_inflight_rows")
                     .Help("Rows read from the source and not yet applied.")
                     .Register(r)),
        inflight_bytes(prometheus::BuildGauge()
                           .Name("shoal_sync_inflight_bytes")
                           .Help("Memory held by rows read from the source and not "
                                 "yet applied (bounded by max_inflight_bytes).")
                           .Register(r)),
        state(
            prometheus::BuildGauge()
                .Name("shoal_sync_pipeline_state")
                .Help("1 for the pipeline's current state (starting, snapshot, running, "
                      "failed, stopped, paused; standby: another node holds its "
                      "lease), 0 for the others.")
                .Register(r)),
        reconnects(prometheus::BuildCounter()
                       .Name("shoal_sync_source_reconnects_total")
                       .Help("Times the reader reconnected to the source.")
                       .Register(r)) {}

  prometheus::Family<prometheus::Gauge>& source_position;
  prometheus::Family<prometheus::Gauge>& source_file;
  prometheus::Family<prometheus::Gauge>& applied_position;
  prometheus::Family<prometheus::Gauge>& queue;
  prometheus::Family<prometheus::Counter>& rows_read;
  prometheus::Family<prometheus::Counter>& rows_applied;
  prometheus::Family<prometheus::Counter>& keys_invalidated;
  prometheus::Family<prometheus::Gauge>& lag;
  prometheus::Family<prometheus::Gauge>& inflight;
  prometheus::Family<prometheus::Gauge>& inflight_bytes;
  prometheus::Family<prometheus::Gauge>& state;
  prometheus::Family<prometheus::Counter>& reconnects;
};

namespace {

double file_number(const std::string& file) {
  auto dot = file.rfind('.');
  if (dot == std::string::npos)
    return 0;
  try {
    return static_cast<double>(std::stoull(file.substr(dot + 1)));
  } catch (...) {
    return 0;
  }
}

std::string endpoint_text(const endpoint& e) {
  return e.host + ":" + std::to_string(e.port);
}

// What a pipeline writes to, for /status: a partition's "applied" is its
// position in that target (for a stream, the one its server holds).
nlohmann::json target_json(const sync_pipeline_config& cfg) {
  if (cfg.target_kind == "mysql")
    return {{"kind", "mysql"}, {"endpoint", endpoint_text(cfg.target.address)}};
  if (cfg.target_kind == "none")
    return {{"kind", "none"}, {"state", endpoint_text(cfg.target.address)}};
  if (cfg.target_kind == "kafka")
    return {{"kind", "kafka"},
            {"endpoint", cfg.stream.kafka_brokers},
            {"topic", cfg.stream.stream_key},
            {"state", endpoint_text(cfg.target.address)}};
  return {{"kind", cfg.target_kind},
          {"endpoint", endpoint_text(cfg.stream.redis.address)},
          {"stream_key", cfg.stream.stream_key},
          {"state", endpoint_text(cfg.target.address)}};
}

nlohmann::json position_json(const binlog::binlog_position& p) {
  return {{"file", p.file}, {"position", p.pos}};
}

} // namespace

binlog::pipeline_settings to_pipeline_settings(const sync_pipeline_config& p) {
  binlog::pipeline_settings s;
  s.name = p.name;
  s.source = to_mysql_config(p.source);
  // The reader sees a heartbeat every 500 ms; a silent source is a dead one.
  s.source.read_timeout = std::min(s.source.read_timeout, seconds{5});
  for (auto& c : p.source_candidates) {
    s.source_candidates.push_back(to_mysql_config(c));
    s.source_candidates.back().read_timeout =
        std::min(s.source_candidates.back().read_timeout, seconds{5});
  }
  s.source_switch_after = milliseconds{p.source_switch_after_ms};
  s.target = to_mysql_config(p.target);
  if (p.target_kind == "none")
    s.kind = binlog::target_kind::none;
  if (p.target_kind == "kafka") {
    s.kind = binlog::target_kind::kafka;
    s.stream.kafka_brokers = p.stream.kafka_brokers;
    s.stream.kafka_properties = p.stream.kafka_properties;
    s.stream.stream_key = p.stream.stream_key;
    s.stream.schema_stream = p.stream.schema_stream;
  }
  if (p.target_kind == "redis_stream") {
    s.kind = binlog::target_kind::redis_stream;
    s.stream.redis = to_redis_config(p.stream.redis);
    s.stream.stream_key = p.stream.stream_key;
    s.stream.checkpoint_key = p.stream.checkpoint_key;
    s.stream.schema_stream = p.stream.schema_stream;
    s.stream.maxlen = static_cast<uint64_t>(p.stream.maxlen);
  }
  s.server_id = p.server_id;
  s.partitions = static_cast<uint32_t>(p.partitions);
  s.whole_transactions = p.apply == "transaction";
  // The config reader accepted only these words.
  s.start_mode = p.start.mode == "snapshot"   ? binlog::start_point::snapshot
                 : p.start.mode == "position" ? binlog::start_point::position
                 : p.start.mode == "gtid"     ? binlog::start_point::gtid
                                              : binlog::start_point::current;
  s.start_position = {p.start.file, p.start.position};
  s.start_gtid = p.start.gtid;
  s.filter = binlog::table_filter{p.include, p.exclude, p.rename, p.checkpoint_database};
  s.batch_rows = static_cast<size_t>(p.batch_rows);
  s.max_inflight_rows = p.max_inflight_rows;
  s.max_inflight_bytes = p.max_inflight_bytes;
  s.checkpoint_database = p.checkpoint_database;
  s.copy_routines = p.copy_routines;
  s.log = [](bool error, const std::string& line) {
    if (error)
      log().error("{}", line);
    else
      log().info("{}", line);
  };
  return s;
}

sync_service::sync_service(node& n, const std::vector<sync_pipeline_config>& pipelines,
                           std::string http_secret)
    : node_(n), metrics_(std::make_unique<metrics>(n.metrics())),
      http_secret_(std::move(http_secret)) {
  for (auto& p : pipelines) {
    configs_[p.name] = p;
    if (!p.nodes.empty())
      continue;
    pipelines_[p.name] = binlog::pipeline::start(n.system(), settings_for(p.name));
    log().info("sync {}: started ({} partitions, start {})", p.name, p.partitions,
               p.start.mode);
  }
  for (auto& p : pipelines) {
    if (p.nodes.empty())
      continue;
    ownership_settings o;
    o.pipeline = p.name;
    o.node = n.cfg().node.name;
    o.nodes = p.nodes;
    o.lease = milliseconds{p.lease_ms};
    o.target = to_mysql_config(p.target);
    o.checkpoint_database = p.checkpoint_database;
    auto name = p.name;
    keepers_[name] = std::make_unique<ownership_keeper>(
        o, [this, name](const std::string& holder) { take_over(name, holder); },
        [this, name](const std::string& why) { step_down(name, why); });
    log().info("sync {}: may run here among {} nodes; standing by until this node "
               "holds its lease (takeover rank {})",
               name, p.nodes.size(), keepers_[name]->view().rank);
  }
}

binlog::pipeline_settings sync_service::settings_for(const std::string& name) const {
  auto settings = to_pipeline_settings(configs_.at(name));
  for (auto& inv : node_.cfg().hotkeys.invalidate_from)
    if (inv.pipeline == name)
      // The config reader checked the template.
      settings.invalidation_rules.push_back(
          {inv.table, *binlog::key_template::parse(inv.key)});
  // Through the service's gate: a partition stuck in a statement past
  // pipeline::stop's wait may still send after the hot-key service is gone.
  if (auto* hot = node_.service_of<hotkey_service>();
      hot && !settings.invalidation_rules.empty()) {
    auto gate = hot->gate();
    settings.invalidate = [gate](const std::vector<std::string>& keys) {
      gate->keys(keys);
    };
    settings.invalidate_matching =
        [gate](const std::vector<std::vector<std::string>>& patterns) {
          gate->matching(patterns);
        };
  }
  if (auto k = keepers_.find(name); k != keepers_.end()) {
    settings.owner = k->second->holder(); // the claim checks the lease's holder
    settings.leased = true;
  }
  return settings;
}

void sync_service::count_earlier(const std::string& name,
                                 const binlog::pipeline_status& s) {
  auto& t = earlier_[name];
  t.rows_read += s.rows_read;
  t.rows_applied += s.rows_applied;
  t.reconnects += s.reconnects;
  t.keys_invalidated += s.keys_invalidated;
}

void sync_service::take_over(const std::string& name, const std::string& holder) {
  std::lock_guard<std::mutex> op{ops_};
  if (stopped_ || find(name))
    return;
  (void)holder; // the keeper's id, which settings_for() asks it for
  auto p = binlog::pipeline::start(node_.system(), settings_for(name));
  {
    std::lock_guard<std::mutex> guard{mtx_};
    pipelines_[name] = p;
  }
  log().info("sync {}: this node holds the lease and runs the pipeline from its "
             "checkpoints",
             name);
}

void sync_service::step_down(const std::string& name, const std::string& why) {
  std::lock_guard<std::mutex> op{ops_};
  auto p = find(name);
  if (!p)
    return;
  p->stop();
  auto s = p->status();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    count_earlier(name, s);
    pipelines_.erase(name);
    paused_.erase(name);
  }
  log().warn("sync {}: stepped down, standing by: {}", name, why);
}

sync_service::~sync_service() {
  stop();
}

void sync_service::stop() {
  if (stopped_.exchange(true))
    return;
  // Each keeper stops its pipeline, then releases the lease (not under ops_:
  // its step_down takes it).
  for (auto& [name, k] : keepers_)
    k->stop();
  std::lock_guard<std::mutex> op{ops_};
  std::map<std::string, std::shared_ptr<binlog::pipeline>> all;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    all = pipelines_;
  }
  for (auto& [name, p] : all) {
    p->stop();
    log().info("sync {}: stopped", name);
  }
}

std::shared_ptr<binlog::pipeline> sync_service::find(const std::string& name) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = pipelines_.find(name);
  return i == pipelines_.end() ? nullptr : i->second;
}

bool sync_service::paused(const std::string& name) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return paused_.count(name) > 0;
}

std::shared_ptr<binlog::pipeline> sync_service::operand(const std::string& name,
                                                        outcome& refused) const {
  auto p = find(name);
  auto k = keepers_.find(name);
  if (!p && k != keepers_.end()) {
    auto v = k->second->view();
    refused = {409, "pipeline " + name + " stands by on this node; " +
                        (v.owner.empty() ? std::string{"no node runs it now"}
                                         : "node " + v.owner + " runs it: ask there")};
  } else if (!p)
    refused = {404, "no pipeline \"" + name + "\" runs on this node"};
  else if (stopped_)
    refused = {409, "the node is stopping"};
  else
    return p;
  return nullptr;
}

sync_service::outcome sync_service::set_paused_everywhere(const std::string& name,
                                                          bool pause) {
  // Not under ops_: the keeper's take_over and step_down take it.
  if (stopped_)
    return {409, "the node is stopping"};
  auto& k = *keepers_.at(name);
  auto& cfg = configs_.at(name);
  // Written every time, never judged from this node's last look: another node
  // may have paused or resumed it since.
  auto conn = mysql_connection::connect(to_mysql_config(cfg.target));
  auto changed = conn ? binlog::set_paused(*conn, cfg.checkpoint_database, name, pause,
                                           node_.cfg().node.name)
                      : mysql_expected<bool>{conn.error()};
  if (!changed)
    return {503, "pipeline " + name + ": the " + (pause ? "pause" : "resume") +
                     " could not be written to its target, where every node that may "
                     "run it reads it: " +
                     changed.error().to_string()};
  if (!*changed && pause)
    return {200, "pipeline " + name + " was already paused"};
  if (!*changed)
    return {404, "not paused"}; // resume() goes on with a restart here
  k.look_now();
  // Until this node's keeper has seen it and, when this node holds the lease,
  // the pipeline has stopped or started here.
  auto settled = [&] {
    auto v = k.view();
    if (v.paused_by.empty() == pause)
      return false;
    return !v.holding || (find(name) != nullptr) != pause;
  };
  auto deadline = steady_clock::now() + milliseconds{cfg.lease_ms} * 2;
  while (!settled() && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds{10});
  auto v = k.view();
  std::string where =
      v.holding ? std::string{"on this node, which holds its lease"}
      : v.owner.empty()
          ? std::string{"by whichever node takes its lease next"}
          : "by node " + v.owner + ", which holds its lease, at its next look (within " +
                std::to_string(std::max<int64_t>(100, cfg.lease_ms / 4)) + " ms)";
  log().info("sync {}: {} for every node (an operator asked)", name,
             pause ? "paused" : "resumed");
  return {200,
          pause ? "pipeline " + name + " paused on every node that may run it; " +
                      "stopped " + where + "; shoal sync resume " + name +
                      " starts it again from its checkpoints"
                : "pipeline " + name + " resumed; started from its checkpoints " + where};
}

sync_service::outcome sync_service::pause(const std::string& name) {
  if (keepers_.count(name))
    return set_paused_everywhere(name, true);
  std::lock_guard<std::mutex> op{ops_};
  outcome refused;
  auto p = operand(name, refused);
  if (!p)
    return refused;
  if (paused(name))
    return {200, "pipeline " + name + " was already paused"};
  {
    std::lock_guard<std::mutex> guard{mtx_};
    paused_.insert(name);
  }
  p->stop();
  auto s = p->status();
  if (!p->wait_ended(milliseconds{0})) {
    log().error("sync {}: paused, but an actor did not end in time (a statement still "
                "waits on the target)",
                name);
    return {503, "pipeline " + name +
                     " is paused, but a statement it sent still waits on the target; it "
                     "commits or fails by itself, and a resume fences it"};
  }
  log().info("sync {}: paused at {}:{} (an operator asked)", name, s.handed_on.file,
             s.handed_on.pos);
  return {200, "pipeline " + name + " paused; shoal sync resume " + name +
                   " starts it again from its checkpoints"};
}

sync_service::outcome sync_service::resume(const std::string& name) {
  // A pipeline with nodes: its pause is on the target. Resumed there when it
  // was paused; otherwise a failed or stopped run restarts on this node.
  if (keepers_.count(name))
    if (auto done = set_paused_everywhere(name, false); done.status != 404)
      return done;
  std::lock_guard<std::mutex> op{ops_};
  outcome refused;
  auto p = operand(name, refused);
  if (!p)
    return refused;
  auto s = p->status();
  bool was_paused = paused(name);
  if (!was_paused && s.state != binlog::pipeline_state::failed &&
      s.state != binlog::pipeline_state::stopped)
    return {200, "pipeline " + name + " is already " + binlog::to_string(s.state)};
  if (s.claimed_elsewhere)
    return {409, "pipeline " + name + " stopped because another process claimed it: " +
                     s.error + "; resuming here would take it back. Stop it there first"};
  p->stop(); // a failed one's actors have ended; this only collects them
  s = p->status();
  auto fresh = binlog::pipeline::start(node_.system(), settings_for(name));
  {
    std::lock_guard<std::mutex> guard{mtx_};
    count_earlier(name, s);
    pipelines_[name] = fresh;
    paused_.erase(name);
  }
  if (was_paused)
    log().info("sync {}: resumed (an operator asked)", name);
  else
    log().info("sync {}: restarted after it {} (an operator asked): {}", name,
               binlog::to_string(s.state), s.error);
  return {200, was_paused
                   ? "pipeline " + name + " resumed from its checkpoints"
                   : "pipeline " + name + " restarted from its checkpoints after it " +
                         binlog::to_string(s.state)};
}

void sync_service::update_metrics() {
  auto& m = *metrics_;
  for (auto& [name, k] : keepers_) {
    if (find(name)) {
      m.state.Add({{"pipeline", name}, {"state", "standby"}}).Set(0);
      continue;
    }
    // Not running here: paused where the lease is held, standing by elsewhere.
    auto v = k->view();
    bool paused_here = v.holding && !v.paused_by.empty();
    m.state.Add({{"pipeline", name}, {"state", "standby"}}).Set(paused_here ? 0 : 1);
    m.state.Add({{"pipeline", name}, {"state", "paused"}}).Set(paused_here ? 1 : 0);
    for (auto st : {"starting", "snapshot", "running", "failed", "stopped"})
      m.state.Add({{"pipeline", name}, {"state", st}}).Set(0);
  }
  for (auto& name : pipelines()) {
    std::shared_ptr<binlog::pipeline> p;
    totals before;
    bool is_paused = false;
    {
      // One look, so that a resume cannot count the old run twice.
      std::lock_guard<std::mutex> guard{mtx_};
      auto i = pipelines_.find(name);
      if (i == pipelines_.end())
        continue;
      p = i->second;
      if (auto e = earlier_.find(name); e != earlier_.end())
        before = e->second;
      is_paused = paused_.count(name) > 0;
    }
    auto s = p->status();
    std::map<std::string, std::string> l{{"pipeline", name}};
    m.source_position.Add(l).Set(static_cast<double>(s.source.pos));
    m.source_file.Add(l).Set(file_number(s.source.file));
    advance_counter(m.rows_read.Add(l), before.rows_read + s.rows_read);
    advance_counter(m.rows_applied.Add(l), before.rows_applied + s.rows_applied);
    advance_counter(m.reconnects.Add(l), before.reconnects + s.reconnects);
    advance_counter(m.keys_invalidated.Add(l),
                    before.keys_invalidated + s.keys_invalidated);
    m.lag.Add(l).Set(s.lag_seconds);
    m.inflight.Add(l).Set(static_cast<double>(s.inflight));
    m.inflight_bytes.Add(l).Set(static_cast<double>(s.inflight_bytes));
    for (auto st : {binlog::pipeline_state::starting, binlog::pipeline_state::snapshot,
                    binlog::pipeline_state::running, binlog::pipeline_state::failed,
                    binlog::pipeline_state::stopped})
      m.state.Add({{"pipeline", name}, {"state", binlog::to_string(st)}})
          .Set(!is_paused && s.state == st ? 1 : 0);
    m.state.Add({{"pipeline", name}, {"state", "paused"}}).Set(is_paused ? 1 : 0);
    for (size_t i = 0; i < s.partitions.size(); ++i) {
      std::map<std::string, std::string> pl{{"pipeline", name},
                                            {"partition", std::to_string(i)}};
      m.applied_position.Add(pl).Set(static_cast<double>(s.partitions[i].applied.at.pos));
      m.queue.Add(pl).Set(static_cast<double>(s.partitions[i].queued));
    }
  }
}

nlohmann::json sync_service::pipeline_json(const std::string& name,
                                           const binlog::pipeline& p) const {
  auto s = p.status();
  auto parts = nlohmann::json::array();
  for (auto& part : s.partitions)
    parts.push_back({{"applied", position_json(part.applied.at)},
                     {"applied_index", part.applied.index},
                     {"applied_gtid", part.applied.gtid.to_string()},
                     {"rows_applied", part.rows_applied},
                     {"transactions", part.transactions},
                     {"queued_rows", part.queued}});
  auto& cfg = configs_.at(name);
  return {
      {"state", paused(name) ? std::string{"paused"} : binlog::to_string(s.state)},
      {"apply", s.whole_transactions ? "transaction" : "key"},
      {"target", target_json(cfg)},
      {"error", s.error},
      {"source", position_json(s.source)},
      {"source_server",
       {{"endpoint", s.source_endpoint},
        {"server_id", s.source_server_id},
        {"switches", s.source_switches},
        {"waiting", s.waiting_for_source}}},
      {"gtid", s.gtid.to_string()},
      {"handed_on", position_json(s.handed_on)},
      {"rows_read", s.rows_read},
      {"rows_applied", s.rows_applied},
      {"rows_per_second", s.rows_per_second},
      {"lag_seconds", s.lag_seconds},
      {"max_lag_seconds", cfg.max_lag_seconds},
      {"inflight_rows", s.inflight},
      {"inflight_bytes", s.inflight_bytes},
      {"inflight_bytes_peak", s.inflight_bytes_peak},
      {"reconnects", s.reconnects},
      {"epoch", s.epoch},
      {"keys_invalidated", s.keys_invalidated},
      {"ddl_skipped", s.ddl_skipped},
      {"last_skipped_ddl", s.last_skipped_ddl},
      {"snapshot", {{"rows", s.snapshot_rows}, {"expected", s.snapshot_rows_expected}}},
      {"partitions", parts}};
}

nlohmann::json sync_service::ownership_json(const std::string& name) const {
  auto& cfg = configs_.at(name);
  auto k = keepers_.find(name);
  if (k == keepers_.end())
    return {{"owner", cfg.node}, {"standbys", nlohmann::json::array()}};
  auto v = k->second->view();
  auto standbys = nlohmann::json::array();
  for (auto& n : cfg.nodes)
    if (n != v.owner)
      standbys.push_back(n);
  return {
      {"owner", v.owner.empty() ? nlohmann::json() : nlohmann::json(v.owner)},
      {"standbys", standbys},
      {"paused_by", v.paused_by.empty() ? nlohmann::json() : nlohmann::json(v.paused_by)},
      {"lease",
       {{"holding", v.holding},
        {"remaining_ms", v.lease_remaining_ms},
        {"lease_ms", cfg.lease_ms},
        {"ownerless_ms", v.ownerless.count()},
        {"takeover_rank", v.rank},
        {"epoch", v.epoch},
        {"error", v.error}}}};
}

nlohmann::json sync_service::status() {
  auto out = nlohmann::json::object();
  for (auto& [name, cfg] : configs_)
    if (auto j = status_json(name))
      out[name] = *j;
  return out;
}

std::optional<nlohmann::json> sync_service::status_json(const std::string& name) const {
  if (configs_.count(name) == 0)
    return std::nullopt;
  nlohmann::json out;
  if (auto p = find(name)) {
    out = pipeline_json(name, *p);
  } else {
    // A standby: the pipeline runs on the lease's holder, if any. The holder of
    // a paused one runs nothing and says "paused".
    auto& cfg = configs_.at(name);
    auto k = keepers_.find(name);
    auto v = k == keepers_.end() ? ownership_view{} : k->second->view();
    out = {{"state", v.holding && !v.paused_by.empty() ? "paused" : "standby"},
           {"apply", cfg.apply},
           {"max_lag_seconds", cfg.max_lag_seconds}};
  }
  auto own = ownership_json(name);
  out.update(own);
  if (!out.contains("epoch") && own.contains("lease"))
    out["epoch"] = own["lease"]["epoch"];
  return out;
}

std::vector<std::string> sync_service::unhealthy() {
  std::vector<std::string> out;
  for (auto& [name, k] : keepers_) {
    auto v = k->view();
    auto lease = milliseconds{configs_.at(name).lease_ms};
    // A lease and a few looks: time for the first standby in line to take it.
    if (v.ownerless > lease + lease)
      out.push_back("sync pipeline " + name + " has no owner: no node has held its " +
                    "lease for " + std::to_string(v.ownerless.count()) + " ms");
  }
  for (auto& name : pipelines()) {
    auto p = find(name);
    if (!p || paused(name))
      continue;
    auto s = p->status();
    auto bound = configs_.at(name).max_lag_seconds;
    if (s.state == binlog::pipeline_state::failed)
      out.push_back("sync pipeline " + name + " failed: " + s.error +
                    " (fix the cause, then: shoal sync resume " + name + ")");
    else if (!s.waiting_for_source.empty())
      out.push_back("sync pipeline " + name +
                    " waits for a source: " + s.waiting_for_source);
    else if (bound > 0 && s.lag_seconds > static_cast<double>(bound))
      out.push_back("sync pipeline " + name + " lags " + std::to_string(s.lag_seconds) +
                    " s behind its source (max_lag_seconds " + std::to_string(bound) +
                    ")");
  }
  return out;
}

std::vector<std::string> sync_service::not_ready() {
  std::vector<std::string> out;
  for (auto& [name, k] : keepers_) {
    auto v = k->view();
    if (!v.error.empty())
      out.push_back("sync pipeline " + name + ": its lease on the target cannot be " +
                    "read or renewed: " + v.error);
    else if (v.holding && !v.paused_by.empty() && !find(name))
      out.push_back("sync pipeline " + name + " is paused (shoal sync resume " + name +
                    ")");
  }
  for (auto& name : pipelines()) {
    auto p = find(name);
    if (!p)
      continue;
    if (paused(name)) {
      out.push_back("sync pipeline " + name + " is paused (shoal sync resume " + name +
                    ")");
      continue;
    }
    auto s = p->status();
    if (s.state == binlog::pipeline_state::starting)
      out.push_back("sync pipeline " + name + " is starting");
    else if (s.state != binlog::pipeline_state::snapshot &&
             s.state != binlog::pipeline_state::running)
      out.push_back("sync pipeline " + name + " is " + binlog::to_string(s.state));
  }
  return out;
}

void sync_service::add_routes(httplib::Server& server) {
  server.Get(
      R"(/sync/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
        auto j = status_json(req.matches[1]);
        if (!j) {
          res.status = 404;
          res.set_content(
              nlohmann::json{{"error", "no pipeline \"" + std::string{req.matches[1]} +
                                           "\" runs on this node"}}
                  .dump(),
              "application/json");
          return;
        }
        res.set_content(j->dump(), "application/json");
      });
  if (http_secret_.empty())
    return;
  auto operation = [this](bool pause_it) {
    return [this, pause_it](const httplib::Request& req, httplib::Response& res) {
      if (!bearer_authorized(req, http_secret_, res))
        return;
      std::string name = req.matches[1];
      auto done = pause_it ? pause(name) : resume(name);
      res.status = done.status;
      nlohmann::json body{{"pipeline", name}, {"message", done.message}};
      if (auto j = status_json(name))
        body["state"] = (*j)["state"];
      res.set_content(body.dump(), "application/json");
    };
  };
  server.Post(R"(/sync/([^/]+)/pause)", operation(true));
  server.Post(R"(/sync/([^/]+)/resume)", operation(false));
}

std::vector<std::string> sync_service::pipelines() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<std::string> names;
  for (auto& kv : pipelines_)
    names.push_back(kv.first);
  return names;
}

std::optional<binlog::pipeline_status>
sync_service::status_of(const std::string& name) const {
  auto p = find(name);
  if (!p)
    return std::nullopt;
  return p->status();
}

bool sync_service::wait_applied(const std::string& name,
                                const binlog::binlog_position& pos,
                                milliseconds timeout) const {
  auto p = find(name);
  return p && p->wait_applied(pos, timeout);
}

bool sync_service::wait_caught_up(const std::string& name, milliseconds timeout) const {
  auto c = configs_.find(name);
  if (c == configs_.end())
    return false;
  // The server the pipeline reads now: the source or one of its candidates.
  auto source = to_mysql_config(c->second.source);
  if (auto s = status_of(name))
    for (auto& cand : c->second.source_candidates) {
      auto m = to_mysql_config(cand);
      if (m.host + ":" + std::to_string(m.port) == s->source_endpoint)
        source = m;
    }
  auto conn = mysql_connection::connect(source);
  if (!conn)
    return false;
  auto r = conn->query("SHOW MASTER STATUS");
  if (!r || r->rows.empty())
    return false;
  binlog::binlog_position pos{r->rows[0][0].value_or(""),
                              std::stoull(r->rows[0][1].value_or("0"))};
  return wait_applied(name, pos, timeout);
}

std::unique_ptr<service> make_sync_service(node& n, std::string& error) {
  std::vector<sync_pipeline_config> mine;
  auto& me = n.cfg().node.name;
  for (auto& p : n.cfg().sync.pipelines)
    if (p.node == me || std::find(p.nodes.begin(), p.nodes.end(), me) != p.nodes.end())
      mine.push_back(p);
  if (mine.empty())
    return nullptr;
  for (auto& p : mine) {
    auto problems = binlog::table_filter::check(p.include, p.exclude, p.rename);
    if (!problems.empty()) {
      error = "sync pipeline " + p.name + ": " + problems.front();
      return nullptr;
    }
  }
  std::string secret;
  auto& cfg = n.cfg().sync;
  if (cfg.http_api) {
    auto from_env = secret_from_env(cfg.http_api_secret_env);
    if (!from_env) {
      error = "config error at $.sync.http_api.secret_env: environment variable " +
              cfg.http_api_secret_env + " is not set";
      return nullptr;
    }
    secret = *from_env;
  }
  return std::make_unique<sync_service>(n, mine, std::move(secret));
}

} // namespace shoal

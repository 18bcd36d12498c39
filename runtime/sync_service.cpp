#include "runtime/sync_service.hpp"

#include <caf/actor_system.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "runtime/connections.hpp"
#include "runtime/counter_feed.hpp"
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
                      "failed, stopped), 0 for the others.")
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
  s.target = to_mysql_config(p.target);
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

sync_service::sync_service(node& n, const std::vector<sync_pipeline_config>& pipelines)
    : metrics_(std::make_unique<metrics>(n.metrics())) {
  for (auto& p : pipelines) {
    configs_[p.name] = p;
    pipelines_[p.name] = binlog::pipeline::start(n.system(), to_pipeline_settings(p));
    log().info("sync {}: started ({} partitions, start {})", p.name, p.partitions,
               p.start.mode);
  }
}

sync_service::~sync_service() {
  stop();
}

void sync_service::stop() {
  if (stopped_.exchange(true))
    return;
  for (auto& [name, p] : pipelines_) {
    p->stop();
    log().info("sync {}: stopped", name);
  }
}

void sync_service::update_metrics() {
  auto& m = *metrics_;
  for (auto& [name, p] : pipelines_) {
    auto s = p->status();
    std::map<std::string, std::string> l{{"pipeline", name}};
    m.source_position.Add(l).Set(static_cast<double>(s.source.pos));
    m.source_file.Add(l).Set(file_number(s.source.file));
    advance_counter(m.rows_read.Add(l), s.rows_read);
    advance_counter(m.rows_applied.Add(l), s.rows_applied);
    advance_counter(m.reconnects.Add(l), s.reconnects);
    m.lag.Add(l).Set(s.lag_seconds);
    m.inflight.Add(l).Set(static_cast<double>(s.inflight));
    m.inflight_bytes.Add(l).Set(static_cast<double>(s.inflight_bytes));
    for (auto st : {binlog::pipeline_state::starting, binlog::pipeline_state::snapshot,
                    binlog::pipeline_state::running, binlog::pipeline_state::failed,
                    binlog::pipeline_state::stopped})
      m.state.Add({{"pipeline", name}, {"state", binlog::to_string(st)}})
          .Set(s.state == st ? 1 : 0);
    for (size_t i = 0; i < s.partitions.size(); ++i) {
      std::map<std::string, std::string> pl{{"pipeline", name},
                                            {"partition", std::to_string(i)}};
      m.applied_position.Add(pl).Set(static_cast<double>(s.partitions[i].applied.at.pos));
      m.queue.Add(pl).Set(static_cast<double>(s.partitions[i].queued));
    }
  }
}

nlohmann::json sync_service::status() {
  auto out = nlohmann::json::object();
  for (auto& [name, p] : pipelines_) {
    auto s = p->status();
    auto parts = nlohmann::json::array();
    for (auto& part : s.partitions)
      parts.push_back({{"applied", position_json(part.applied.at)},
                       {"applied_index", part.applied.index},
                       {"rows_applied", part.rows_applied},
                       {"transactions", part.transactions},
                       {"queued_rows", part.queued}});
    out[name] = {
        {"state", binlog::to_string(s.state)},
        {"apply", s.whole_transactions ? "transaction" : "key"},
        {"error", s.error},
        {"source", position_json(s.source)},
        {"handed_on", position_json(s.handed_on)},
        {"rows_read", s.rows_read},
        {"rows_applied", s.rows_applied},
        {"rows_per_second", s.rows_per_second},
        {"lag_seconds", s.lag_seconds},
        {"inflight_rows", s.inflight},
        {"inflight_bytes", s.inflight_bytes},
        {"inflight_bytes_peak", s.inflight_bytes_peak},
        {"reconnects", s.reconnects},
        {"epoch", s.epoch},
        {"ddl_skipped", s.ddl_skipped},
        {"last_skipped_ddl", s.last_skipped_ddl},
        {"snapshot", {{"rows", s.snapshot_rows}, {"expected", s.snapshot_rows_expected}}},
        {"partitions", parts}};
  }
  return out;
}

std::vector<std::string> sync_service::unhealthy() {
  std::vector<std::string> out;
  for (auto& [name, p] : pipelines_) {
    auto s = p->status();
    if (s.state == binlog::pipeline_state::failed)
      out.push_back("sync pipeline " + name + " failed: " + s.error);
  }
  return out;
}

std::vector<std::string> sync_service::not_ready() {
  std::vector<std::string> out;
  for (auto& [name, p] : pipelines_) {
    auto s = p->status();
    if (s.state == binlog::pipeline_state::starting)
      out.push_back("sync pipeline " + name + " is starting");
    else if (s.state != binlog::pipeline_state::snapshot &&
             s.state != binlog::pipeline_state::running)
      out.push_back("sync pipeline " + name + " is " + binlog::to_string(s.state));
  }
  return out;
}

std::vector<std::string> sync_service::pipelines() const {
  std::vector<std::string> names;
  for (auto& kv : pipelines_)
    names.push_back(kv.first);
  return names;
}

std::optional<binlog::pipeline_status>
sync_service::status_of(const std::string& name) const {
  auto i = pipelines_.find(name);
  if (i == pipelines_.end())
    return std::nullopt;
  return i->second->status();
}

bool sync_service::wait_applied(const std::string& name,
                                const binlog::binlog_position& pos,
                                milliseconds timeout) const {
  auto i = pipelines_.find(name);
  return i != pipelines_.end() && i->second->wait_applied(pos, timeout);
}

bool sync_service::wait_caught_up(const std::string& name, milliseconds timeout) const {
  auto c = configs_.find(name);
  if (c == configs_.end())
    return false;
  auto conn = mysql_connection::connect(to_mysql_config(c->second.source));
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
  for (auto& p : n.cfg().sync.pipelines)
    if (p.node == n.cfg().node.name)
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
  return std::make_unique<sync_service>(n, mine);
}

} // namespace shoal

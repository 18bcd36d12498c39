#include "actors/binlog/sync/pipeline.hpp"

#include <algorithm>
#include <ostream>

#include "actors/binlog/sync/binlog_reader.hpp"
#include "actors/binlog/sync/detail/pipeline_state.hpp"
#include "actors/binlog/sync/partition_applier.hpp"

namespace shoal::binlog {

using namespace std::chrono;

const char* to_string(pipeline_state s) {
  switch (s) {
  case pipeline_state::starting:
    return "starting";
  case pipeline_state::snapshot:
    return "snapshot";
  case pipeline_state::running:
    return "running";
  case pipeline_state::failed:
    return "failed";
  case pipeline_state::stopped:
    return "stopped";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, pipeline_state s) {
  return os << to_string(s);
}

pipeline::pipeline(std::shared_ptr<shared> state, std::vector<caf::actor> actors)
    : state_(std::move(state)), actors_(std::move(actors)) {}

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
  st->status.whole_transactions = st->settings.whole_transactions;
  st->status.state = pipeline_state::starting;
  st->status.partitions.resize(st->settings.partitions);
  // The reader is spawned first so partitions know where to send credits; it
  // receives their handles in its first message. Each partition links to the
  // reader, so the exit of one (its failure) reaches all the others.
  // State travels as spawn arguments, not captures: CAF 0.17's spawn of a
  // function without arguments dereferences an empty shared_ptr (UBSan).
  using state_ptr = decltype(st);
  std::vector<caf::actor> actors;
  actors.push_back(sys.spawn<caf::detached>(
      [](caf::blocking_actor* self, state_ptr st) {
        self->fail_state(detail::run_binlog_reader(self, st));
        st->actor_done();
      },
      st));
  st->actor_started();
  auto reader = caf::actor_cast<binlog_reader_actor>(actors.front());
  binlog::partition_handles parts;
  for (uint32_t i = 0; i < st->settings.partitions; ++i) {
    st->actor_started();
    actors.push_back(sys.spawn<caf::detached>(
        [](caf::blocking_actor* self, state_ptr st, uint32_t i,
           binlog_reader_actor reader) {
          self->fail_state(detail::run_partition_applier(self, st, i, reader));
          st->actor_done();
        },
        st, i, reader));
    parts.partitions.push_back(caf::actor_cast<binlog_partition_actor>(actors.back()));
  }
  caf::anon_send(reader, std::move(parts));
  return std::shared_ptr<pipeline>{new pipeline(st, std::move(actors))};
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
  auto since = std::max(st.applied_time, st.pending_since);
  if (s.inflight > 0 && since > 0) {
    auto wall = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
    s.lag_seconds = std::max<double>(0, static_cast<double>(wall - since));
  }
  return s;
}

bool pipeline::wait_applied(const binlog_position& pos, milliseconds timeout) const {
  auto& st = *state_;
  change_key want{pos, 0};
  std::unique_lock<std::mutex> lock{st.mtx};
  auto ended = [&] {
    return st.status.state == pipeline_state::failed || st.stop_requested ||
           st.running == 0;
  };
  return st.cv.wait_for(lock, timeout, [&] {
    return ended() ||
           std::all_of(st.status.partitions.begin(), st.status.partitions.end(),
                       [&](const partition_status& p) { return want <= p.applied; });
  }) && !ended();
}

bool pipeline::wait_ended(milliseconds timeout) const {
  auto& st = *state_;
  std::unique_lock<std::mutex> lock{st.mtx};
  return st.cv.wait_for(lock, timeout, [&] { return st.running == 0; });
}

void pipeline::stop() {
  auto& st = *state_;
  {
    std::lock_guard<std::mutex> guard{st.mtx};
    st.stop_requested = true;
  }
  st.cv.notify_all();
  for (auto& a : actors_)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  actors_.clear();
  std::unique_lock<std::mutex> lock{st.mtx};
  st.cv.wait_for(lock, seconds{40}, [&] { return st.running == 0; });
  if (st.status.state != pipeline_state::failed)
    st.status.state = pipeline_state::stopped;
}

} // namespace shoal::binlog

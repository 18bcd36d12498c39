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
  st->status.state = pipeline_state::starting;
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
        detail::run_binlog_reader(self, st, std::move(parts));
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
          detail::run_partition_applier(self, st, i, reader_actor);
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
                          if (st.status.state == pipeline_state::failed || st.stopping)
                            return true;
                          return std::all_of(st.status.partitions.begin(),
                                             st.status.partitions.end(),
                                             [&](const partition_status& p) {
                                               return want <= p.applied;
                                             });
                        }) &&
         st.status.state != pipeline_state::failed && !st.stopping;
}

void pipeline::stop() {
  auto& st = *state_;
  st.stopping = true;
  std::unique_lock<std::mutex> lock{st.mtx};
  st.cv.notify_all();
  st.cv.wait_for(lock, seconds{40}, [&] { return st.running == 0; });
  if (st.status.state != pipeline_state::failed)
    st.status.state = pipeline_state::stopped;
}

} // namespace shoal::binlog

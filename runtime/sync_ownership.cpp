#include "runtime/sync_ownership.hpp"

#include <unistd.h>

#include <algorithm>
#include <optional>

#include "runtime/placement.hpp"

namespace shoal {

using namespace std::chrono;

ownership_keeper::ownership_keeper(ownership_settings settings,
                                   std::function<void(const std::string&)> take_over,
                                   std::function<void(const std::string&)> step_down)
    : cfg_(std::move(settings)), take_over_(std::move(take_over)),
      step_down_(std::move(step_down)),
      tick_(std::max(milliseconds{100}, cfg_.lease / 4)),
      watch_tick_(std::min(tick_, milliseconds{500})) {
  // A look must not outlast the lease: a renewal stuck on a frozen target would
  // keep this node from stepping down in time.
  auto cap = std::max(seconds{1}, duration_cast<seconds>(cfg_.lease / 2));
  cfg_.target.connect_timeout = std::min(cfg_.target.connect_timeout, cap);
  cfg_.target.read_timeout = std::min(cfg_.target.read_timeout, cap);
  cfg_.target.write_timeout = std::min(cfg_.target.write_timeout, cap);
  auto started =
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  holder_ = cfg_.node + ":" + std::to_string(getpid()) + ":" + std::to_string(started);
  auto order = owners_of(cfg_.pipeline, cfg_.nodes, cfg_.nodes.size());
  rank_ = static_cast<size_t>(std::find(order.begin(), order.end(), cfg_.node) -
                              order.begin());
  view_.rank = rank_;
  thread_ = std::thread([this] { run(); });
}

ownership_keeper::~ownership_keeper() {
  stop();
}

void ownership_keeper::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void ownership_keeper::look_now() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    look_now_ = true;
  }
  cv_.notify_all();
}

ownership_view ownership_keeper::view() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return view_;
}

void ownership_keeper::run() {
  std::optional<mysql_connection> conn;
  bool schema = false;
  while (true) {
    {
      std::unique_lock<std::mutex> lock{mtx_};
      if (stopping_)
        break;
    }
    std::string error;
    if (!conn) {
      auto c = mysql_connection::connect(cfg_.target);
      if (c)
        conn.emplace(std::move(*c));
      else
        error = c.error().to_string();
    }
    if (conn && !schema) {
      schema = true;
      for (auto& sql : binlog::checkpoint_schema_sql(cfg_.checkpoint_database)) {
        if (auto r = conn->exec(sql); !r) {
          error = "creating the lease table: " + r.error().to_string();
          schema = false;
          conn.reset();
          break;
        }
      }
    }
    if (conn && schema) {
      if (!look(*conn))
        conn.reset(); // a fresh connection at the next look
    } else {
      {
        std::lock_guard<std::mutex> guard{mtx_};
        view_.error = error;
      }
      if (holding_ && steady_clock::now() - renewed_at_ >= cfg_.lease - tick_)
        lose("the target cannot be reached to renew the lease (" + error + ")");
    }
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait_for(lock, holding_ ? tick_ : watch_tick_,
                 [this] { return stopping_ || look_now_; });
    look_now_ = false;
  }
  if (holding_) {
    // The pipeline ends before the lease does: a standby must not start while
    // this process still writes (and the epoch would fence it if it did).
    if (running_)
      step_down_("the node is stopping; handing the pipeline over");
    running_ = false;
    holding_ = false;
    if (!conn) { // the last look lost it: one more try, or standbys wait out the lease
      if (auto c = mysql_connection::connect(cfg_.target); c)
        conn.emplace(std::move(*c));
    }
    if (conn)
      (void)binlog::release_lease(*conn, cfg_.checkpoint_database, cfg_.pipeline,
                                  holder_);
  }
}

bool ownership_keeper::look(mysql_connection& conn) {
  auto& db = cfg_.checkpoint_database;
  auto now = steady_clock::now();
  if (holding_) {
    auto renewed = binlog::renew_lease(conn, db, cfg_.pipeline, holder_, cfg_.lease);
    if (!renewed) {
      {
        std::lock_guard<std::mutex> guard{mtx_};
        view_.error = renewed.error().to_string();
      }
      // Measured after the call, which can itself take up to its timeout.
      if (steady_clock::now() - renewed_at_ >= cfg_.lease - tick_)
        lose("the lease could not be renewed in time: " + renewed.error().to_string());
      return false;
    }
    if (!*renewed) {
      lose("another node holds the lease now (this process was stopped or cut off "
           "past its lease)");
      return true;
    }
    renewed_at_ = now;
  }
  auto v = binlog::read_lease(conn, db, cfg_.pipeline);
  if (!v) {
    std::lock_guard<std::mutex> guard{mtx_};
    view_.error = v.error().to_string();
    return false;
  }
  bool free = !v->live;
  if (free && !free_seen_) {
    free_seen_ = true;
    free_since_ = now;
  }
  if (!free)
    free_seen_ = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    view_.error.clear();
    view_.holding = holding_;
    view_.owner = v->live ? v->node : std::string{};
    view_.epoch = v->epoch;
    view_.lease_remaining_ms = std::max<int64_t>(0, v->remaining_ms);
    // By the target's clock when a lease expired; by this node's since it first
    // saw no row.
    view_.ownerless = !free       ? milliseconds{0}
                      : v->exists ? milliseconds{-v->remaining_ms}
                                  : duration_cast<milliseconds>(now - free_since_);
    view_.paused_by = v->paused_by;
  }
  bool paused = !v->paused_by.empty();
  if (holding_) {
    follow(paused);
    return true;
  }
  if (!free || now - free_since_ < rank_ * watch_tick_)
    return true;
  auto got =
      binlog::acquire_lease(conn, db, cfg_.pipeline, holder_, cfg_.node, cfg_.lease);
  if (!got) {
    std::lock_guard<std::mutex> guard{mtx_};
    view_.error = got.error().to_string();
    return false;
  }
  if (!*got)
    return true;
  holding_ = true;
  renewed_at_ = now;
  free_seen_ = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    view_.holding = true;
    view_.owner = cfg_.node;
    view_.ownerless = milliseconds{0};
    view_.lease_remaining_ms = cfg_.lease.count();
  }
  follow(paused);
  return true;
}

void ownership_keeper::follow(bool paused) {
  if (!paused && !running_) {
    running_ = true;
    take_over_(holder_);
  } else if (paused && running_) {
    running_ = false;
    step_down_("an operator paused it (it stays paused on every node until resumed)");
  }
}

void ownership_keeper::lose(const std::string& why) {
  holding_ = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    view_.holding = false;
    view_.owner.clear();
  }
  if (running_)
    step_down_(why);
  running_ = false;
}

} // namespace shoal

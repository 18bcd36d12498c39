#include "runtime/hotkey_replay.hpp"

#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "runtime/hotkey_service.hpp"
#include "runtime/node.hpp"

namespace shoal {

int replay_hotkeys(const std::string& config_path, const std::string& trace, double speed,
                   std::istream& in, std::ostream& out, std::ostream& err) {
  auto loaded = load_config_file(config_path);
  if (!loaded) {
    for (auto& e : loaded.error())
      err << e << '\n';
    return 2;
  }
  auto cfg = *loaded;
  if (!cfg.hotkeys.present) {
    err << "shoal hotkeys replay: " << config_path << " has no hotkeys section\n";
    return 2;
  }
  cfg.node.listen = endpoint{"127.0.0.1", 0};
  cfg.cluster.peers.clear();
  cfg.http.enabled = false;
  cfg.hotkeys.shard_nodes.clear();
  // Only the replay's own flushes move counts, so each is counted at its trace time.
  cfg.hotkeys.flush_ms = 60000;
  std::ifstream file;
  std::istream* source = &in;
  if (trace != "-") {
    file.open(trace);
    if (!file) {
      err << "shoal hotkeys replay: cannot read " << trace << '\n';
      return 2;
    }
    source = &file;
  }
  std::string why;
  auto n = node::start(cfg, why);
  if (!n) {
    err << "shoal hotkeys replay: " << why << '\n';
    return 2;
  }
  auto* svc = n->service_of<hotkey_service>();
  std::mutex out_lock;
  svc->on_detection([&](const std::string& key, uint64_t, int64_t at_ms) {
    std::lock_guard<std::mutex> guard{out_lock};
    out << nlohmann::json{{"key", key}, {"at_ms", at_ms}}.dump() << '\n';
  });
  std::string line;
  size_t line_no = 0;
  bool started = false;
  int64_t current = 0;
  auto wall_start = std::chrono::steady_clock::now();
  int64_t trace_start = 0;
  int code = 0;
  while (std::getline(*source, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#')
      continue;
    auto space = line.find(' ');
    int64_t ts = 0;
    try {
      size_t used = 0;
      ts = std::stoll(line.substr(0, space), &used);
      if (used != space || space == std::string::npos || space + 1 >= line.size())
        throw std::invalid_argument{"format"};
    } catch (const std::exception&) {
      err << "shoal hotkeys replay: " << trace << ":" << line_no
          << ": expected `timestamp_ms key`, got \"" << line << "\"\n";
      code = 2;
      break;
    }
    if (!started || ts != current) {
      if (started)
        svc->flush();
      if (!started)
        trace_start = ts;
      if (speed > 0) {
        auto due = wall_start + std::chrono::microseconds{static_cast<int64_t>(
                                    (ts - trace_start) * 1000 / speed)};
        std::this_thread::sleep_until(due);
      }
      current = std::max(current, ts);
      started = true;
      svc->clock().set_manual(current);
    }
    svc->record(std::string_view{line}.substr(space + 1));
  }
  if (started)
    svc->flush();
  n->stop();
  std::lock_guard<std::mutex> guard{out_lock};
  out.flush();
  return code;
}

} // namespace shoal

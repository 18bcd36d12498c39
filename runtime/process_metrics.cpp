#include "runtime/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

namespace shoal {

namespace {

/// The fields of /proc/self/stat after the command name, which may hold spaces
/// and parentheses: field 3 of proc(5) is element 0.
std::vector<std::string> stat_fields() {
  std::ifstream in{"/proc/self/stat"};
  std::string line{std::istreambuf_iterator<char>{in}, {}};
  auto close = line.rfind(')');
  if (close == std::string::npos)
    return {};
  std::istringstream rest{line.substr(close + 1)};
  return {std::istream_iterator<std::string>{rest}, {}};
}

/// The boot time of the machine in Unix seconds (btime in /proc/stat).
std::optional<double> boot_time() {
  std::ifstream in{"/proc/stat"};
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value)
      return value;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

std::optional<double> open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir)
    return std::nullopt;
  double n = 0;
  while (auto* e = readdir(dir))
    if (e->d_name[0] != '.')
      ++n;
  closedir(dir);
  return n - 1; // the descriptor opendir() holds
}

void gauge(prometheus::Registry& reg, const char* name, const char* help, double v) {
  prometheus::BuildGauge().Name(name).Help(help).Register(reg).Add({}).Set(v);
}

} // namespace

void add_process_metrics(prometheus::Registry& reg) {
  auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  auto page = static_cast<double>(sysconf(_SC_PAGESIZE));
  auto f = stat_fields();
  // proc(5): utime 14, stime 15, starttime 22, vsize 23, rss 24; f[0] is field 3.
  if (f.size() > 21 && ticks > 0) {
    auto field = [&](size_t n) { return std::stod(f[n - 3]); };
    prometheus::BuildCounter()
        .Name("process_cpu_seconds_total")
        .Help("Total user and system CPU time spent in seconds.")
        .Register(reg)
        .Add({})
        .Increment((field(14) + field(15)) / ticks);
    if (auto boot = boot_time())
      gauge(reg, "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            *boot + field(22) / ticks);
    gauge(reg, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
          field(23));
    gauge(reg, "process_resident_memory_bytes", "Resident memory size in bytes.",
          field(24) * page);
  }
  if (auto fds = open_fds())
    gauge(reg, "process_open_fds", "Number of open file descriptors.", *fds);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    gauge(reg, "process_max_fds", "Maximum number of open file descriptors.",
          static_cast<double>(limit.rlim_cur));
}

} // namespace shoal

#include "runtime/systemd_notifier.hpp"

#include <cstdint>

#include <systemd/sd-daemon.h>

namespace shoal {

systemd_notifier::systemd_notifier() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
    watchdog_interval_ = std::chrono::microseconds{usec / 2};
}

void systemd_notifier::ready(const std::string& status) const {
  sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}

void systemd_notifier::stopping(const std::string& status) const {
  sd_notify(0, ("STOPPING=1\nSTATUS=" + status).c_str());
}

void systemd_notifier::watchdog() const {
  if (watchdog_interval_.count() > 0)
    sd_notify(0, "WATCHDOG=1");
}

} // namespace shoal

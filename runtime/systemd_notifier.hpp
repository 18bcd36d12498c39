// systemd_notifier: tells systemd how `shoal node` is doing, for a unit with
// Type=notify (contrib/systemd/shoal.service): READY=1 once the services serve,
// STOPPING=1 when the node begins to stop, and WATCHDOG=1 keep-alives when the unit
// sets WatchdogSec=.
//
//   shoal::systemd_notifier notifier;          // reads NOTIFY_SOCKET, WATCHDOG_USEC
//   notifier.ready("serving: peers on 7101");  // then, in the signal loop,
//   notifier.watchdog();                       // every watchdog_interval()
//   notifier.stopping();
//
// Outside systemd (no NOTIFY_SOCKET) every call does nothing. Through libsystemd's
// sd_notify, which speaks the datagram protocol to $NOTIFY_SOCKET (a path, or an
// abstract socket written with a leading '@'). Part of the `shoal` binary only, so
// that an application embedding the engine does not link libsystemd.

#pragma once

#include <chrono>
#include <string>

namespace shoal {

class systemd_notifier {
public:
  /// Reads the environment systemd gives the service; the watchdog is on when
  /// WATCHDOG_USEC is set (and WATCHDOG_PID, if set, is this process).
  systemd_notifier();

  /// READY=1 with a STATUS= line.
  void ready(const std::string& status) const;

  /// STOPPING=1 with a STATUS= line.
  void stopping(const std::string& status) const;

  /// WATCHDOG=1: the node is alive. Does nothing when the watchdog is off.
  void watchdog() const;

  /// How often to call watchdog(): half of WATCHDOG_USEC, as sd_watchdog_enabled(3)
  /// advises; zero when the watchdog is off.
  std::chrono::microseconds watchdog_interval() const { return watchdog_interval_; }

private:
  /// Zero: no watchdog asked for.
  std::chrono::microseconds watchdog_interval_{0};
};

} // namespace shoal

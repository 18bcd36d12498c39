// hotkey_replay: `shoal hotkeys replay` — feeds an access trace through the real hot-key
// pipeline of a one-node cluster and prints every detection, so that rules can be
// tuned against real access logs.
//
// The trace has one access per line, `timestamp_ms key` (the key is the rest of the
// line). Trace time drives the windows: the pipeline's clock is set to each line's
// timestamp, and all accesses of one timestamp are counted before time moves on. Each
// detection is printed as one JSON line {"key":..., "at_ms":...}, at_ms being the trace
// time at which the key was declared hot.
#pragma once

#include <iosfwd>
#include <string>

namespace shoal {

/// Replays `trace` (a path, or "-" for `in`) with the rules of the config at
/// `config_path`. speed 0 replays as fast as possible; speed x sleeps so that the
/// replay takes trace time / x. Detections go to `out`, problems to `err`. Returns the
/// exit code: 0, or 2 for a bad config or trace.
int replay_hotkeys(const std::string& config_path, const std::string& trace, double speed,
                   std::istream& in, std::ostream& out, std::ostream& err);

} // namespace shoal

// Free TCP ports on the loopback interface, for servers started by tests.

#pragma once

#include <cstdint>

namespace shoal::test {

/// A TCP port on 127.0.0.1 that nothing listens on at the time of the call: a
/// random port below the kernel's ephemeral range that could be bound (then the
/// socket is closed), so no outgoing connection takes it meanwhile, and that no
/// other test process picked (a lock file per port in $TMPDIR/shoal-test-ports,
/// held until this process exits). A process that is not a test may still take
/// the port before the caller binds it, so callers that start servers retry
/// with a new port when the server reports "address in use".
/// Thread-safe. Throws std::system_error if no socket can be bound.
uint16_t free_port();

} // namespace shoal::test

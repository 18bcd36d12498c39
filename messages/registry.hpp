// The one place where every message type of shoal is made known to CAF.
//
// Call register_messages() on every actor_system_config before the system is
// created, in every process of a cluster: types travel between nodes by their
// registered names, and a type one side does not know is dropped silently.

#pragma once

#include <string>
#include <vector>

#include <caf/fwd.hpp>

namespace shoal {

/// Registers all of shoal's message types with `cfg`. Not thread-safe; call once
/// per config, before constructing the actor_system.
void register_messages(caf::actor_system_config& cfg);

/// The names of every type register_messages() registers, in ID order: the
/// names under which they travel between nodes.
std::vector<std::string> registered_message_types();

} // namespace shoal

#include "messages/registry.hpp"

#include <caf/actor_system_config.hpp>

#include "messages/cluster.hpp"

namespace shoal {

void register_messages(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::shoal_cluster>();
}

} // namespace shoal

#include "messages/registry.hpp"

#include <utility>

#include <caf/actor_system_config.hpp>

#include "messages/cluster.hpp"
#include "messages/hotkey.hpp"
#include "messages/token.hpp"

namespace shoal {

namespace {

template <class... Blocks> struct block_list {};

/// Every type-ID block of shoal; a new messages header adds its block here.
using all_blocks = block_list<caf::id_block::shoal_cluster, caf::id_block::shoal_hotkey,
                              caf::id_block::shoal_token>;

template <class Block, caf::type_id_t... Is>
void append_names(std::vector<std::string>& out,
                  std::integer_sequence<caf::type_id_t, Is...>) {
  (out.emplace_back(caf::type_name_by_id<Block::begin + Is>::value), ...);
}

template <class... Blocks>
void register_all(caf::actor_system_config& cfg, block_list<Blocks...>) {
  (cfg.add_message_types<Blocks>(), ...);
}

template <class... Blocks>
void names_of_all(std::vector<std::string>& out, block_list<Blocks...>) {
  (append_names<Blocks>(
       out, std::make_integer_sequence<caf::type_id_t, Blocks::end - Blocks::begin>{}),
   ...);
}

} // namespace

void register_messages(caf::actor_system_config& cfg) {
  register_all(cfg, all_blocks{});
}

std::vector<std::string> registered_message_types() {
  std::vector<std::string> names;
  names_of_all(names, all_blocks{});
  return names;
}

} // namespace shoal

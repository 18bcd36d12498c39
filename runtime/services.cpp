#include "runtime/hotkey_service.hpp"
#include "runtime/service.hpp"
#include "runtime/sync_service.hpp"
#include "runtime/token_service.hpp"

namespace shoal {

const std::vector<service_factory>& service_factories() {
  // Each service adds its factory here (declared in its runtime/<name>_service.hpp).
  static const std::vector<service_factory> factories{
      make_token_service, make_hotkey_service, make_sync_service};
  return factories;
}

} // namespace shoal

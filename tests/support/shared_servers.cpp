#include "tests/support/shared_servers.hpp"

#include <memory>
#include <mutex>

namespace shoal::test {

namespace {

struct registry {
  std::mutex mutex;
  // Declared in start order; destroyed (killed) in reverse at exit.
  std::unique_ptr<mariadb_server> source;
  std::unique_ptr<mariadb_server> target;
  std::unique_ptr<redis_server> redis;
};

registry& servers() {
  static registry instance;
  return instance;
}

mariadb_server& shared_mariadb(std::unique_ptr<mariadb_server>& slot, const char* name,
                               unsigned server_id) {
  auto& reg = servers();
  std::lock_guard<std::mutex> guard{reg.mutex};
  if (!slot) {
    mariadb_options opts;
    opts.name = name;
    opts.server_id = server_id;
    slot = std::make_unique<mariadb_server>(opts);
  }
  return *slot;
}

} // namespace

mariadb_server& shared_source() {
  return shared_mariadb(servers().source, "source", 1);
}

mariadb_server& shared_target() {
  return shared_mariadb(servers().target, "target", 2);
}

redis_server& shared_redis() {
  auto& reg = servers();
  std::lock_guard<std::mutex> guard{reg.mutex};
  if (!reg.redis)
    reg.redis = std::make_unique<redis_server>();
  return *reg.redis;
}

void reset_shared_servers() {
  auto& reg = servers();
  std::lock_guard<std::mutex> guard{reg.mutex};
  if (reg.source)
    reg.source->reset();
  if (reg.target)
    reg.target->reset();
  if (reg.redis)
    reg.redis->reset();
}

} // namespace shoal::test

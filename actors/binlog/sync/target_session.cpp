#include "actors/binlog/sync/target_session.hpp"

#include "actors/binlog/sync/checkpoint.hpp"

namespace shoal::binlog {

namespace {

mysql_expected<mysql_ok> set_up(mysql_connection& conn) {
  auto r = conn.exec(target_session::session_settings_sql());
  if (!r)
    return r.error();
  return mysql_ok{};
}

} // namespace

std::string target_session::session_settings_sql() {
  return "SET SESSION sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,"
         "NO_ENGINE_SUBSTITUTION,ALLOW_INVALID_DATES',"
         " time_zone='+00:00', foreign_key_checks=0, unique_checks=1";
}

mysql_expected<target_session> target_session::open(const mysql_config& config,
                                                    target_identity identity) {
  auto conn = mysql_connection::connect(config);
  if (!conn)
    return conn.error();
  if (auto s = set_up(*conn); !s)
    return s.error();
  return target_session{std::move(*conn), std::move(identity)};
}

mysql_expected<mysql_ok> target_session::recover() {
  if (auto r = conn_.reconnect(); !r)
    return r.error();
  return set_up(conn_);
}

std::optional<apply_error>
target_session::apply(const std::vector<std::string>& statements) {
  constexpr int max_conflicts = 20;
  for (int attempt = 0;; ++attempt) {
    apply_error failure;
    auto result = conn_.transaction([&](mysql_connection& c) -> mysql_expected<mysql_ok> {
      if (identity_.epoch != 0) {
        auto owner =
            c.query(owner_check_sql(identity_.checkpoint_database, identity_.pipeline));
        if (!owner)
          return owner.error();
        uint64_t epoch = 0;
        std::string holder = "nobody";
        if (!owner->rows.empty()) {
          epoch = std::stoull(owner->rows[0][0].value_or("0"));
          holder = owner->rows[0][1].value_or("?");
        }
        if (epoch != identity_.epoch) {
          failure.fenced = true;
          mysql_error err;
          err.operation = "owner check";
          err.endpoint = c.endpoint();
          err.message = "pipeline " + identity_.pipeline + " was claimed by " + holder +
                        " (epoch " + std::to_string(epoch) +
                        ") after this process (epoch " + std::to_string(identity_.epoch) +
                        ") started it; this process stops without writing";
          return err;
        }
      }
      for (size_t i = 0; i < statements.size(); ++i) {
        if (auto r = c.exec(statements[i]); !r) {
          failure.statement = i;
          return r.error();
        }
      }
      return mysql_ok{};
    });
    if (result)
      return std::nullopt;
    failure.error = result.error();
    if (!failure.fenced && is_transaction_conflict(failure.error) &&
        attempt < max_conflicts)
      continue;
    return failure;
  }
}

} // namespace shoal::binlog

#include "actors/token/actors/token_mirror.hpp"

#include "actors/token/actors/token_store.hpp"

namespace shoal::token {

namespace {

std::string quoted(const std::string& table) {
  auto dot = table.find('.');
  if (dot == std::string::npos)
    return mysql_connection::quote_identifier(table);
  return mysql_connection::quote_identifier(table.substr(0, dot)) + "." +
         mysql_connection::quote_identifier(table.substr(dot + 1));
}

mysql_error with_table(mysql_error e, const std::string& table) {
  e.operation += " (token mirror " + table + ")";
  return e;
}

} // namespace

token_mirror::token_mirror(mysql_config server, std::string table)
    : server_(std::move(server)), table_(std::move(table)), quoted_table_(quoted(table_)),
      quoted_lease_table_(quoted(table_ + "_lease")) {}

mysql_expected<mysql_connection*> token_mirror::connection() {
  if (conn_)
    return &*conn_;
  auto c = mysql_connection::connect(server_);
  if (!c)
    return with_table(c.error(), table_);
  auto dot = table_.find('.');
  if (dot != std::string::npos) {
    auto db = c->exec("CREATE DATABASE IF NOT EXISTS " +
                      mysql_connection::quote_identifier(table_.substr(0, dot)));
    if (!db)
      return with_table(db.error(), table_);
  }
  auto made = c->exec("CREATE TABLE IF NOT EXISTS " + quoted_table_ +
                      " (provider VARCHAR(64) NOT NULL PRIMARY KEY,"
                      " token TEXT NOT NULL,"
                      " obtained_at_ms BIGINT NOT NULL,"
                      " expires_at_ms BIGINT NOT NULL,"
                      " version BIGINT UNSIGNED NOT NULL,"
                      " written_by VARCHAR(128) NOT NULL)"
                      " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
  if (!made)
    return with_table(made.error(), table_);
  auto lease = c->exec("CREATE TABLE IF NOT EXISTS " + quoted_lease_table_ +
                       " (provider VARCHAR(64) NOT NULL PRIMARY KEY,"
                       " owner VARCHAR(128) NOT NULL,"
                       " until_ms BIGINT NOT NULL)"
                       " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
  if (!lease)
    return with_table(lease.error(), table_ + "_lease");
  // UNIX_TIMESTAMP(NOW(3)) is only unambiguous in a zone without daylight saving.
  auto zone = c->exec("SET time_zone = '+00:00'");
  if (!zone)
    return with_table(zone.error(), table_);
  conn_.emplace(std::move(*c));
  return &*conn_;
}

mysql_expected<bool> token_mirror::write(const std::string& provider,
                                         const token_record& record,
                                         const std::string& written_by) {
  auto c = connection();
  if (!c)
    return c.error();
  auto& conn = **c;
  // Every assignment tests the old version, so `version` is assigned last.
  auto newer = "VALUES(version) > version";
  auto sql = "INSERT INTO " + quoted_table_ +
             " (provider, token, obtained_at_ms, expires_at_ms, version, written_by)"
             " VALUES (" +
             conn.quote(provider) + ", " + conn.quote(record.token) + ", " +
             std::to_string(to_epoch_ms(record.obtained_at)) + ", " +
             std::to_string(to_epoch_ms(record.expires_at)) + ", " +
             std::to_string(record.version) + ", " + conn.quote(written_by) +
             ") ON DUPLICATE KEY UPDATE"
             " token = IF(" +
             newer +
             ", VALUES(token), token),"
             " obtained_at_ms = IF(" +
             newer +
             ", VALUES(obtained_at_ms), obtained_at_ms),"
             " expires_at_ms = IF(" +
             newer +
             ", VALUES(expires_at_ms), expires_at_ms),"
             " written_by = IF(" +
             newer +
             ", VALUES(written_by), written_by),"
             " version = GREATEST(version, VALUES(version))";
  auto r = conn.exec(sql);
  if (!r) {
    auto e = with_table(r.error(), table_);
    if (is_connection_lost(r.error()))
      conn_.reset();
    return e;
  }
  // 1: inserted, 2: updated, 0: the row was as new already.
  return *r > 0;
}

mysql_expected<std::optional<token_record>>
token_mirror::read(const std::string& provider) {
  auto c = connection();
  if (!c)
    return c.error();
  auto& conn = **c;
  auto r = conn.query("SELECT token, obtained_at_ms, expires_at_ms, version FROM " +
                      quoted_table_ + " WHERE provider = " + conn.quote(provider));
  if (!r) {
    auto e = with_table(r.error(), table_);
    if (is_connection_lost(r.error()))
      conn_.reset();
    return e;
  }
  if (r->rows.empty())
    return std::optional<token_record>{};
  auto& row = r->rows.front();
  try {
    token_record rec;
    rec.token = row[0].value_or("");
    rec.obtained_at = from_epoch_ms(std::stoll(row[1].value_or("0")));
    rec.expires_at = from_epoch_ms(std::stoll(row[2].value_or("0")));
    rec.version = std::stoull(row[3].value_or("0"));
    return std::optional<token_record>{std::move(rec)};
  } catch (const std::exception&) {
    mysql_error e;
    e.message = "malformed row for provider " + provider;
    e.endpoint = server_.endpoint();
    e.operation = "read (token mirror " + table_ + ")";
    return e;
  }
}

namespace {

/// The MySQL server's clock in ms since the epoch, as SQL.
constexpr const char* server_now_ms = "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)";

} // namespace

mysql_expected<bool> token_mirror::take_lease(const std::string& provider,
                                              const std::string& owner,
                                              std::chrono::milliseconds lease) {
  auto c = connection();
  if (!c)
    return c.error();
  auto& conn = **c;
  auto failed = [&](const mysql_error& err) {
    auto e = with_table(err, table_ + "_lease");
    if (is_connection_lost(err))
      conn_.reset();
    return e;
  };
  auto until = std::string{server_now_ms} + " + " + std::to_string(lease.count());
  auto p = conn.quote(provider);
  auto o = conn.quote(owner);
  auto updated =
      conn.exec("UPDATE " + quoted_lease_table_ + " SET owner = " + o +
                ", until_ms = " + until + " WHERE provider = " + p +
                " AND (owner = " + o + " OR until_ms < " + server_now_ms + ")");
  if (!updated)
    return failed(updated.error());
  if (*updated > 0)
    return true;
  // Nothing changed: another owner holds it, there is no row yet, or this owner
  // renewed within the same millisecond.
  auto row = conn.query("SELECT owner, until_ms >= " + std::string{server_now_ms} +
                        " FROM " + quoted_lease_table_ + " WHERE provider = " + p);
  if (!row)
    return failed(row.error());
  if (!row->rows.empty())
    return row->rows[0][0].value_or("") == owner && row->rows[0][1].value_or("0") == "1";
  auto inserted = conn.exec("INSERT IGNORE INTO " + quoted_lease_table_ +
                            " (provider, owner, until_ms) VALUES (" + p + ", " + o +
                            ", " + until + ")");
  if (!inserted)
    return failed(inserted.error());
  return *inserted > 0;
}

mysql_expected<bool> token_mirror::release_lease(const std::string& provider,
                                                 const std::string& owner) {
  auto c = connection();
  if (!c)
    return c.error();
  auto& conn = **c;
  auto r =
      conn.exec("UPDATE " + quoted_lease_table_ +
                " SET owner = '', until_ms = 0 WHERE provider = " + conn.quote(provider) +
                " AND owner = " + conn.quote(owner));
  if (!r) {
    auto e = with_table(r.error(), table_ + "_lease");
    if (is_connection_lost(r.error()))
      conn_.reset();
    return e;
  }
  return *r > 0;
}

} // namespace shoal::token

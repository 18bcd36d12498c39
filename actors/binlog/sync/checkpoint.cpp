#include "actors/binlog/sync/checkpoint.hpp"

#include <algorithm>
#include <set>

#include "actors/binlog/sync/sql_builder.hpp"

namespace shoal::binlog {

namespace {

std::string table_name(const std::string& database) {
  return sql_identifier(database) + ".`sync_checkpoint`";
}

std::string quote_text(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\')
      out += c;
    out += c;
  }
  return out + "'";
}

std::string owner_table(const std::string& database) {
  return sql_identifier(database) + ".`sync_owner`";
}

std::string lease_table(const std::string& database) {
  return sql_identifier(database) + ".`sync_lease`";
}

std::string pause_table(const std::string& database) {
  return sql_identifier(database) + ".`sync_pause`";
}

std::string from_now(std::chrono::milliseconds d) {
  return "UTC_TIMESTAMP(6) + INTERVAL " + std::to_string(d.count() * 1000) +
         " MICROSECOND";
}

std::string ddl_table(const std::string& database) {
  return sql_identifier(database) + ".`sync_ddl`";
}

std::string source_table(const std::string& database) {
  return sql_identifier(database) + ".`sync_source`";
}

std::string round_table(const std::string& database) {
  return sql_identifier(database) + ".`sync_round`";
}

std::string hex_literal(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out = "x'";
  out.reserve(bytes.size() * 2 + 3);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out + "'";
}

mysql_error own_error(const mysql_connection& conn, std::string operation,
                      std::string message) {
  mysql_error err;
  err.operation = std::move(operation);
  err.endpoint = conn.endpoint();
  err.message = std::move(message);
  return err;
}

} // namespace

std::vector<std::string> checkpoint_schema_sql(const std::string& database) {
  return {"CREATE DATABASE IF NOT EXISTS " + sql_identifier(database),
          "CREATE TABLE IF NOT EXISTS " + owner_table(database) +
              " (pipeline VARCHAR(128) NOT NULL PRIMARY KEY,"
              " epoch BIGINT UNSIGNED NOT NULL, owner VARCHAR(255) NOT NULL,"
              " claimed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
              " ON UPDATE CURRENT_TIMESTAMP(6)) ENGINE=InnoDB",
          "CREATE TABLE IF NOT EXISTS " + lease_table(database) +
              " (pipeline VARCHAR(128) NOT NULL PRIMARY KEY,"
              " holder VARCHAR(255) NOT NULL, node VARCHAR(255) NOT NULL,"
              " expires_at DATETIME(6) NOT NULL) ENGINE=InnoDB",
          "CREATE TABLE IF NOT EXISTS " + pause_table(database) +
              " (pipeline VARCHAR(128) NOT NULL PRIMARY KEY,"
              " node VARCHAR(255) NOT NULL, paused_at DATETIME(6) NOT NULL)"
              " ENGINE=InnoDB",
          "CREATE TABLE IF NOT EXISTS " + ddl_table(database) +
              " (pipeline VARCHAR(128) NOT NULL PRIMARY KEY,"
              " file VARCHAR(255) NOT NULL, pos BIGINT UNSIGNED NOT NULL,"
              " statement LONGBLOB NOT NULL, before_state LONGBLOB NOT NULL,"
              " gtid VARCHAR(64) NOT NULL DEFAULT '',"
              " updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
              " ON UPDATE CURRENT_TIMESTAMP(6)) ENGINE=InnoDB",
          "CREATE TABLE IF NOT EXISTS " + table_name(database) +
              " (pipeline VARCHAR(128) NOT NULL, partition_id INT NOT NULL,"
              " file VARCHAR(255) NOT NULL, pos BIGINT UNSIGNED NOT NULL,"
              " idx BIGINT UNSIGNED NOT NULL, gtid VARCHAR(64) NOT NULL DEFAULT '',"
              " updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
              " ON UPDATE CURRENT_TIMESTAMP(6),"
              " PRIMARY KEY (pipeline, partition_id)) ENGINE=InnoDB",
          "CREATE TABLE IF NOT EXISTS " + round_table(database) +
              " (pipeline VARCHAR(128) NOT NULL, partition_id INT NOT NULL,"
              " epoch BIGINT UNSIGNED NOT NULL, round_id BIGINT UNSIGNED NOT NULL,"
              " file VARCHAR(255) NOT NULL, pos BIGINT UNSIGNED NOT NULL,"
              " done_groups LONGBLOB NOT NULL,"
              " updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
              " ON UPDATE CURRENT_TIMESTAMP(6),"
              " PRIMARY KEY (pipeline, partition_id)) ENGINE=InnoDB",
          "CREATE TABLE IF NOT EXISTS " + source_table(database) +
              " (pipeline VARCHAR(128) NOT NULL PRIMARY KEY,"
              " server_id BIGINT UNSIGNED NOT NULL, endpoint VARCHAR(255) NOT NULL,"
              " updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
              " ON UPDATE CURRENT_TIMESTAMP(6)) ENGINE=InnoDB"};
}

mysql_expected<mysql_ok> upgrade_checkpoint_schema(mysql_connection& conn,
                                                   const std::string& database) {
  // Tables created before the gtid column: MySQL has no ADD COLUMN IF NOT
  // EXISTS, so the data dictionary says which lack it.
  for (const char* table : {"sync_checkpoint", "sync_ddl"}) {
    auto n = conn.scalar("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE "
                         "TABLE_SCHEMA=" +
                         quote_text(database) + " AND TABLE_NAME='" + table +
                         "' AND COLUMN_NAME='gtid'");
    if (!n)
      return n.error();
    if (n->value_or("0") != "0")
      continue;
    auto r = conn.exec("ALTER TABLE " + sql_identifier(database) + ".`" + table +
                       "` ADD COLUMN gtid VARCHAR(64) NOT NULL DEFAULT ''");
    // Another process may have added it meanwhile (1060: duplicate column).
    if (!r && r.error().code != 1060)
      return r.error();
  }
  return mysql_ok{};
}

std::string checkpoint_store_sql(const std::string& database, const std::string& pipeline,
                                 uint32_t partition, const change_key& key) {
  return "INSERT INTO " + table_name(database) +
         " (pipeline, partition_id, file, pos, idx, gtid) VALUES (" +
         quote_text(pipeline) + "," + std::to_string(partition) + "," +
         quote_text(key.at.file) + "," + std::to_string(key.at.pos) + "," +
         std::to_string(key.index) + ",'" + key.gtid.to_string() +
         "') ON DUPLICATE KEY UPDATE file=VALUES(file), pos=VALUES(pos), idx=VALUES(idx),"
         " gtid=VALUES(gtid)";
}

std::optional<change_key> lowest_key(const std::vector<std::optional<change_key>>& keys) {
  if (keys.empty())
    return std::nullopt;
  std::optional<change_key> low;
  for (auto& k : keys) {
    if (!k)
      return std::nullopt;
    if (!low || *k < *low)
      low = k;
  }
  return low;
}

std::optional<binlog_position>
resume_position(const std::vector<std::optional<change_key>>& keys) {
  auto low = lowest_key(keys);
  if (!low)
    return std::nullopt;
  return low->at;
}

mysql_expected<std::vector<std::optional<change_key>>>
load_checkpoints(mysql_connection& conn, const std::string& database,
                 const std::string& pipeline, uint32_t partitions) {
  // A locking read: after a lost connection a commit may still be under way
  // on the server; this waits for it instead of reading what it replaces.
  auto rows = conn.query(
      "SELECT partition_id, file, pos, idx, gtid FROM " + table_name(database) +
      " WHERE pipeline=" + quote_text(pipeline) + " LOCK IN SHARE MODE");
  if (!rows)
    return rows.error();
  std::vector<std::pair<uint32_t, change_key>> stored;
  for (auto& row : rows->rows) {
    auto id = std::stol(row[0].value_or("0"));
    if (id < 0)
      continue; // the XA floor (load_xa_floor)
    change_key k;
    k.at.file = row[1].value_or("");
    k.at.pos = std::stoull(row[2].value_or("0"));
    k.index = std::stoull(row[3].value_or("0"));
    k.gtid = mariadb_gtid::parse(row[4].value_or("")).value_or(mariadb_gtid{});
    stored.emplace_back(static_cast<uint32_t>(id), k);
  }
  auto plan = plan_checkpoints(stored, partitions, pipeline, database);
  if (!plan.error.empty())
    return own_error(conn, "load checkpoint", plan.error);
  return plan.keys;
}

checkpoint_plan
plan_checkpoints(const std::vector<std::pair<uint32_t, change_key>>& stored,
                 uint32_t partitions, const std::string& pipeline,
                 const std::string& database) {
  checkpoint_plan plan;
  plan.keys.resize(partitions);
  if (stored.empty())
    return plan;
  uint32_t count = 0;
  for (auto& [p, _] : stored)
    count = std::max(count, p + 1);
  bool complete = count == partitions && stored.size() == partitions;
  if (complete) {
    for (auto& [p, k] : stored)
      plan.keys[p] = k;
    return plan;
  }
  bool same = std::all_of(stored.begin(), stored.end(), [&](const auto& e) {
    return e.second == stored.front().second;
  });
  if (same && stored.size() == count) {
    for (auto& k : plan.keys)
      k = stored.front().second;
    plan.migrated = true;
    return plan;
  }
  auto low = stored.front().second;
  auto high = low;
  for (auto& [_, k] : stored) {
    low = std::min(low, k, [](auto& a, auto& b) { return a < b; });
    high = std::max(high, k, [](auto& a, auto& b) { return a < b; });
  }
  plan.error = "pipeline \"" + pipeline + "\" has checkpoints for " +
               std::to_string(count) + " partitions (" + std::to_string(stored.size()) +
               " rows) but is configured with " + std::to_string(partitions) +
               "; a row's partition depends on the count, and the stored partitions "
               "stand at different positions (" +
               low.to_string() + " .. " + high.to_string() +
               "), so changes would be skipped or applied twice. Run it again with "
               "partitions=" +
               std::to_string(count) +
               " until the source is idle for a moment (the partitions then agree on "
               "one position and the count can change), or resync: delete its rows "
               "from " +
               database + ".sync_checkpoint and start it with start=snapshot";
  return plan;
}

std::string checkpoint_clear_sql(const std::string& database,
                                 const std::string& pipeline) {
  return "DELETE FROM " + table_name(database) +
         " WHERE pipeline=" + quote_text(pipeline) + " AND partition_id>=0";
}

mysql_expected<uint64_t> claim_pipeline(mysql_connection& conn,
                                        const std::string& database,
                                        const std::string& pipeline,
                                        const std::string& owner, bool leased) {
  return conn.transaction([&](mysql_connection& c) -> mysql_expected<uint64_t> {
    if (leased) {
      // FOR UPDATE: another node's acquire of this row waits for this claim, so
      // the epochs follow the lease's holders in order.
      auto holder = c.scalar("SELECT holder FROM " + lease_table(database) +
                             " WHERE pipeline=" + quote_text(pipeline) + " FOR UPDATE");
      if (!holder)
        return holder.error();
      if (!*holder || **holder != owner)
        return own_error(c, "claim pipeline",
                         "this process (" + owner + ") no longer holds the lease of " +
                             pipeline + "; " +
                             (*holder ? "its holder is " + **holder : "nobody holds it"));
    }
    auto up = c.exec("INSERT INTO " + owner_table(database) +
                     " (pipeline, epoch, owner) VALUES (" + quote_text(pipeline) + ",1," +
                     quote_text(owner) +
                     ") ON DUPLICATE KEY UPDATE epoch=epoch+1, owner=VALUES(owner)");
    if (!up)
      return up.error();
    auto epoch = c.scalar("SELECT epoch FROM " + owner_table(database) +
                          " WHERE pipeline=" + quote_text(pipeline));
    if (!epoch)
      return epoch.error();
    if (!*epoch)
      return own_error(c, "claim pipeline", "the owner row of " + pipeline + " vanished");
    return static_cast<uint64_t>(std::stoull(**epoch));
  });
}

mysql_expected<lease_view> read_lease(mysql_connection& conn, const std::string& database,
                                      const std::string& pipeline) {
  // One row whether or not the lease has one: a pause or an epoch can come first.
  auto r =
      conn.query("SELECT l.holder, l.node, l.expires_at > UTC_TIMESTAMP(6),"
                 " TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), l.expires_at) DIV 1000,"
                 " (SELECT epoch FROM " +
                 owner_table(database) + " WHERE pipeline=" + quote_text(pipeline) +
                 "), (SELECT node FROM " + pause_table(database) + " WHERE pipeline=" +
                 quote_text(pipeline) + ") FROM (SELECT 1) one LEFT JOIN " +
                 lease_table(database) + " l ON l.pipeline=" + quote_text(pipeline));
  if (!r)
    return r.error();
  lease_view v;
  if (r->rows.empty())
    return own_error(conn, "read lease", "no row for " + pipeline);
  auto& row = r->rows.front();
  v.exists = row.at(0).has_value();
  v.holder = row.at(0).value_or("");
  v.node = row.at(1).value_or("");
  v.live = row.at(2).value_or("0") == "1";
  v.remaining_ms = std::stoll(row.at(3).value_or("0"));
  v.epoch = row.at(4) ? std::stoull(*row.at(4)) : 0;
  v.paused_by = row.at(5).value_or("");
  return v;
}

mysql_expected<bool> acquire_lease(mysql_connection& conn, const std::string& database,
                                   const std::string& pipeline, const std::string& holder,
                                   const std::string& node,
                                   std::chrono::milliseconds lease) {
  // One statement each, so two standbys racing for a free lease cannot both get
  // it: the row's lock orders them, and the second finds it live.
  auto created = conn.exec("INSERT IGNORE INTO " + lease_table(database) +
                           " (pipeline, holder, node, expires_at) VALUES (" +
                           quote_text(pipeline) + "," + quote_text(holder) + "," +
                           quote_text(node) + "," + from_now(lease) + ")");
  if (!created)
    return created.error();
  if (*created == 1)
    return true;
  auto taken = conn.exec(
      "UPDATE " + lease_table(database) + " SET holder=" + quote_text(holder) +
      ", node=" + quote_text(node) + ", expires_at=" + from_now(lease) +
      " WHERE pipeline=" + quote_text(pipeline) +
      " AND (expires_at <= UTC_TIMESTAMP(6) OR holder=" + quote_text(holder) + ")");
  if (!taken)
    return taken.error();
  return *taken == 1;
}

mysql_expected<bool> renew_lease(mysql_connection& conn, const std::string& database,
                                 const std::string& pipeline, const std::string& holder,
                                 std::chrono::milliseconds lease) {
  auto r = conn.exec(
      "UPDATE " + lease_table(database) + " SET expires_at=" + from_now(lease) +
      " WHERE pipeline=" + quote_text(pipeline) + " AND holder=" + quote_text(holder));
  if (!r)
    return r.error();
  return *r == 1;
}

mysql_expected<uint64_t> release_lease(mysql_connection& conn,
                                       const std::string& database,
                                       const std::string& pipeline,
                                       const std::string& holder) {
  return conn.exec(
      "UPDATE " + lease_table(database) +
      " SET expires_at=UTC_TIMESTAMP(6) - INTERVAL 1 MICROSECOND WHERE pipeline=" +
      quote_text(pipeline) + " AND holder=" + quote_text(holder));
}

mysql_expected<bool> set_paused(mysql_connection& conn, const std::string& database,
                                const std::string& pipeline, bool paused,
                                const std::string& node) {
  auto r = conn.exec(paused ? "INSERT IGNORE INTO " + pause_table(database) +
                                  " (pipeline, node, paused_at) VALUES (" +
                                  quote_text(pipeline) + "," + quote_text(node) +
                                  ", UTC_TIMESTAMP(6))"
                            : "DELETE FROM " + pause_table(database) +
                                  " WHERE pipeline=" + quote_text(pipeline));
  if (!r)
    return r.error();
  return *r == 1;
}

std::string owner_check_sql(const std::string& database, const std::string& pipeline) {
  return "SELECT epoch, owner FROM " + owner_table(database) +
         " WHERE pipeline=" + quote_text(pipeline) + " LOCK IN SHARE MODE";
}

std::string owner_fence_sql(const std::string& database, const std::string& pipeline,
                            uint64_t epoch) {
  // A missing row leaves e at 0 (a warning, not an error): fenced too.
  return "BEGIN NOT ATOMIC DECLARE e BIGINT UNSIGNED DEFAULT 0; SELECT epoch INTO e "
         "FROM " +
         owner_table(database) + " WHERE pipeline=" + quote_text(pipeline) +
         " LOCK IN SHARE MODE; IF e <> " + std::to_string(epoch) +
         " THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT='" + owner_fence_message +
         "'; END IF; END";
}

std::string writer_lock_name(const std::string& database, const std::string& pipeline) {
  constexpr size_t max_name = 64; // MySQL refuses longer names
  std::string prefix = "shoal-writer:";
  std::string name = prefix + database + "." + pipeline;
  if (name.size() <= max_name)
    return name;
  // FNV-1a over both, 0-separated: another (database, pipeline) gets another name.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::string_view text) {
    for (unsigned char c : text) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  mix(database);
  mix(std::string_view{"\0", 1});
  mix(pipeline);
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (int shift = 60; shift >= 0; shift -= 4)
    hex += digits[(h >> shift) & 15];
  auto cut = max_name - prefix.size() - hex.size() - 1;
  while (cut > 0 && (static_cast<unsigned char>(pipeline[cut]) & 0xc0) == 0x80)
    --cut; // not inside a UTF-8 character
  return prefix + pipeline.substr(0, cut) + "~" + hex;
}

mysql_expected<mysql_ok> take_writer_lock(mysql_connection& conn, const std::string& name,
                                          std::chrono::seconds wait) {
  auto got = conn.scalar("SELECT GET_LOCK(" + quote_text(name) + "," +
                         std::to_string(wait.count()) + ")");
  if (!got)
    return got.error();
  if (got->value_or("0") == "1")
    return mysql_ok{};
  auto holder = conn.scalar("SELECT IS_USED_LOCK(" + quote_text(name) + ")");
  return own_error(conn, "writer lock",
                   "the lock " + name + " stayed held for " +
                       std::to_string(wait.count()) + " s by session " +
                       (holder && *holder ? **holder : std::string{"?"}) +
                       "; DDL and snapshots of this pipeline wait for it");
}

mysql_expected<mysql_ok> release_writer_lock(mysql_connection& conn,
                                             const std::string& name) {
  auto r = conn.exec("DO RELEASE_LOCK(" + quote_text(name) + ")");
  if (!r)
    return r.error();
  return mysql_ok{};
}

mysql_expected<uint64_t> evict_older_writers(mysql_connection& conn,
                                             const std::string& database,
                                             const std::string& pipeline, uint64_t epoch,
                                             std::chrono::seconds wait) {
  auto name = writer_lock_name(database, pipeline);
  // Under a shared lock on the owner row, checked to be ours: a newer claim
  // waits until this ends, so a process that lost the pipeline while it was
  // about to evict can never end the session of the owner after it.
  return conn.transaction([&](mysql_connection& c) -> mysql_expected<uint64_t> {
    auto owner = c.query(owner_check_sql(database, pipeline));
    if (!owner)
      return owner.error();
    uint64_t current = 0;
    if (!owner->rows.empty() && !owner->rows[0].empty())
      current = std::stoull(owner->rows[0][0].value_or("0"));
    if (current != epoch)
      return own_error(c, "writer lock",
                       std::string{owner_fence_message} + " (epoch " +
                           std::to_string(current) + ", this process " +
                           std::to_string(epoch) + ")");
    std::set<std::string> killed;
    // A killed session may take a moment to end (a DDL rolls back first):
    // look again until the lock is free to take.
    for (int round = 0; round < 3; ++round) {
      auto holder = c.scalar("SELECT IS_USED_LOCK(" + quote_text(name) + ")");
      if (!holder)
        return holder.error();
      if (*holder && std::stoull(**holder) != c.connection_id() &&
          !killed.count(**holder)) {
        auto k = c.exec("KILL CONNECTION " + **holder);
        // 1094: the session ended on its own meanwhile.
        if (!k && k.error().code != 1094) {
          auto err = k.error();
          err.message = "ending session " + **holder +
                        " of an older owner, which holds " + name + ": " + err.message +
                        " (the pipeline's user needs the right to kill it: the same "
                        "user on every node, or CONNECTION ADMIN)";
          return err;
        }
        if (k)
          killed.insert(**holder);
      }
      auto got = c.scalar("SELECT GET_LOCK(" + quote_text(name) + "," +
                          std::to_string(wait.count()) + ")");
      if (!got)
        return got.error();
      if (got->value_or("0") == "1") {
        if (auto r = release_writer_lock(c, name); !r)
          return r.error();
        return static_cast<uint64_t>(killed.size());
      }
    }
    return own_error(c, "writer lock",
                     "the lock " + name + " stayed held after its holder was killed");
  });
}

std::string ddl_intent_store_sql(const std::string& database, const std::string& pipeline,
                                 const ddl_intent& intent) {
  return "INSERT INTO " + ddl_table(database) +
         " (pipeline, file, pos, statement, before_state, gtid) VALUES (" +
         quote_text(pipeline) + "," + quote_text(intent.at.file) + "," +
         std::to_string(intent.at.pos) + "," + hex_literal(intent.statement) + "," +
         hex_literal(intent.before_state) + ",'" + intent.gtid.to_string() +
         "') ON DUPLICATE KEY UPDATE file=VALUES(file), pos=VALUES(pos),"
         " statement=VALUES(statement), before_state=VALUES(before_state),"
         " gtid=VALUES(gtid)";
}

std::string ddl_intent_clear_sql(const std::string& database,
                                 const std::string& pipeline) {
  return "DELETE FROM " + ddl_table(database) + " WHERE pipeline=" + quote_text(pipeline);
}

mysql_expected<std::optional<ddl_intent>> load_ddl_intent(mysql_connection& conn,
                                                          const std::string& database,
                                                          const std::string& pipeline) {
  auto rows = conn.query("SELECT file, pos, statement, before_state, gtid FROM " +
                         ddl_table(database) + " WHERE pipeline=" + quote_text(pipeline));
  if (!rows)
    return rows.error();
  if (rows->rows.empty())
    return std::optional<ddl_intent>{};
  auto& r = rows->rows[0];
  ddl_intent intent;
  intent.at = {r[0].value_or(""), std::stoull(r[1].value_or("0"))};
  intent.statement = r[2].value_or("");
  intent.before_state = r[3].value_or("");
  intent.gtid = mariadb_gtid::parse(r[4].value_or("")).value_or(mariadb_gtid{});
  return std::optional<ddl_intent>{std::move(intent)};
}

std::string xa_floor_store_sql(const std::string& database, const std::string& pipeline,
                               const binlog_position& at) {
  return "INSERT INTO " + table_name(database) +
         " (pipeline, partition_id, file, pos, idx) VALUES (" + quote_text(pipeline) +
         "," + std::to_string(xa_floor_partition) + "," + quote_text(at.file) + "," +
         std::to_string(at.pos) +
         ",0) ON DUPLICATE KEY UPDATE file=VALUES(file), pos=VALUES(pos), idx=0";
}

std::string xa_floor_clear_sql(const std::string& database, const std::string& pipeline) {
  return "DELETE FROM " + table_name(database) +
         " WHERE pipeline=" + quote_text(pipeline) +
         " AND partition_id=" + std::to_string(xa_floor_partition);
}

mysql_expected<std::optional<binlog_position>>
load_xa_floor(mysql_connection& conn, const std::string& database,
              const std::string& pipeline) {
  auto rows = conn.query("SELECT file, pos FROM " + table_name(database) +
                         " WHERE pipeline=" + quote_text(pipeline) +
                         " AND partition_id=" + std::to_string(xa_floor_partition));
  if (!rows)
    return rows.error();
  if (rows->rows.empty())
    return std::optional<binlog_position>{};
  return std::optional<binlog_position>{binlog_position{
      rows->rows[0][0].value_or(""), std::stoull(rows->rows[0][1].value_or("4"))}};
}

std::string
round_store_sql(const std::string& database, const std::string& pipeline, uint64_t epoch,
                uint64_t round, const binlog_position& end,
                const std::vector<std::pair<uint32_t, std::string>>& records) {
  std::string sql = "INSERT INTO " + round_table(database) +
                    " (pipeline, partition_id, epoch, round_id, file, pos, done_groups)"
                    " VALUES ";
  bool first = true;
  for (auto& [partition, groups] : records) {
    sql += first ? "(" : ",(";
    first = false;
    sql += quote_text(pipeline) + "," + std::to_string(partition) + "," +
           std::to_string(epoch) + "," + std::to_string(round) + "," +
           quote_text(end.file) + "," + std::to_string(end.pos) + "," +
           hex_literal(groups) + ")";
  }
  return sql + " ON DUPLICATE KEY UPDATE epoch=VALUES(epoch), round_id=VALUES(round_id),"
               " file=VALUES(file), pos=VALUES(pos), done_groups=VALUES(done_groups)";
}

mysql_expected<std::vector<round_record>> load_rounds(mysql_connection& conn,
                                                      const std::string& database,
                                                      const std::string& pipeline) {
  auto rows =
      conn.query("SELECT partition_id, epoch, round_id, file, pos, done_groups FROM " +
                 round_table(database) + " WHERE pipeline=" + quote_text(pipeline) +
                 " LOCK IN SHARE MODE"); // as in load_checkpoints
  if (!rows)
    return rows.error();
  std::vector<round_record> out;
  for (auto& r : rows->rows) {
    round_record rec;
    rec.partition = static_cast<uint32_t>(std::stoul(r[0].value_or("0")));
    rec.epoch = std::stoull(r[1].value_or("0"));
    rec.round = std::stoull(r[2].value_or("0"));
    rec.end = {r[3].value_or(""), std::stoull(r[4].value_or("0"))};
    rec.groups = r[5].value_or("");
    out.push_back(std::move(rec));
  }
  return out;
}

std::string source_store_sql(const std::string& database, const std::string& pipeline,
                             const source_identity& source) {
  return "INSERT INTO " + source_table(database) +
         " (pipeline, server_id, endpoint) VALUES (" + quote_text(pipeline) + "," +
         std::to_string(source.server_id) + "," + quote_text(source.endpoint) +
         ") ON DUPLICATE KEY UPDATE server_id=VALUES(server_id),"
         " endpoint=VALUES(endpoint)";
}

mysql_expected<std::optional<source_identity>> load_source(mysql_connection& conn,
                                                           const std::string& database,
                                                           const std::string& pipeline) {
  auto rows = conn.query("SELECT server_id, endpoint FROM " + source_table(database) +
                         " WHERE pipeline=" + quote_text(pipeline));
  if (!rows)
    return rows.error();
  if (rows->rows.empty())
    return std::optional<source_identity>{};
  source_identity id;
  id.server_id = std::stoull(rows->rows[0][0].value_or("0"));
  id.endpoint = rows->rows[0][1].value_or("");
  return std::optional<source_identity>{std::move(id)};
}

} // namespace shoal::binlog

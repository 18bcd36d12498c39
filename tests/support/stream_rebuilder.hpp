// stream_rebuilder: a consumer of shoal's change streams, written for the
// tests: it reads a table's Redis stream in order (or is handed Kafka messages
// by take()), drops entries whose id it has seen (counting them), and applies
// c/u/d/ddl events to a copy of the table in another database, so that the
// copy can be compared with the source.
//
//   stream_rebuilder r{target_conn, "rebuilt"};
//   r.consume(redis, "shoal:p:sdb.t1", "t1", {"data"});   // binary columns: base64
//   EXPECT_EQ(r.duplicates(), 0u);
//
// Values: JSON numbers as they are, strings quoted, binary columns decoded with
// FROM_BASE64. An update whose before image has another key deletes the old row.
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/adapters/mysql_connection.hpp"
#include "runtime/adapters/redis_connection.hpp"

namespace shoal::test {

// Rebuilds tables from their streams as a consumer would: entries in stream
// order, each id once, c/u/d/ddl events applied to database `into`.
class stream_rebuilder {
public:
  stream_rebuilder(mysql_connection& conn, std::string into)
      : conn_(conn), into_(std::move(into)) {}

  // Reads what `stream` holds past what was read before and applies it.
  void consume(redis_connection& redis, const std::string& stream,
               const std::string& table, const std::set<std::string>& binary) {
    auto& last = last_id_[stream];
    auto r = redis.command({"XRANGE", stream, last.empty() ? "-" : "(" + last, "+"});
    if (!r || r->is_error())
      throw std::runtime_error("XRANGE " + stream + ": " +
                               (r ? r->str : r.error().to_string()));
    for (auto& e : r->elements) {
      last = e.elements.at(0).str;
      auto& fields = e.elements.at(1).elements;
      take(stream, fields.at(1).str, fields.at(3).str, table, binary);
    }
  }

  /// Applies one event of `table` read from `stream` (a stream or a topic),
  /// unless an event of that id was taken from it before.
  void take(const std::string& stream, const std::string& id, const std::string& event,
            const std::string& table, const std::set<std::string>& binary) {
    if (!ids_.insert(stream + " " + id).second) {
      ++duplicates_;
      return;
    }
    apply(table, nlohmann::json::parse(event), binary);
  }

  size_t duplicates() const { return duplicates_; }
  /// Updates that changed the row's key, and DDL events, applied.
  size_t moves() const { return moves_; }
  size_t ddls() const { return ddls_; }
  size_t events() const { return ids_.size(); }

private:
  std::string literal(const nlohmann::json& v, bool binary) {
    if (v.is_null())
      return "NULL";
    if (v.is_number())
      return v.dump();
    auto text = conn_.quote(v.get<std::string>());
    return binary ? "FROM_BASE64(" + text + ")" : text;
  }

  std::string where_key(const nlohmann::json& key, const std::set<std::string>& binary) {
    std::string out;
    for (auto& [col, v] : key.items())
      out += (out.empty() ? "" : " AND ") + ("`" + col + "` <=> ") +
             literal(v, binary.count(col) > 0);
    return out;
  }

  void apply(const std::string& table, const nlohmann::json& ev,
             const std::set<std::string>& binary) {
    auto name = "`" + into_ + "`.`" + table + "`";
    auto op = ev.at("op").get<std::string>();
    if (op == "ddl") {
      ++ddls_;
      exec("USE `" + into_ + "`");
      exec(ev.at("ddl").get<std::string>());
      return;
    }
    if (op == "d" || op == "u") {
      // The key of the before image: an update may move the row.
      nlohmann::json old_key = nlohmann::json::object();
      for (auto& [col, v] : ev.at("key").items())
        old_key[col] = ev.at("before").at(col);
      if (op == "u" && old_key != ev.at("key"))
        ++moves_;
      exec("DELETE FROM " + name + " WHERE " + where_key(old_key, binary));
    }
    if (op == "c" || op == "u") {
      std::string cols, values;
      for (auto& [col, v] : ev.at("after").items()) {
        cols += (cols.empty() ? "`" : ", `") + col + "`";
        values += (values.empty() ? "" : ", ") + literal(v, binary.count(col) > 0);
      }
      exec("REPLACE INTO " + name + " (" + cols + ") VALUES (" + values + ")");
    }
  }

  void exec(const std::string& sql) {
    auto r = conn_.query(sql);
    if (!r)
      throw std::runtime_error(sql.substr(0, 200) + ": " + r.error().to_string());
  }

  mysql_connection& conn_;
  std::string into_;
  std::map<std::string, std::string> last_id_;
  std::set<std::string> ids_;
  size_t duplicates_ = 0;
  size_t moves_ = 0;
  size_t ddls_ = 0;
};

} // namespace shoal::test

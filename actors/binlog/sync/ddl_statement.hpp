// ddl_statement: which tables a DDL statement touches, so the pipeline can
// decide whether its filter selects them and where to apply it.
//
//   auto d = parse_ddl("ALTER TABLE `shop`.orders ADD c INT", "default_db");
//   // d.kind == ddl_scope::tables, d.tables == {{"shop", "orders"}}
//
// Understands CREATE/ALTER/DROP/RENAME/TRUNCATE TABLE, CREATE/DROP INDEX ... ON,
// CREATE/ALTER/DROP DATABASE|SCHEMA; everything else (views, routines,
// triggers, users) is `other` and belongs to the statement's default schema;
// for those `object` says what kind of object the statement is about, so the
// pipeline can leave out what must not run twice (triggers, events) and what
// is not data (accounts).
// Pure logic.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shoal::binlog {

enum class ddl_scope : uint8_t { tables, database, other };

struct ddl_statement {
  ddl_scope scope = ddl_scope::other;
  /// `tables`: every {db, table} named (RENAME: sources and destinations);
  /// `database`: one entry {db, ""}; `other`: {default schema, ""}.
  std::vector<std::pair<std::string, std::string>> tables;
  /// CREATE/DROP DATABASE, CREATE/DROP TABLE, TRUNCATE...: the leading words,
  /// upper-case ("DROP DATABASE").
  std::string verb;
  /// TEMPORARY tables (never replicated in row format; skipped).
  bool temporary = false;
  /// `tables`: qualified[i] is true when tables[i] was written `db`.`name`.
  std::vector<bool> qualified;
  /// What the statement creates, changes or drops, upper-case: "TABLE",
  /// "DATABASE", "INDEX", "VIEW", "TRIGGER", "EVENT", "PROCEDURE", "FUNCTION",
  /// "PACKAGE", "USER", "ROLE", "SERVER", "SEQUENCE", ...; empty when unknown.
  std::string object;
  /// `other`: the object's {db, name} when the statement names one.
  std::pair<std::string, std::string> object_name;
  /// `database`: offset just past the database's name in the statement (its
  /// options, such as the default character set, follow).
  size_t name_end = 0;
};

/// Triggers, events, stored procedures, functions and packages: code that runs
/// on the server by itself or on writes.
bool is_routine_object(const std::string& object);

/// Users, roles and servers: accounts and connections, not data.
bool is_account_object(const std::string& object);

ddl_statement parse_ddl(std::string_view statement, const std::string& default_schema);

} // namespace shoal::binlog

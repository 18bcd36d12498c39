#include "actors/binlog/sync/ddl_plan.hpp"

#include <algorithm>

#include "actors/binlog/sync/sql_builder.hpp"

namespace shoal::binlog {

namespace {

ddl_plan stop(ddl_plan plan, std::string why) {
  plan.what = ddl_plan::action::stop;
  plan.reason = std::move(why);
  return plan;
}

} // namespace

ddl_plan plan_ddl(const std::string& statement, const std::string& default_schema,
                  const table_filter& filter, bool copy_routines) {
  ddl_plan plan;
  plan.parsed = parse_ddl(statement, default_schema);
  auto& d = plan.parsed;
  if (d.temporary)
    return plan;
  if (is_account_object(d.object)) {
    plan.what = ddl_plan::action::skip;
    plan.reason = "accounts are not data; shoal never copies them";
    return plan;
  }
  if (is_routine_object(d.object) && !copy_routines) {
    plan.what = ddl_plan::action::skip;
    plan.reason = d.object +
                  " statements are skipped unless copy_routines is on: a trigger would "
                  "fire again on rows shoal writes, an event would run twice";
    return plan;
  }
  plan.sql = statement;
  if (d.scope == ddl_scope::database) {
    auto& db = d.tables[0].first;
    if (filter.is_internal(db) || !filter.database_selected(db))
      return plan;
    auto target_db = filter.target_database_of(db);
    // The options (default character set and collation, comment) are kept:
    // tables created later without their own take them.
    if (d.verb == "CREATE DATABASE")
      plan.sql = "CREATE DATABASE IF NOT EXISTS " + sql_identifier(target_db) +
                 statement.substr(std::min(d.name_end, statement.size()));
    else if (d.verb == "DROP DATABASE")
      plan.sql = "DROP DATABASE IF EXISTS " + sql_identifier(target_db);
    else if (d.verb == "ALTER DATABASE")
      plan.sql = "ALTER DATABASE " + sql_identifier(target_db) +
                 statement.substr(std::min(d.name_end, statement.size()));
    else if (target_db != db)
      return stop(std::move(plan),
                  "DDL on renamed database " + db + " cannot be applied: " + statement);
    plan.touched.emplace_back(target_db, "");
  } else if (d.scope == ddl_scope::tables) {
    size_t selected = 0;
    for (auto& [db, table] : d.tables)
      selected += filter.selected(db, table) ? 1 : 0;
    if (selected == 0)
      return plan;
    if (selected != d.tables.size())
      return stop(std::move(plan), "DDL names tables inside and outside the pipeline's "
                                   "filter; shoal cannot apply it: " +
                                       statement);
    for (size_t i = 0; i < d.tables.size(); ++i) {
      auto& [db, table] = d.tables[i];
      auto target = filter.target_of(db, table);
      bool qualified = i < d.qualified.size() && d.qualified[i];
      // Run in the target database of the default schema, a statement still
      // names the source's table when its name is qualified or belongs to
      // another database.
      if (target.second != table ||
          (target.first != db && (db != default_schema || qualified)))
        return stop(std::move(plan),
                    "DDL on renamed table " + db + "." + table +
                        " cannot be applied by shoal (the statement names the source's "
                        "table; apply it to the target by hand): " +
                        statement);
      plan.touched.push_back(target);
    }
    plan.use_db = filter.target_database_of(default_schema.empty() ? d.tables[0].first
                                                                   : default_schema);
  } else {
    if (default_schema.empty() || filter.is_internal(default_schema) ||
        !filter.database_selected(default_schema))
      return plan;
    plan.use_db = filter.target_database_of(default_schema);
    if (!d.object_name.second.empty()) {
      auto db = d.object_name.first;
      if (db != default_schema && filter.target_database_of(db) != db)
        return stop(std::move(plan), "DDL on an object of renamed database " + db +
                                         " cannot be applied by shoal (apply it to the "
                                         "target by hand): " +
                                         statement);
      plan.touched.emplace_back(filter.target_database_of(db), d.object_name.second);
    }
  }
  plan.what = ddl_plan::action::apply;
  return plan;
}

} // namespace shoal::binlog

#include "runtime/adapters/mysql_connection.hpp"

#include <errmsg.h>
#include <mutex>
#include <mysql.h>
#include <mysqld_error.h>

namespace shoal {

namespace {

// mysql_library_init is not thread-safe; mysql_init calls it on first use.
void init_library_once() {
  static std::once_flag flag;
  std::call_once(flag, [] { mysql_library_init(0, nullptr, nullptr); });
}

unsigned whole_seconds(std::chrono::seconds s) {
  return s.count() <= 0 ? 1u : static_cast<unsigned>(s.count());
}

} // namespace

std::string mysql_config::endpoint() const {
  if (!unix_socket.empty())
    return unix_socket;
  return host + ":" + std::to_string(port);
}

std::string mysql_error::to_string() const {
  std::string result = "mysql " + endpoint + ": " + operation + " failed: ";
  if (code != 0) {
    result += "error " + std::to_string(code);
    if (!sqlstate.empty())
      result += " (" + sqlstate + ")";
    result += ": ";
  }
  return result + message;
}

bool is_connection_lost(const mysql_error& error) {
  switch (error.code) {
  case CR_CONNECTION_ERROR:     // 2002
  case CR_CONN_HOST_ERROR:      // 2003
  case CR_UNKNOWN_HOST:         // 2005
  case CR_SERVER_GONE_ERROR:    // 2006
  case CR_SERVER_LOST:          // 2013
  case CR_SERVER_LOST_EXTENDED: // 2055
  case CR_COMMANDS_OUT_OF_SYNC: // 2014: the protocol state is unknown
  case ER_SERVER_SHUTDOWN:      // 1053
  case ER_CONNECTION_KILLED:    // 1927
  case 4031:                    // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
    return true;
  default:
    return false;
  }
}

bool is_transaction_conflict(const mysql_error& error) {
  return error.code == ER_LOCK_DEADLOCK || error.code == ER_LOCK_WAIT_TIMEOUT;
}

mysql_expected<MYSQL*> mysql_connection::open(const mysql_config& config) {
  init_library_once();
  MYSQL* handle = mysql_init(nullptr);
  if (handle == nullptr)
    return mysql_error{CR_OUT_OF_MEMORY, "HY000", "mysql_init: out of memory",
                       config.endpoint(), "connect"};
  unsigned connect_timeout = whole_seconds(config.connect_timeout);
  unsigned read_timeout = whole_seconds(config.read_timeout);
  unsigned write_timeout = whole_seconds(config.write_timeout);
  my_bool no = 0;
  mysql_optionsv(handle, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  mysql_optionsv(handle, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
  mysql_optionsv(handle, MYSQL_OPT_WRITE_TIMEOUT, &write_timeout);
  mysql_optionsv(handle, MYSQL_OPT_RECONNECT, &no);
  mysql_optionsv(handle, MYSQL_SET_CHARSET_NAME, config.charset.c_str());
  unsigned protocol =
      config.unix_socket.empty() ? MYSQL_PROTOCOL_TCP : MYSQL_PROTOCOL_SOCKET;
  mysql_optionsv(handle, MYSQL_OPT_PROTOCOL, &protocol);
  // Never read option files: the config is the whole truth.
  const char* database = config.database.empty() ? nullptr : config.database.c_str();
  const char* socket = config.unix_socket.empty() ? nullptr : config.unix_socket.c_str();
  if (mysql_real_connect(handle, config.host.c_str(), config.user.c_str(),
                         config.password.c_str(), database, config.port, socket,
                         CLIENT_MULTI_RESULTS) == nullptr) {
    mysql_error error{mysql_errno(handle), mysql_sqlstate(handle), ::mysql_error(handle),
                      config.endpoint(), "connect"};
    mysql_close(handle);
    return error;
  }
  return handle;
}

mysql_expected<mysql_connection> mysql_connection::connect(mysql_config config) {
  auto handle = open(config);
  if (!handle)
    return handle.error();
  return mysql_connection{std::move(config), *handle};
}

mysql_connection::mysql_connection(mysql_config config, MYSQL* handle)
    : config_(std::move(config)), handle_(handle) {}

mysql_connection::mysql_connection(mysql_connection&& other) noexcept
    : config_(std::move(other.config_)), handle_(std::exchange(other.handle_, nullptr)),
      multi_statements_(other.multi_statements_) {}

mysql_connection& mysql_connection::operator=(mysql_connection&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr)
      mysql_close(handle_);
    config_ = std::move(other.config_);
    handle_ = std::exchange(other.handle_, nullptr);
    multi_statements_ = other.multi_statements_;
  }
  return *this;
}

mysql_connection::~mysql_connection() {
  if (handle_ != nullptr)
    mysql_close(handle_);
}

mysql_error mysql_connection::last_error(std::string operation) const {
  return {mysql_errno(handle_), mysql_sqlstate(handle_), ::mysql_error(handle_),
          endpoint(), std::move(operation)};
}

mysql_error mysql_connection::closed_error(std::string operation) const {
  return {CR_SERVER_GONE_ERROR, "HY000", "connection is closed (reconnect failed)",
          endpoint(), std::move(operation)};
}

mysql_expected<mysql_result> mysql_connection::query(std::string_view sql) {
  if (handle_ == nullptr)
    return closed_error("query");
  if (mysql_real_query(handle_, sql.data(), static_cast<unsigned long>(sql.size())) != 0)
    return last_error("query");
  auto result = read_result("query");
  if (!result)
    return result;
  // Drain further results (CALL returns a status result after its rows).
  for (;;) {
    int more = mysql_next_result(handle_);
    if (more == -1)
      break;
    if (more > 0)
      return last_error("query");
    if (MYSQL_RES* extra = mysql_store_result(handle_))
      mysql_free_result(extra);
  }
  return result;
}

mysql_expected<mysql_result> mysql_connection::read_result(const char* operation) {
  mysql_result result;
  MYSQL_RES* res = mysql_store_result(handle_);
  if (res == nullptr) {
    if (mysql_field_count(handle_) != 0)
      return last_error(operation);
    result.affected_rows = mysql_affected_rows(handle_);
    result.insert_id = mysql_insert_id(handle_);
  } else {
    unsigned n = mysql_num_fields(res);
    MYSQL_FIELD* fields = mysql_fetch_fields(res);
    result.columns.reserve(n);
    for (unsigned i = 0; i < n; ++i)
      result.columns.emplace_back(fields[i].name, fields[i].name_length);
    result.rows.reserve(mysql_num_rows(res));
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
      unsigned long* lengths = mysql_fetch_lengths(res);
      mysql_row& out = result.rows.emplace_back();
      out.reserve(n);
      for (unsigned i = 0; i < n; ++i) {
        if (row[i] == nullptr)
          out.emplace_back(std::nullopt);
        else
          out.emplace_back(std::string{row[i], lengths[i]});
      }
    }
    mysql_free_result(res);
  }
  result.warnings = mysql_warning_count(handle_);
  return result;
}

mysql_expected<std::vector<mysql_result>>
mysql_connection::query_batch(const std::vector<std::string_view>& statements,
                              size_t* failed) {
  if (handle_ == nullptr)
    return closed_error("query batch");
  if (statements.empty())
    return std::vector<mysql_result>{};
  if (!multi_statements_) {
    if (mysql_set_server_option(handle_, MYSQL_OPTION_MULTI_STATEMENTS_ON) != 0)
      return last_error("query batch (turning on multi-statements)");
    multi_statements_ = true;
  }
  size_t size = 0;
  for (auto s : statements)
    size += s.size() + 3;
  std::string text;
  text.reserve(size);
  for (size_t i = 0; i < statements.size(); ++i) {
    if (i > 0)
      text += "\n;\n"; // a line break ends a trailing "--" comment first
    text += statements[i];
  }
  std::vector<mysql_result> results;
  results.reserve(statements.size());
  auto fail_at = [&](size_t i) {
    if (failed != nullptr)
      *failed = i;
    return last_error("query batch, statement " + std::to_string(i + 1) + " of " +
                      std::to_string(statements.size()));
  };
  if (mysql_real_query(handle_, text.data(), static_cast<unsigned long>(text.size())) !=
      0)
    return fail_at(0);
  for (;;) {
    auto r = read_result("query batch");
    if (!r) {
      if (failed != nullptr)
        *failed = results.size();
      return r.error();
    }
    results.push_back(std::move(*r));
    int more = mysql_next_result(handle_);
    if (more == -1)
      break;
    if (more > 0)
      return fail_at(results.size());
  }
  if (results.size() != statements.size()) {
    if (failed != nullptr)
      *failed = results.size();
    return mysql_error{CR_UNKNOWN_ERROR, "HY000",
                       "query batch: " + std::to_string(statements.size()) +
                           " statements sent, " + std::to_string(results.size()) +
                           " results came back (a statement held a \";\" of its own?)",
                       endpoint(), "query batch"};
  }
  return results;
}

mysql_expected<uint64_t> mysql_connection::exec(std::string_view sql) {
  auto result = query(sql);
  if (!result)
    return result.error();
  return result->affected_rows;
}

mysql_expected<std::optional<std::string>>
mysql_connection::scalar(std::string_view sql) {
  auto result = query(sql);
  if (!result)
    return result.error();
  if (result->rows.empty() || result->rows.front().empty())
    return std::optional<std::string>{};
  return std::move(result->rows.front().front());
}

mysql_expected<mysql_ok> mysql_connection::begin() {
  auto r = query("START TRANSACTION");
  if (!r)
    return mysql_error{r.error().code, r.error().sqlstate, r.error().message,
                       r.error().endpoint, "begin"};
  return mysql_ok{};
}

mysql_expected<mysql_ok> mysql_connection::commit() {
  if (handle_ == nullptr)
    return closed_error("commit");
  if (mysql_commit(handle_) != 0)
    return last_error("commit");
  return mysql_ok{};
}

mysql_expected<mysql_ok> mysql_connection::rollback() {
  if (handle_ == nullptr)
    return closed_error("rollback");
  if (mysql_rollback(handle_) != 0)
    return last_error("rollback");
  return mysql_ok{};
}

std::string mysql_connection::escape(std::string_view text) const {
  std::string out(text.size() * 2 + 1, '\0');
  unsigned long n;
  if (handle_ != nullptr)
    n = mysql_real_escape_string(handle_, out.data(), text.data(),
                                 static_cast<unsigned long>(text.size()));
  else
    n = mysql_escape_string(out.data(), text.data(),
                            static_cast<unsigned long>(text.size()));
  out.resize(n);
  return out;
}

std::string mysql_connection::quote(std::string_view text) const {
  return "'" + escape(text) + "'";
}

std::string mysql_connection::quote_identifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`')
      out += '`';
    out += c;
  }
  return out + "`";
}

mysql_expected<mysql_ok> mysql_connection::ping() {
  if (handle_ == nullptr)
    return closed_error("ping");
  if (mysql_ping(handle_) != 0)
    return last_error("ping");
  return mysql_ok{};
}

mysql_expected<mysql_ok> mysql_connection::reconnect() {
  if (handle_ != nullptr) {
    mysql_close(handle_);
    handle_ = nullptr;
  }
  auto handle = open(config_);
  if (!handle)
    return handle.error();
  handle_ = *handle;
  multi_statements_ = false;
  return mysql_ok{};
}

std::string mysql_connection::server_version() const {
  if (handle_ == nullptr)
    return {};
  const char* info = mysql_get_server_info(handle_);
  return info != nullptr ? info : "";
}

uint64_t mysql_connection::connection_id() const {
  return handle_ != nullptr ? mysql_thread_id(handle_) : 0;
}

} // namespace shoal

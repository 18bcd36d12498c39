#include "runtime/adapters/binlog_stream.hpp"

#include <mariadb/mysql.h>
// mariadb_rpl.h needs mysql.h first.
#include <mariadb/mariadb_rpl.h>
#include <poll.h>

namespace shoal {

namespace {

mysql_error rpl_error(const mysql_connection& conn, MYSQL* m,
                      const std::string& operation) {
  mysql_error err;
  err.code = mysql_errno(m);
  err.sqlstate = mysql_sqlstate(m);
  err.message = ::mysql_error(m);
  err.endpoint = conn.endpoint();
  err.operation = operation;
  if (err.message.empty())
    err.message = "replication stream ended";
  if (err.code == 0)
    err.code = 2013;
  return err;
}

} // namespace

binlog_stream::binlog_stream(mysql_connection conn) : conn_(std::move(conn)) {}

binlog_stream::~binlog_stream() {
  if (event_)
    mariadb_free_rpl_event(event_);
  if (rpl_)
    mariadb_rpl_close(rpl_);
}

mysql_expected<std::unique_ptr<binlog_stream>>
binlog_stream::open(mysql_config cfg, const stream_options& options) {
  auto conn = mysql_connection::connect(std::move(cfg));
  if (!conn)
    return conn.error();
  auto alg = conn->scalar("SELECT @@global.binlog_checksum");
  if (!alg)
    return alg.error();
  std::unique_ptr<binlog_stream> s{new binlog_stream(std::move(*conn))};
  s->checksums_ = alg->value_or("NONE") == "CRC32";
  auto period_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options.heartbeat).count();
  for (std::string sql :
       {std::string{"SET @master_binlog_checksum = @@global.binlog_checksum"},
        std::string{"SET @mariadb_slave_capability = 4"},
        "SET @master_heartbeat_period = " + std::to_string(period_ns)}) {
    if (auto r = s->conn_.exec(sql); !r)
      return r.error();
  }
  if (!options.gtid.empty()) {
    if (auto r =
            s->conn_.exec("SET @slave_connect_state = " + s->conn_.quote(options.gtid));
        !r)
      return r.error();
  }
  auto* m = s->conn_.native_handle();
  s->rpl_ = mariadb_rpl_init(m);
  if (!s->rpl_)
    return rpl_error(s->conn_, m, "replication init");
  mariadb_rpl_optionsv(s->rpl_, MARIADB_RPL_SERVER_ID,
                       static_cast<unsigned int>(options.server_id));
  if (options.gtid.empty()) {
    mariadb_rpl_optionsv(s->rpl_, MARIADB_RPL_FILENAME, options.start_file.c_str(),
                         options.start_file.size());
    mariadb_rpl_optionsv(s->rpl_, MARIADB_RPL_START,
                         static_cast<unsigned long>(options.start_pos));
  } else {
    mariadb_rpl_optionsv(s->rpl_, MARIADB_RPL_FILENAME, "", static_cast<size_t>(0));
    mariadb_rpl_optionsv(s->rpl_, MARIADB_RPL_START, static_cast<unsigned long>(4));
  }
  mariadb_rpl_optionsv(s->rpl_, MARIADB_RPL_FLAGS, static_cast<unsigned int>(0));
  if (mariadb_rpl_open(s->rpl_) != 0)
    return rpl_error(s->conn_, m, "binlog dump");
  return s;
}

bool binlog_stream::readable() const {
  pollfd p{};
  p.fd = static_cast<int>(mysql_get_socket(conn_.native_handle()));
  p.events = POLLIN;
  if (p.fd < 0)
    return true;
  return ::poll(&p, 1, 0) != 0;
}

mysql_expected<std::string_view> binlog_stream::next() {
  auto* m = conn_.native_handle();
  if (event_) {
    mariadb_free_rpl_event(event_);
    event_ = nullptr;
  }
  auto* ev = mariadb_rpl_fetch(rpl_, nullptr);
  if (!ev)
    return rpl_error(conn_, m, "binlog read");
  event_ = ev;
  if (ev->raw_data_size < 1)
    return rpl_error(conn_, m, "binlog read");
  // raw_data starts with the OK byte of the network packet.
  return std::string_view{reinterpret_cast<const char*>(ev->raw_data) + 1,
                          ev->raw_data_size - 1};
}

} // namespace shoal

#include "tests/support/mariadb_server.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "tests/support/free_port.hpp"

namespace shoal::test {

namespace {

using namespace std::chrono_literals;

// Shared by mariadb-install-db and mariadbd: InnoDB's files must match.
// Small buffers so that several servers fit on a small machine; no fsync.
const std::vector<std::string>& storage_args() {
  static const std::vector<std::string> args{
      "--innodb-buffer-pool-size=16M",
      "--innodb-log-file-size=16M",
      "--innodb-data-file-path=ibdata1:12M:autoextend",
      "--innodb-autoextend-increment=4",
      "--innodb-flush-method=nosync",
      "--innodb-doublewrite=0",
      "--innodb-use-native-aio=0",
      "--innodb-buffer-pool-dump-at-shutdown=0",
      "--innodb-buffer-pool-load-at-startup=0",
      "--performance-schema=OFF",
      "--character-set-server=utf8mb4",
      "--collation-server=utf8mb4_general_ci",
  };
  return args;
}

bool running_as_root() {
  return ::geteuid() == 0;
}

std::string sql_string(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\')
      out += c;
    out += c;
  }
  return out + "'";
}

// Changes when the installed server or the template's settings change.
std::string template_key() {
  struct stat st {};
  std::string key = "v1";
  if (::stat("/usr/sbin/mariadbd", &st) == 0)
    key += "-" + std::to_string(st.st_mtime) + "-" + std::to_string(st.st_size);
  size_t h = std::hash<std::string>{}([] {
    std::string all;
    for (auto& arg : storage_args())
      all += arg + ' ';
    return all;
  }());
  return key + "-" + std::to_string(h % 1000000);
}

void run_install_db(const std::filesystem::path& datadir,
                    const std::filesystem::path& logs) {
  process_options opts;
  opts.program = "mariadb-install-db";
  opts.name = "mariadb-install-db";
  opts.output_dir = logs;
  opts.args = {"--no-defaults", "--datadir=" + datadir.string(),
               "--auth-root-authentication-method=normal", "--skip-test-db",
               "--skip-name-resolve"};
  if (running_as_root())
    opts.args.push_back("--user=root");
  for (auto& arg : storage_args())
    opts.args.push_back(arg);
  child_process install(opts);
  auto status = install.wait_for_exit(180s);
  if (!status || !status->success())
    throw std::runtime_error("mariadb-install-db failed (" +
                             (status ? status->to_string() : std::string{"timed out"}) +
                             ")\n" + install.output_tail());
}

std::filesystem::path make_template() {
  const char* build_dir = std::getenv("SHOAL_BINARY_DIR");
  if (build_dir == nullptr || *build_dir == '\0') {
    static std::optional<temp_dir> own;
    own.emplace("mariadb-template");
    run_install_db(own->path() / "data", own->path());
    return own->path() / "data";
  }
  auto cache = std::filesystem::path{build_dir} / "test-cache";
  std::filesystem::create_directories(cache);
  auto final_dir = cache / ("mariadb-template-" + template_key());
  int lock = ::open((cache / "mariadb-template.lock").c_str(),
                    O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0)
    throw std::runtime_error("cannot open lock file in " + cache.string());
  ::flock(lock, LOCK_EX);
  try {
    if (!std::filesystem::exists(final_dir / "data")) {
      auto work = cache / ("mariadb-template.tmp-" + std::to_string(::getpid()));
      std::filesystem::remove_all(work);
      std::filesystem::create_directories(work);
      run_install_db(work / "data", work);
      std::filesystem::rename(work, final_dir);
    }
  } catch (...) {
    ::close(lock);
    throw;
  }
  ::close(lock);
  return final_dir / "data";
}

} // namespace

std::filesystem::path mariadb_template_datadir() {
  static std::mutex mutex;
  static std::filesystem::path path;
  std::lock_guard<std::mutex> guard{mutex};
  if (path.empty()) {
    remove_orphaned_temp_dirs();
    path = make_template();
  }
  return path;
}

mariadb_server::mariadb_server(mariadb_options options)
    : server_process("mariadbd", options.name, "mariadb-" + options.name,
                     options.start_timeout),
      options_(std::move(options)) {
  std::filesystem::copy(mariadb_template_datadir(), datadir(),
                        std::filesystem::copy_options::recursive);
  std::filesystem::create_directories(folder() / "tmp");
  auto pw = sql_string(options_.root_password);
  std::ofstream init(folder() / "init.sql");
  init << "SET SESSION sql_log_bin=0;\n";
  for (const char* host : {"localhost", "127.0.0.1", "%"}) {
    init << "CREATE USER IF NOT EXISTS 'root'@'" << host << "';\n"
         << "ALTER USER 'root'@'" << host << "' IDENTIFIED BY " << pw << ";\n"
         << "GRANT ALL PRIVILEGES ON *.* TO 'root'@'" << host << "' WITH GRANT OPTION;\n";
  }
  init.close();
  boot();
}

mysql_config mariadb_server::connection_config(const std::string& database) const {
  mysql_config cfg;
  cfg.host = host();
  cfg.port = port();
  cfg.user = user_;
  cfg.password = options_.root_password;
  cfg.database = database;
  cfg.connect_timeout = std::chrono::seconds{5};
  cfg.read_timeout = std::chrono::seconds{60};
  cfg.write_timeout = std::chrono::seconds{60};
  return cfg;
}

mysql_connection mariadb_server::connect(const std::string& database) const {
  auto conn = mysql_connection::connect(connection_config(database));
  if (!conn)
    throw std::runtime_error(conn.error().to_string());
  return std::move(*conn);
}

std::vector<std::string> mariadb_server::arguments() const {
  std::vector<std::string> a = {"--no-defaults"};
  if (running_as_root())
    a.push_back("--user=root");
  a.push_back("--datadir=" + datadir().string());
  a.push_back("--socket=" + socket_path().string());
  a.push_back("--pid-file=" + (folder() / "mariadbd.pid").string());
  a.push_back("--tmpdir=" + (folder() / "tmp").string());
  a.push_back("--init-file=" + (folder() / "init.sql").string());
  a.push_back("--port=" + std::to_string(port()));
  a.push_back("--bind-address=" + host());
  a.push_back("--skip-name-resolve");
  a.push_back("--server-id=" + std::to_string(options_.server_id));
  if (options_.log_bin) {
    a.push_back("--log-bin=binlog");
    a.push_back("--binlog-format=" + options_.binlog_format);
    a.push_back("--binlog-row-metadata=" + options_.binlog_row_metadata);
    a.push_back("--binlog-row-image=" + options_.binlog_row_image);
    a.push_back("--sync-binlog=0");
  }
  a.push_back("--innodb-flush-log-at-trx-commit=2");
  a.insert(a.end(), storage_args().begin(), storage_args().end());
  a.insert(a.end(), options_.extra_args.begin(), options_.extra_args.end());
  return a;
}

bool mariadb_server::probe(std::string& last) const {
  auto cfg = connection_config();
  cfg.connect_timeout = std::chrono::seconds{1};
  auto conn = mysql_connection::connect(cfg);
  if (conn)
    return true;
  last = conn.error().to_string();
  return false;
}

void mariadb_server::reset() {
  if (frozen())
    thaw();
  if (!running())
    start();
  auto conn = connect();
  auto must = [&](std::string_view sql) {
    auto r = conn.query(sql);
    if (!r)
      throw std::runtime_error("reset of " + options_.name + ": " +
                               r.error().to_string());
    return std::move(*r);
  };
  auto others = must("SELECT ID FROM information_schema.PROCESSLIST "
                     "WHERE ID <> CONNECTION_ID() AND COMMAND <> 'Daemon' "
                     "AND USER NOT IN ('system user', 'event_scheduler')");
  for (auto& row : others.rows)
    conn.exec("KILL CONNECTION " + row[0].value_or("0")); // gone already: fine
  auto databases = must("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE "
                        "SCHEMA_NAME NOT IN ('mysql', 'information_schema', "
                        "'performance_schema', 'sys')");
  for (auto& row : databases.rows)
    must("DROP DATABASE " + mysql_connection::quote_identifier(row[0].value_or("")));
  auto users = must("SELECT User, Host FROM mysql.user "
                    "WHERE User NOT IN ('root', 'mariadb.sys', '')");
  for (auto& row : users.rows)
    must("DROP USER " + conn.quote(row[0].value_or("")) + "@" +
         conn.quote(row[1].value_or("")));
  if (options_.log_bin) {
    must("SET GLOBAL binlog_format = " + conn.quote(options_.binlog_format));
    must("SET GLOBAL binlog_row_metadata = " + conn.quote(options_.binlog_row_metadata));
    must("SET GLOBAL binlog_row_image = " + conn.quote(options_.binlog_row_image));
    must("RESET MASTER");
  }
}

} // namespace shoal::test

// mariadb_server: a real `mariadbd` for tests, on a free loopback port, with its
// data, socket and log in a temporary folder.
//
//   shoal::test::mariadb_server source;                 // ROW binlog, FULL metadata
//   shoal::test::mariadb_options opts;
//   opts.server_id = 2;
//   opts.binlog_row_metadata = "MINIMAL";
//   shoal::test::mariadb_server target(opts);
//   auto conn = source.connect();                       // root, throws on failure
//   conn.exec("CREATE DATABASE shop");
//   source.kill();  source.start();                     // same port, same data
//
// Starting is fast: `mariadb-install-db` runs once and its datadir is reused as
// a template, copied for each server. The template lives in
// $SHOAL_BINARY_DIR/test-cache (shared by every test binary of a build, created
// under a file lock) or, without SHOAL_BINARY_DIR, in a temp folder per process.
//
// Durability is relaxed for speed (no fsync, no doublewrite): committed data
// survives a killed server (the kernel keeps it), not a machine crash.
//
// Cleanup: the destructor kills the server (SIGKILL) and removes its folder
// (kept with SHOAL_KEEP_TMP=1); the server also dies if the test process
// crashes (see child_process). The server's stderr is its error log:
// `log_tail()` gives the end of it for failure messages.
//
// Blocking; not thread-safe: one thread controls a server at a time.

#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/adapters/mysql_connection.hpp"
#include "tests/support/server_process.hpp"

namespace shoal::test {

/// How to run one server.
struct mariadb_options {
  /// Names the folder and log files.
  std::string name = "mariadb";
  /// --server-id; every server that takes part in replication needs its own.
  unsigned server_id = 1;
  /// Write a binary log (--log-bin).
  bool log_bin = true;
  /// --binlog-format: ROW, STATEMENT or MIXED.
  std::string binlog_format = "ROW";
  /// --binlog-row-metadata: FULL, MINIMAL or NO_LOG.
  std::string binlog_row_metadata = "FULL";
  /// --binlog-row-image: FULL, MINIMAL or NOBLOB.
  std::string binlog_row_image = "FULL";
  /// Password of root (from 127.0.0.1, localhost and %).
  std::string root_password = "shoal-test-root";
  /// More mariadbd options, after the defaults (so they override them), e.g.
  /// "--innodb-buffer-pool-size=128M", "--gtid-strict-mode=1".
  std::vector<std::string> extra_args;
  /// How long start() waits for the server to accept connections.
  std::chrono::seconds start_timeout{60};
};

/// A running (or stopped, restartable) mariadbd. Start, stop, kill (a crash:
/// InnoDB recovers on the next start), freeze, thaw and the log come from
/// server_process.
class mariadb_server : public server_process {
public:
  /// Creates the folder, copies the template datadir and starts the server on a
  /// free port. Throws std::runtime_error with the server's log if it does not
  /// accept connections within start_timeout.
  explicit mariadb_server(mariadb_options options = {});

  const std::string& user() const { return user_; }
  const std::string& password() const { return options_.root_password; }
  const mariadb_options& options() const { return options_; }
  std::filesystem::path datadir() const { return folder() / "data"; }
  std::filesystem::path socket_path() const { return folder() / "mariadbd.sock"; }

  /// Connection settings for root, optionally with a default database.
  mysql_config connection_config(const std::string& database = {}) const;

  /// A root connection; throws std::runtime_error with the error on failure.
  mysql_connection connect(const std::string& database = {}) const;

  /// Brings the server back to a clean state for the next test: thaws or
  /// restarts it if a test left it frozen or down, kills other connections,
  /// drops every non-system database and user, restores the binlog variables
  /// from the options, and runs RESET MASTER (empty binlog, fresh GTIDs).
  void reset();

private:
  std::vector<std::string> arguments() const override;
  bool probe(std::string& last) const override;

  mariadb_options options_;
  std::string user_ = "root";
};

/// The folder holding an initialized datadir to copy (made on first call;
/// later calls return the same). Thread-safe. Throws if mariadb-install-db fails.
std::filesystem::path mariadb_template_datadir();

} // namespace shoal::test

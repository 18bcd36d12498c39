// Helpers of the sync pipeline tests: a pipeline on the shared source and
// target servers, waiting until the target has caught up, comparing tables.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <gtest/gtest.h>

#include "actors/binlog/sync/pipeline.hpp"
#include "tests/support/shared_servers.hpp"

namespace shoal::test {

/// Runs `sql` on `conn`; throws with the error.
inline mysql_result run(mysql_connection& conn, const std::string& sql) {
  auto r = conn.query(sql);
  if (!r)
    throw std::runtime_error(sql.substr(0, 200) + ": " + r.error().to_string());
  return std::move(*r);
}

/// The source's current binlog position (SHOW MASTER STATUS).
inline binlog::binlog_position master_position(mysql_connection& conn) {
  auto r = run(conn, "SHOW MASTER STATUS");
  return {r.rows.at(0).at(0).value_or(""), std::stoull(r.rows.at(0).at(1).value_or("0"))};
}

/// CHECKSUM TABLE of `table` ("db.t"), as text ("NULL" if the table is missing).
inline std::string checksum(mysql_connection& conn, const std::string& table) {
  auto r = run(conn, "CHECKSUM TABLE " + table + " EXTENDED");
  return r.rows.at(0).at(1).value_or("NULL");
}

/// Every row of `table` ordered by all columns, rendered as hex, for diffs.
inline std::vector<std::string> rows_of(mysql_connection& conn,
                                        const std::string& table) {
  auto cols = run(conn, "SELECT GROUP_CONCAT(CONCAT('HEX(`', COLUMN_NAME, '`)') ORDER BY "
                        "ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE "
                        "CONCAT(TABLE_SCHEMA,'.',TABLE_NAME)='" +
                            table + "'");
  auto list = cols.rows.at(0).at(0).value_or("");
  if (list.empty())
    return {};
  auto r =
      run(conn, "SELECT CONCAT_WS('|'," + list + ") AS x FROM " + table + " ORDER BY x");
  std::vector<std::string> out;
  for (auto& row : r.rows)
    out.push_back(row.at(0).value_or("NULL"));
  return out;
}

class sync_fixture : public server_test {
protected:
  binlog::pipeline_settings settings(const std::string& name = "p1",
                                     uint32_t partitions = 4) {
    binlog::pipeline_settings s;
    s.name = name;
    s.source = source().connection_config();
    s.target = target().connection_config();
    s.source.read_timeout = std::chrono::seconds{5};
    s.server_id = 4242;
    s.partitions = partitions;
    s.start_mode = binlog::start_point::current;
    s.batch_rows = 500;
    s.max_inflight_rows = 5000;
    s.heartbeat = std::chrono::milliseconds{200};
    return s;
  }

  /// Starts a pipeline and waits until it streams (its start position is fixed).
  std::shared_ptr<binlog::pipeline>
  start(binlog::pipeline_settings s,
        binlog::pipeline_state until = binlog::pipeline_state::running) {
    auto p = binlog::pipeline::start(sys_, std::move(s));
    pipelines_.push_back(p);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{60};
    while (p->status().state != until &&
           p->status().state != binlog::pipeline_state::failed &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    return p;
  }

  /// Waits until `p` has applied everything the source has written so far.
  ::testing::AssertionResult
  caught_up(binlog::pipeline& p,
            std::chrono::milliseconds timeout = std::chrono::seconds{60}) {
    auto conn = source().connect();
    auto pos = master_position(conn);
    if (p.wait_applied(pos, timeout))
      return ::testing::AssertionSuccess();
    auto s = p.status();
    return ::testing::AssertionFailure()
           << "not applied up to " << pos.to_string() << " (state " << s.state << ": "
           << s.error << ", handed on " << s.handed_on.to_string() << ")";
  }

  void TearDown() override {
    for (auto& p : pipelines_)
      p->stop();
    pipelines_.clear();
  }

  caf::actor_system_config cfg_;
  caf::actor_system sys_{cfg_};
  std::vector<std::shared_ptr<binlog::pipeline>> pipelines_;
};

} // namespace shoal::test

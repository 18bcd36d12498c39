// random_workload: a seeded generator of transactions over tables that hold
// every column type MariaDB 10.11 has, for the differential sync test.
//
//   shoal::test::workload_options opts;
//   opts.seed = 42;
//   opts.strict = true;                       // never a value strict mode rejects
//   auto w = shoal::test::generate_workload(opts);
//   for (auto& step : w.steps)                // run them in order on the source
//     run_step(conn, step);
//
// The same options give the same statements, byte for byte. The generator keeps
// its own model of which keys exist (committed changes only), so that updates,
// key changes and deletes hit existing rows and inserts never collide; it needs
// no answer from a server. Values cover each type's edges: integer extremes,
// unsigned values above the signed maximum, DECIMAL at full precision,
// FLOAT/DOUBLE extremes and denormals, BIT(1..64), zero and partial-zero dates,
// fractional seconds 0..6, trailing spaces and zero bytes, multibyte and emoji
// text in several charsets, blobs of a few hundred KB, ENUM, SET, JSON,
// geometry, INET4, INET6 and UUIDs (time-based, and ones whose stored form ends
// in a zero byte). Without `strict`, some statements also carry values the
// server clips or truncates (out of range, invalid dates, too long strings):
// the binlog then carries what the server stored.
//
// Tables are keyed by one column (signed, unsigned, BINARY(16)), by two, by a
// case-insensitive VARCHAR, not at all, or carry a second UNIQUE key; one has
// generated columns and an ON UPDATE timestamp, which statements never write.
//
// Steps: the setup (database and tables), ordinary transactions (inserts,
// multi-row inserts, updates, key changes, deletes, REPLACE, ON DUPLICATE KEY
// UPDATE, savepoints, rollbacks), a few large ones (thousands of rows), and DDL
// in the middle (ADD COLUMN, widening a type, CREATE and DROP TABLE).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace shoal::test {

/// What to generate.
struct workload_options {
  uint64_t seed = 1;
  /// The source runs with a strict sql_mode: generate only values it accepts.
  bool strict = true;
  /// Ordinary transactions; large ones and DDL come on top.
  size_t transactions = 400;
  /// The database the workload creates and writes.
  std::string database = "diff";
  /// The tables that transactions write (all are created and see the DDL);
  /// empty for all. Narrowing it isolates one type family when a failure in
  /// another stops the sync early.
  std::vector<std::string> tables;
};

/// One unit the source runs.
struct workload_step {
  enum class ending {
    /// Each statement on its own (autocommit): setup and DDL.
    autocommit,
    /// START TRANSACTION, the statements, COMMIT.
    commit,
    /// START TRANSACTION, the statements, ROLLBACK.
    rollback,
  };
  ending end = ending::autocommit;
  std::vector<std::string> statements;
  /// What the step does, for messages ("txn 17: 4 statements", "DDL ...").
  std::string label;
};

struct workload {
  std::vector<workload_step> steps;
  /// Index of the first step after the snapshot point (about 40% in): a test
  /// that starts its sync with a snapshot runs the steps before it first.
  size_t snapshot_split = 0;
};

/// The whole workload for `options`; deterministic.
workload generate_workload(const workload_options& options);

/// FNV-1a over every statement and ending: equal for equal workloads, so two
/// runs can show they ran the same thing.
uint64_t fingerprint(const workload& w);

} // namespace shoal::test

// Bank transfers, for tests of what a reader of a sync target sees: two tables of
// accounts (bank.a, bank.b) on a source, writers that move amounts between random
// accounts in one source transaction each (often across both tables, some paying
// many accounts), and a checker that reads the target's total balance, which a
// copy that shows only whole transactions never changes.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "runtime/adapters/mysql_connection.hpp"

namespace shoal::test::bank {

constexpr int accounts = 40;
constexpr int64_t opening = 1000;
/// The total balance of both tables, before and after every transfer.
constexpr int64_t expected_total = 2 * accounts * opening;

namespace detail {
inline void exec(mysql_connection& conn, const std::string& sql) {
  if (auto r = conn.query(sql); !r)
    throw std::runtime_error(sql.substr(0, 200) + ": " + r.error().to_string());
}
} // namespace detail

/// Creates database bank with tables a and b of `accounts` accounts each.
inline void create(mysql_connection& src) {
  detail::exec(src, "CREATE DATABASE bank");
  for (auto t : {"a", "b"}) {
    detail::exec(src, std::string{"CREATE TABLE bank."} + t +
                          " (id INT PRIMARY KEY, balance BIGINT NOT NULL)");
    std::string values;
    for (int i = 0; i < accounts; ++i)
      values +=
          (i ? ",(" : "(") + std::to_string(i) + "," + std::to_string(opening) + ")";
    detail::exec(src, std::string{"INSERT INTO bank."} + t + " VALUES " + values);
  }
}

/// Moves amounts between random accounts of bank.a and bank.b, one source
/// transaction each, until `stop` or `count` transfers. Every fourth transfer
/// pays many accounts (up to 40 rows), more than a small target batch holds.
inline void transfer(mysql_connection& src, const std::atomic<bool>& stop, int count,
                     uint64_t seed) {
  std::mt19937_64 rng{seed};
  auto table = [&] { return rng() % 2 ? "bank.a" : "bank.b"; };
  for (int n = 0; n < count && !stop; ++n) {
    auto legs = n % 4 == 0 ? 1 + rng() % 39 : 1;
    int64_t amount = 1 + rng() % 50;
    // (table, account, change); locked in one order so that two writers never
    // deadlock on the source.
    std::vector<std::tuple<std::string, uint64_t, int64_t>> moves;
    moves.emplace_back(table(), rng() % accounts, -amount * static_cast<int64_t>(legs));
    for (uint64_t k = 0; k < legs; ++k)
      moves.emplace_back(table(), rng() % accounts, amount);
    std::sort(moves.begin(), moves.end());
    detail::exec(src, "BEGIN");
    for (auto& [t, id, change] : moves)
      detail::exec(src, "UPDATE " + t + " SET balance = balance + (" +
                            std::to_string(change) +
                            ") WHERE id = " + std::to_string(id));
    detail::exec(src, "COMMIT");
  }
}

/// Reads the target's total balance (one statement: one consistent read) until
/// `stop`; counts the reads, and those that found another total than
/// expected_total. Reads that fail (the tables not there yet) do not count.
inline void check(mysql_connection& dst, const std::atomic<bool>& stop,
                  std::atomic<int64_t>& reads, std::atomic<int64_t>& wrong) {
  while (!stop) {
    auto r = dst.query("SELECT (SELECT SUM(balance) FROM bank.a) + "
                       "(SELECT SUM(balance) FROM bank.b)");
    if (!r || r->rows.empty() || !r->rows[0][0])
      continue;
    ++reads;
    if (std::stoll(*r->rows[0][0]) != expected_total)
      ++wrong;
  }
}

} // namespace shoal::test::bank

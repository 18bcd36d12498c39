#include "actors/binlog/sync/writeset.hpp"

#include <algorithm>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "actors/binlog/sync/router.hpp"

namespace shoal::binlog {

namespace {

bool has_before(op_kind k) {
  return k == op_kind::update || k == op_kind::delete_ || k == op_kind::update_matching ||
         k == op_kind::delete_matching;
}

bool has_after(op_kind k) {
  return k == op_kind::upsert || k == op_kind::update || k == op_kind::insert ||
         k == op_kind::update_matching;
}

// Union-find over transaction indices; the root of a set is its lowest index,
// so a chain is named by its first transaction.
struct chains {
  std::vector<size_t> parent;

  explicit chains(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }

  size_t root(size_t i) {
    while (parent[i] != i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  }

  void join(size_t a, size_t b) {
    a = root(a);
    b = root(b);
    if (a == b)
      return;
    if (b < a)
      std::swap(a, b);
    parent[b] = a;
  }
};

} // namespace

void add_writeset(const row_op& op, writeset& out) {
  if (op.kind == op_kind::mark || !op.table)
    return;
  auto& table = *op.table;
  auto t = table_hash(table);
  if (!table.has_key() || table.single_partition) {
    out.whole.push_back(t);
    return;
  }
  auto add = [&](const row_image& image) {
    if (has_key_values(table, image))
      out.rows.push_back(row_hash(table, image));
    else
      out.whole.push_back(t);
  };
  out.tables.push_back(t);
  if (has_before(op.kind))
    add(op.before);
  if (op.kind != op_kind::update) {
    if (has_after(op.kind))
      add(op.after);
    return;
  }
  // An update with a partial after image (binlog_row_image=MINIMAL or NOBLOB)
  // may still change the key: the row it leaves behind has the before image's
  // key with the after image's key columns laid over it.
  auto moved = op.before;
  for (auto i : table.key)
    if (i < op.after.present.size() && op.after.present[i] && i < moved.values.size()) {
      moved.values[i] = op.after.values[i];
      moved.present[i] = true;
    }
  add(moved);
}

std::vector<uint32_t> assign_transactions(const std::vector<writeset>& writesets,
                                          const std::vector<size_t>& rows,
                                          uint32_t partitions) {
  auto n = writesets.size();
  std::vector<uint32_t> out(n, 0);
  if (partitions <= 1 || n == 0)
    return out;
  std::unordered_set<uint64_t> whole;
  for (auto& ws : writesets)
    whole.insert(ws.whole.begin(), ws.whole.end());
  chains c{n};
  // The first transaction that touched each hash.
  std::unordered_map<uint64_t, size_t> first;
  auto touch = [&](uint64_t h, size_t i) {
    auto [at, fresh] = first.emplace(h, i);
    if (!fresh)
      c.join(at->second, i);
  };
  // Rows and tables live in one hash space: a row hash that equals a table
  // hash only joins chains that need not be.
  for (size_t i = 0; i < n; ++i) {
    for (auto h : writesets[i].rows)
      touch(h, i);
    for (auto h : writesets[i].whole)
      touch(h, i);
    for (auto h : writesets[i].tables)
      if (whole.count(h))
        touch(h, i);
  }
  std::vector<size_t> chain_rows(n, 0);
  for (size_t i = 0; i < n; ++i)
    chain_rows[c.root(i)] += i < rows.size() ? rows[i] : 0;
  std::vector<size_t> load(partitions, 0);
  std::vector<uint32_t> chain_partition(n, 0);
  // Roots are first transactions, so visiting indices in order places chains
  // in the order of their first transaction.
  for (size_t i = 0; i < n; ++i) {
    auto r = c.root(i);
    if (r == i) {
      auto p = static_cast<uint32_t>(std::min_element(load.begin(), load.end()) -
                                     load.begin());
      chain_partition[i] = p;
      load[p] += chain_rows[i];
    }
    out[i] = chain_partition[r];
  }
  return out;
}

uint32_t round_partitions(size_t rows, uint32_t partitions, size_t rows_per_share) {
  if (partitions <= 1)
    return 1;
  auto share = std::max<size_t>(1, rows_per_share);
  auto wanted = (rows + share - 1) / share;
  return static_cast<uint32_t>(std::clamp<size_t>(wanted, 1, partitions));
}

std::string encode_groups(const std::vector<uint32_t>& ascending) {
  std::string out;
  uint32_t prev = 0;
  bool first = true;
  for (auto v : ascending) {
    uint32_t delta = first ? v : v - prev;
    first = false;
    prev = v;
    do {
      auto byte = static_cast<unsigned char>(delta & 0x7f);
      delta >>= 7;
      if (delta != 0)
        byte |= 0x80;
      out.push_back(static_cast<char>(byte));
    } while (delta != 0);
  }
  return out;
}

std::optional<std::vector<uint32_t>> decode_groups(std::string_view blob) {
  std::vector<uint32_t> out;
  uint64_t value = 0;
  size_t i = 0;
  while (i < blob.size()) {
    uint64_t delta = 0;
    int shift = 0;
    while (true) {
      if (i >= blob.size() || shift > 28)
        return std::nullopt;
      auto byte = static_cast<unsigned char>(blob[i++]);
      delta |= static_cast<uint64_t>(byte & 0x7f) << shift;
      shift += 7;
      if (!(byte & 0x80))
        break;
    }
    if (!out.empty() && delta == 0)
      return std::nullopt; // not ascending
    value = out.empty() ? delta : value + delta;
    if (value > UINT32_MAX)
      return std::nullopt;
    out.push_back(static_cast<uint32_t>(value));
  }
  return out;
}

} // namespace shoal::binlog

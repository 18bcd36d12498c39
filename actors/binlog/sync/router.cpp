#include "actors/binlog/sync/router.hpp"

#include <algorithm>

namespace shoal::binlog {

uint64_t fnv1a(std::string_view bytes, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

uint64_t table_hash(const table_schema& table) {
  auto h = fnv1a(table.target_db);
  h = fnv1a(std::string_view{"\0", 1}, h);
  return fnv1a(table.target_table, h);
}

uint64_t row_hash(const table_schema& table, const row_image& image) {
  auto h = table_hash(table);
  if (!table.has_key() || table.single_partition)
    return h;
  for (size_t k = 0; k < table.key.size(); ++k) {
    auto i = table.key[k];
    h = fnv1a(std::string_view{"\0", 1}, h);
    if (i >= image.values.size())
      continue;
    auto* bytes = std::get_if<bytes_value>(&image.values[i]);
    if (bytes && k < table.key_pads.size() && table.key_pads[k]) {
      auto end = bytes->bytes.find_last_not_of(' ');
      h = fnv1a(to_string(column_value{bytes_value{
                    bytes->bytes.substr(0, end == std::string::npos ? 0 : end + 1)}}),
                h);
      continue;
    }
    h = fnv1a(to_string(image.values[i]), h);
  }
  return h;
}

uint32_t partition_of(const table_schema& table, const row_image& image,
                      uint32_t partitions) {
  if (partitions <= 1)
    return 0;
  return static_cast<uint32_t>(row_hash(table, image) % partitions);
}

namespace {

// Sizes, not capacities: the sum must not change when an op is copied.
int64_t image_bytes(const row_image& image) {
  auto n = static_cast<int64_t>(image.values.size() * sizeof(column_value) +
                                image.present.size() / 8);
  for (auto& v : image.values) {
    if (auto* b = std::get_if<bytes_value>(&v))
      n += static_cast<int64_t>(b->bytes.size());
    else if (auto* j = std::get_if<json_value>(&v))
      n += static_cast<int64_t>(j->text.size());
    else if (auto* d = std::get_if<decimal_value>(&v))
      n += static_cast<int64_t>(d->text.size());
  }
  return n;
}

} // namespace

int64_t op_bytes(const row_op& op) {
  if (op.kind == op_kind::mark)
    return 0;
  return static_cast<int64_t>(sizeof(row_op)) + image_bytes(op.before) +
         image_bytes(op.after);
}

int64_t ops_bytes(const std::vector<row_op>& ops) {
  int64_t n = 0;
  for (auto& op : ops)
    n += op_bytes(op);
  return n;
}

bool has_key_values(const table_schema& table, const row_image& image) {
  return std::all_of(table.key.begin(), table.key.end(), [&](uint32_t i) {
    return i < image.present.size() && image.present[i];
  });
}

bool changes_key(const table_schema& table, const row_change& change) {
  for (auto i : table.key) {
    if (i >= change.after.present.size() || !change.after.present[i])
      continue;
    if (i >= change.before.present.size() || !change.before.present[i])
      return true;
    if (to_string(change.before.values[i]) != to_string(change.after.values[i]))
      return true;
  }
  return false;
}

namespace {

bool complete(const row_image& image) {
  return std::all_of(image.present.begin(), image.present.end(),
                     [](bool b) { return b; });
}

} // namespace

std::vector<row_op> ops_for_row(row_kind kind,
                                const std::shared_ptr<const table_schema>& table,
                                row_change change, const change_key& key, uint32_t time) {
  std::vector<row_op> out;
  auto make = [&](op_kind k) -> row_op& {
    auto& op = out.emplace_back();
    op.kind = k;
    op.source = kind;
    op.key = key;
    op.event_time = time;
    op.table = table;
    return op;
  };
  bool keyed = table->has_key();
  switch (kind) {
  case row_kind::write:
    make(keyed ? op_kind::upsert : op_kind::insert).after = std::move(change.after);
    break;
  case row_kind::delete_:
    make(keyed ? op_kind::delete_ : op_kind::delete_matching).before =
        std::move(change.before);
    break;
  case row_kind::update:
    if (!keyed) {
      auto& op = make(op_kind::update_matching);
      op.before = std::move(change.before);
      op.after = std::move(change.after);
    } else if (changes_key(*table, change) && complete(change.after)) {
      make(op_kind::delete_).before = std::move(change.before);
      make(op_kind::upsert).after = std::move(change.after);
    } else if (complete(change.after)) {
      auto& op = make(op_kind::upsert);
      if (table->keep_before_images)
        op.before = std::move(change.before);
      op.after = std::move(change.after);
    } else {
      auto& op = make(op_kind::update);
      op.before = std::move(change.before);
      op.after = std::move(change.after);
    }
    break;
  }
  return out;
}

} // namespace shoal::binlog

// MySQL's partial JSON updates: diffs read from bytes, applied to documents, and
// PARTIAL_UPDATE_ROWS events built by hand. The file test (binlog_files_test) checks
// a real one that MySQL 8.0 wrote.
#include "actors/binlog/decoder/json_diff.hpp"

#include <gtest/gtest.h>

#include "actors/binlog/decoder/event_type.hpp"
#include "actors/binlog/decoder/json_binary.hpp"
#include "actors/binlog/decoder/row_decoder.hpp"

namespace shoal::binlog {
namespace {

using bytes = std::vector<uint8_t>;

json_diff diff(json_diff::op op, std::string path, std::string value = {}) {
  return json_diff{op, std::move(path), std::move(value)};
}

constexpr auto replace = json_diff::op::replace;
constexpr auto insert = json_diff::op::insert;
constexpr auto remove = json_diff::op::remove;

std::string applied(std::string_view doc, const std::vector<json_diff>& diffs) {
  auto out = apply_json_diffs(doc, diffs);
  EXPECT_TRUE(out) << (out ? "" : out.error().what);
  return out ? *out : std::string{};
}

std::string refused(std::string_view doc, const std::vector<json_diff>& diffs) {
  auto out = apply_json_diffs(doc, diffs);
  return out ? "applied: " + *out : out.error().what;
}

TEST(json_diff, replace_reaches_members_and_cells_at_any_depth) {
  const std::string doc = R"({"a": 1, "b": [10, {"c": "x"}, 30], "cc": null})";
  EXPECT_EQ(applied(doc, {diff(replace, "$.a", "2")}),
            R"({"a": 2, "b": [10, {"c": "x"}, 30], "cc": null})");
  EXPECT_EQ(applied(doc, {diff(replace, "$.b[1].c", R"(["y", true])")}),
            R"({"a": 1, "b": [10, {"c": ["y", true]}, 30], "cc": null})");
  EXPECT_EQ(applied(doc, {diff(replace, "$.b[last]", "3.5")}),
            R"({"a": 1, "b": [10, {"c": "x"}, 3.5], "cc": null})");
  EXPECT_EQ(applied(doc, {diff(replace, "$.b[last-2]", "0")}),
            R"({"a": 1, "b": [0, {"c": "x"}, 30], "cc": null})");
  EXPECT_EQ(applied(doc, {diff(replace, "$", "[]")}), "[]");
}

TEST(json_diff, insert_adds_members_in_mysql_key_order_and_cells_before_the_index) {
  // MySQL keeps object keys shorter first, then by bytes.
  EXPECT_EQ(applied(R"({"b": 1, "aa": 2})", {diff(insert, "$.c", "3")}),
            R"({"b": 1, "c": 3, "aa": 2})");
  EXPECT_EQ(applied(R"({"b": 1, "aa": 2})", {diff(insert, "$.abc", "3")}),
            R"({"b": 1, "aa": 2, "abc": 3})");
  EXPECT_EQ(applied(R"({"b": 1})", {diff(insert, "$.a", "0")}), R"({"a": 0, "b": 1})");
  // An existing member is replaced.
  EXPECT_EQ(applied(R"({"b": 1})", {diff(insert, "$.b", "2")}), R"({"b": 2})");
  EXPECT_EQ(applied("[1, 2, 3]", {diff(insert, "$[1]", "9")}), "[1, 9, 2, 3]");
  EXPECT_EQ(applied("[1, 2, 3]", {diff(insert, "$[7]", "9")}), "[1, 2, 3, 9]");
  EXPECT_EQ(applied("[]", {diff(insert, "$[0]", R"({"k": "v"})")}), R"([{"k": "v"}])");
}

TEST(json_diff, remove_drops_a_member_or_a_cell) {
  EXPECT_EQ(applied(R"({"a": 1, "b": 2})", {diff(remove, "$.a")}), R"({"b": 2})");
  EXPECT_EQ(applied("[1, 2, 3]", {diff(remove, "$[last-1]")}), "[1, 3]");
  EXPECT_EQ(applied("[1, 2, 3]", {diff(remove, "$[0]")}), "[2, 3]");
}

TEST(json_diff, diffs_apply_in_order) {
  EXPECT_EQ(applied(R"({"a": [1]})", {diff(insert, "$.a[1]", "2"), diff(remove, "$.a[0]"),
                                      diff(replace, "$.a[0]", "\"two\"")}),
            R"({"a": ["two"]})");
}

TEST(json_diff, quoted_members_and_escapes_survive) {
  const std::string doc = R"({"a b": "x\"y\\z\n", "\u00e9": 1})";
  EXPECT_EQ(applied(doc, {diff(replace, R"($."a b")", "true")}),
            "{\"a b\": true, \"\xc3\xa9\": 1}");
  EXPECT_EQ(applied(doc, {diff(replace, "$.\xc3\xa9", "2")}),
            R"({"a b": "x\"y\\z\n", )" + std::string{"\"\xc3\xa9\": 2}"});
}

TEST(json_diff, a_diff_that_does_not_fit_the_document_is_refused_with_its_path) {
  const std::string doc = R"({"a": [1, 2]})";
  EXPECT_EQ(refused(doc, {diff(replace, "$.b", "1")}),
            "partial JSON diff 1 (REPLACE $.b): the document has no value at the path");
  EXPECT_EQ(refused(doc, {diff(replace, "$.a", "1"), diff(remove, "$.a[5]")}),
            "partial JSON diff 2 (REMOVE $.a[5]): the path names a cell of a value "
            "that is not an array");
  EXPECT_EQ(refused(doc, {diff(remove, "$.a[5]")}),
            "partial JSON diff 1 (REMOVE $.a[5]): the document has no value at the path");
  EXPECT_EQ(refused(doc, {diff(replace, "$.a[last-2]", "1")}),
            "partial JSON diff 1 (REPLACE $.a[last-2]): the document has no value at "
            "the path");
  EXPECT_EQ(refused(doc, {diff(replace, "$.a[*]", "1")}),
            "partial JSON diff 1 (REPLACE $.a[*]): the path has a wildcard");
  EXPECT_EQ(refused(doc, {diff(replace, "$.*", "1")}),
            "partial JSON diff 1 (REPLACE $.*): the path has a wildcard");
  EXPECT_EQ(refused(doc, {diff(replace, "$.a[0 to 1]", "1")}),
            "partial JSON diff 1 (REPLACE $.a[0 to 1]): the path has a cell without ] "
            "(ranges are not allowed)");
  EXPECT_EQ(refused(doc, {diff(remove, "$")}),
            "partial JSON diff 1 (REMOVE $): only REPLACE can name the whole document");
  EXPECT_EQ(refused(doc, {diff(insert, "$.a.b", "1")}),
            "partial JSON diff 1 (INSERT $.a.b): the path names a member of a value "
            "that is not an object");
  EXPECT_EQ(refused("{\"a\": ", {diff(remove, "$.a")}),
            "the document before the partial JSON update is not JSON text");
}

std::string_view view(const bytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// {"a": 1} in MySQL's binary format: a small object of one member whose value (an
// int16) sits inline in its entry, and the key "a" at offset 11.
const bytes object_a1{0x00, 1, 0, 12, 0, 11, 0, 1, 0, 0x05, 1, 0, 'a'};

TEST(json_diff, diffs_are_read_from_the_bytes_mysql_writes) {
  ASSERT_EQ(*json_binary_to_text(view(object_a1)), R"({"a": 1})");
  bytes in{0,    3, '$', '.', 'b', 3,   0x05, 7, 0, // REPLACE $.b 7
           1,    4, '$', '[', '0', ']', 13,         // INSERT $[0] {"a": 1}
           0x00, 1, 0,   12,  0,   11,  0,    1, 0, 0x05, 1, 0, 'a', //
           2,    3, '$', '.', 'c'};                                  // REMOVE $.c
  auto diffs = read_json_diffs(view(in));
  ASSERT_TRUE(diffs) << diffs.error().what;
  ASSERT_EQ(diffs->size(), 3u);
  EXPECT_EQ((*diffs)[0].operation, replace);
  EXPECT_EQ((*diffs)[0].path, "$.b");
  EXPECT_EQ((*diffs)[0].value, "7");
  EXPECT_EQ((*diffs)[1].operation, insert);
  EXPECT_EQ((*diffs)[1].value, R"({"a": 1})");
  EXPECT_EQ((*diffs)[2].operation, remove);
  EXPECT_EQ((*diffs)[2].path, "$.c");
  EXPECT_EQ((*diffs)[2].value, "");

  bytes unknown{3, 1, '$'};
  EXPECT_EQ(read_json_diffs(view(unknown)).error().what,
            "partial JSON diff 1: unknown operation 3");
  bytes cut{2, 3, '$', '.'};
  EXPECT_EQ(read_json_diffs(view(cut)).error().what,
            "partial JSON diff 1: truncated path");
  bytes bad_value{0, 1, '$', 2, 0x00, 1};
  EXPECT_EQ(read_json_diffs(view(bad_value))
                .error()
                .what.rfind("partial JSON diff 1 ($): invalid binary JSON: ", 0),
            0u);
}

column_def col(column_type type, uint32_t length = 0) {
  column_def c;
  c.type = c.real_type = static_cast<uint8_t>(type);
  c.length = length;
  return c;
}

// id INT, doc JSON, n INT, other JSON.
std::shared_ptr<const table_map> json_table() {
  auto map = std::make_shared<table_map>();
  map->table_id = 7;
  map->schema = "db";
  map->table = "t";
  map->columns = {col(column_type::long_), col(column_type::json, 4),
                  col(column_type::long_), col(column_type::json, 4)};
  return map;
}

void append(bytes& to, const bytes& more) {
  to.insert(to.end(), more.begin(), more.end());
}

void append_u32(bytes& to, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    to.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// A PARTIAL_UPDATE_ROWS body: v2 post-header (table 7, STMT_END_F, no extra data),
// width 4, the before and after column bitmaps, then `rows`.
bytes partial_event(uint8_t before_cols, const bytes& rows) {
  bytes body{7, 0, 0, 0, 0, 0, 1, 0, 2, 0, 4, before_cols, 0b1111};
  append(body, rows);
  return body;
}

decode_result<rows_event> decode_partial(const bytes& body) {
  return decode_rows(view(body),
                     static_cast<uint8_t>(event_type::mysql_partial_update_rows), 10,
                     json_table(), {{false, false, false, false}, {}});
}

TEST(json_diff, a_partial_update_event_rebuilds_the_document_from_the_before_image) {
  bytes rows{0x00, 42, 0, 0, 0}; // before: no NULLs, id 42
  append_u32(rows, static_cast<uint32_t>(object_a1.size()));
  append(rows, object_a1);                            // doc {"a": 1}
  append(rows, {5, 0, 0, 0, 2, 0, 0, 0, 0x04, 0x01}); // n 5, other true
  // After: value options PARTIAL_JSON, partial bits: doc yes, other no; no NULLs.
  append(rows, {0x01, 0b01, 0x00, 42, 0, 0, 0});
  bytes diffs{0, 3, '$', '.', 'a', 3, 0x05, 7, 0, 1, 3, '$', '.', 'b', 2, 0x04, 0x00};
  append_u32(rows, static_cast<uint32_t>(diffs.size()));
  append(rows, diffs);
  append(rows, {6, 0, 0, 0, 2, 0, 0, 0, 0x04, 0x02}); // n 6, other false (whole)
  auto ev = decode_partial(partial_event(0b1111, rows));
  ASSERT_TRUE(ev) << ev.error().what;
  EXPECT_EQ(ev->kind, row_kind::update);
  ASSERT_EQ(ev->rows.size(), 1u);
  auto& r = ev->rows[0];
  EXPECT_EQ(std::get<json_value>(r.before.values[1]).text, R"({"a": 1})");
  EXPECT_EQ(std::get<json_value>(r.after.values[1]).text, R"({"a": 7, "b": null})");
  EXPECT_EQ(std::get<int64_t>(r.after.values[2]), 6);
  EXPECT_EQ(std::get<json_value>(r.after.values[3]).text, "false");

  // Without PARTIAL_JSON in the value options, the after image holds documents.
  bytes whole{0x00, 42, 0, 0, 0};
  append_u32(whole, static_cast<uint32_t>(object_a1.size()));
  append(whole, object_a1);
  append(whole, {5, 0, 0, 0, 2, 0, 0, 0, 0x04, 0x01});
  append(whole, {0x00, 0x00, 42, 0, 0, 0, 3, 0, 0, 0, 0x05, 9, 0});
  append(whole, {6, 0, 0, 0, 2, 0, 0, 0, 0x04, 0x02});
  auto plain = decode_partial(partial_event(0b1111, whole));
  ASSERT_TRUE(plain) << plain.error().what;
  EXPECT_EQ(std::get<json_value>(plain->rows[0].after.values[1]).text, "9");
}

TEST(json_diff, a_partial_update_without_the_document_in_the_before_image_stops) {
  // binlog_row_image=MINIMAL: the before image holds the key only.
  bytes rows{0x00, 42, 0, 0, 0, 0x01, 0b01, 0x00, 42, 0, 0, 0};
  bytes diffs{0, 3, '$', '.', 'a', 3, 0x05, 7, 0};
  append_u32(rows, static_cast<uint32_t>(diffs.size()));
  append(rows, diffs);
  append(rows, {6, 0, 0, 0, 2, 0, 0, 0, 0x04, 0x02});
  auto ev = decode_partial(partial_event(0b0001, rows));
  ASSERT_FALSE(ev);
  EXPECT_EQ(ev.error().column, std::optional<uint32_t>{1});
  EXPECT_NE(ev.error().what.find("set binlog_row_image=FULL on the source"),
            std::string::npos)
      << ev.error().what;
}

} // namespace
} // namespace shoal::binlog

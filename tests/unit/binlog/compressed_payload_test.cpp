// MariaDB compressed payloads built by hand: the header's announced length is checked
// against a cap before anything is allocated, and against what zlib inflates.
#include "actors/binlog/decoder/compressed_payload.hpp"

#include <zlib.h>

#include <gtest/gtest.h>

namespace shoal::binlog {
namespace {

// A compressed payload: header byte, `width` bytes of `announced` (big-endian), then
// `data` deflated (or as is when `deflate` is false).
std::string payload(uint64_t announced, size_t width, std::string_view data,
                    bool deflate = true) {
  std::string out(1, static_cast<char>(0x80 | width));
  for (size_t i = width; i-- > 0;)
    out += static_cast<char>(announced >> (8 * i));
  if (!deflate)
    return out.append(data);
  uLongf len = compressBound(static_cast<uLong>(data.size()));
  std::string z(len, '\0');
  compress(reinterpret_cast<Bytef*>(z.data()), &len,
           reinterpret_cast<const Bytef*>(data.data()), static_cast<uLong>(data.size()));
  z.resize(len);
  return out + z;
}

std::string fails(const std::string& p, uint64_t max_length = max_uncompressed_length) {
  auto r = uncompress_payload(p, max_length);
  return r ? "inflated " + std::to_string(r->size()) + " bytes" : r.error().what;
}

TEST(compressed_payload, inflates_what_the_header_announces) {
  auto r = uncompress_payload(payload(11, 1, "INSERT 1234"));
  ASSERT_TRUE(r) << r.error().what;
  EXPECT_EQ(*r, "INSERT 1234");
  std::string rows(70000, 'r');
  auto wide = uncompress_payload(payload(rows.size(), 3, rows));
  ASSERT_TRUE(wide) << wide.error().what;
  EXPECT_EQ(*wide, rows);
}

TEST(compressed_payload, a_length_over_the_cap_fails_before_anything_is_allocated) {
  // ~4 GiB announced, with enough bytes behind it (4.2 MB) that zlib's 1032:1 ratio
  // would allow it: no event can be that large.
  std::string junk(4'200'000, 'x');
  EXPECT_EQ(fails(payload(0xfffffff0, 4, junk, false)),
            "announced uncompressed length 4294967280 exceeds the limit of 1073741824 "
            "bytes");
  // The cap is a parameter: a caller may set a lower one.
  EXPECT_EQ(fails(payload(11, 1, "INSERT 1234"), 10),
            "announced uncompressed length 11 exceeds the limit of 10 bytes");
  EXPECT_EQ(fails(payload(11, 1, "INSERT 1234"), 11), "inflated 11 bytes");
}

TEST(compressed_payload, an_inflated_size_other_than_the_announced_one_fails) {
  EXPECT_EQ(fails(payload(20, 1, "INSERT 1234")),
            "inflated 11 bytes, header announced 20");
  EXPECT_EQ(fails(payload(5, 1, "INSERT 1234")),
            "inflated data is longer than the 5 bytes the header announced");
}

TEST(compressed_payload, malformed_headers_fail) {
  EXPECT_EQ(fails(""), "compressed payload has no compression header");
  EXPECT_EQ(fails("\x01"), "compressed payload has no compression header");
  EXPECT_EQ(fails("\x91\x05"), "unsupported compression algorithm 1");
  EXPECT_EQ(fails("\x85\x00"), "compressed length width 5 is not 1..4");
  EXPECT_EQ(fails("\x84\x00\x00"), "truncated compression header");
  EXPECT_NE(fails(payload(5, 1, "hello", false)).find("zlib error"), std::string::npos);
}

} // namespace
} // namespace shoal::binlog

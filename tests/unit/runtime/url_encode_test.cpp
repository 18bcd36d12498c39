// The one percent-encoding: unreserved characters stay, every other byte (space,
// '/', '%', '&', UTF-8, NUL) becomes %XX in upper-case hex, so a pipeline name or a
// secret cannot change a URL's path or query.

#include "runtime/base/url_encode.hpp"

#include <gtest/gtest.h>

namespace shoal {
namespace {

TEST(url_encode, unreserved_characters_pass_through) {
  EXPECT_EQ(url_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(url_encode(""), "");
}

TEST(url_encode, every_other_byte_becomes_percent_hex) {
  EXPECT_EQ(url_encode("a b/c"), "a%20b%2Fc");
  EXPECT_EQ(url_encode("100%&x=1?#"), "100%25%26x%3D1%3F%23");
  EXPECT_EQ(url_encode("caf\xc3\xa9"), "caf%C3%A9");
  EXPECT_EQ(url_encode(std::string_view{"a\0b", 3}), "a%00b");
  EXPECT_EQ(url_encode("+"), "%2B");
}

} // namespace
} // namespace shoal

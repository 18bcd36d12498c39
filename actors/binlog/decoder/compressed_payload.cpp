#include "actors/binlog/decoder/compressed_payload.hpp"

#include <zlib.h>

#include "actors/binlog/decoder/byte_reader.hpp"

namespace shoal::binlog {

namespace {

decode_error fail(std::string what) {
  decode_error err;
  err.what = std::move(what);
  return err;
}

// zlib cannot inflate more than about 1032 bytes per input byte.
constexpr uint64_t max_inflate_ratio = 1032;

} // namespace

decode_result<std::string> uncompress_payload(std::string_view payload,
                                              uint64_t max_length) {
  byte_reader in{payload};
  auto head = in.u8();
  if (!in.ok() || (head & 0x80) == 0)
    return fail("compressed payload has no compression header");
  if ((head & 0x70) != 0)
    return fail("unsupported compression algorithm " + std::to_string((head >> 4) & 7));
  auto width = head & 0x07u;
  if (width < 1 || width > 4)
    return fail("compressed length width " + std::to_string(width) + " is not 1..4");
  auto length = in.uint_be(width);
  auto data = in.rest();
  if (!in.ok())
    return fail("truncated compression header");
  if (length > max_length)
    return fail("announced uncompressed length " + std::to_string(length) +
                " exceeds the limit of " + std::to_string(max_length) + " bytes");
  if (length > data.size() * max_inflate_ratio + 64)
    return fail("announced uncompressed length " + std::to_string(length) +
                " is impossible for " + std::to_string(data.size()) + " bytes");
  std::string out(length, '\0');
  uLongf out_len = static_cast<uLongf>(length);
  auto rc = uncompress(reinterpret_cast<Bytef*>(out.data()), &out_len,
                       reinterpret_cast<const Bytef*>(data.data()),
                       static_cast<uLong>(data.size()));
  if (rc == Z_BUF_ERROR)
    return fail("inflated data is longer than the " + std::to_string(length) +
                " bytes the header announced");
  if (rc != Z_OK)
    return fail("zlib error " + std::to_string(rc) + " while inflating");
  if (out_len != length)
    return fail("inflated " + std::to_string(out_len) + " bytes, header announced " +
                std::to_string(length));
  return out;
}

} // namespace shoal::binlog

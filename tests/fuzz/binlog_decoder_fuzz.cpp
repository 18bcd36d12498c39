// libFuzzer target: bytes decoded as a binlog file, event by event. An input that
// starts with the binlog magic is a file as is (the seeds are real files); any other
// input is a stream whose first byte picks the options (bit 0: verify checksums, bit
// 1: start with CRC32 framing) followed by events. The decoder must return values or
// errors, never crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>

#include "actors/binlog/decoder/binlog_file_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shoal::binlog;
  if (size < 1)
    return 0;
  std::string_view input{reinterpret_cast<const char*>(data), size};
  bool is_file = input.substr(0, binlog_magic.size()) == binlog_magic;
  decoder_options options;
  options.verify_checksums = is_file || (data[0] & 1) != 0;
  std::string bytes{binlog_magic};
  bytes.append(input.substr(is_file ? binlog_magic.size() : 1));
  auto reader = binlog_file_reader::from_bytes(std::move(bytes), "fuzz", options);
  if (!reader)
    return 0;
  if (!is_file && (data[0] & 2))
    reader->decoder().set_checksum(checksum_algorithm::crc32);
  for (int i = 0; i < 10000; ++i) {
    auto ev = reader->next();
    if (!ev || !*ev)
      break;
  }
  return 0;
}

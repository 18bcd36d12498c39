// A bounds-checked cursor over the bytes of one binlog event.
//
// Reads never go past the end: a read that does not fit sets a sticky failure flag,
// returns zero or an empty view and leaves the cursor where it was. Callers read a
// group of fields and then check `ok()` once; any value read after a failure is
// meaningless but harmless. Multi-byte integers are little-endian unless the name
// says `_be` (big-endian, as used by the packed temporal and decimal formats).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shoal::binlog {

class byte_reader {
public:
  byte_reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  explicit byte_reader(std::string_view bytes)
      : data_(reinterpret_cast<const uint8_t*>(bytes.data())), size_(bytes.size()) {}

  // -- state ------------------------------------------------------------------

  /// False once any read did not fit.
  bool ok() const noexcept { return ok_; }
  /// Bytes consumed so far.
  size_t position() const noexcept { return pos_; }
  /// Bytes left to read.
  size_t remaining() const noexcept { return size_ - pos_; }
  /// True when every byte has been read.
  bool at_end() const noexcept { return pos_ == size_; }

  // -- reads --------------------------------------------------------------------

  /// Reads an unsigned little-endian integer of `n` (0..8) bytes.
  uint64_t uint_le(size_t n) {
    if (!take(n))
      return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i)
      v |= uint64_t{data_[pos_ - n + i]} << (8 * i);
    return v;
  }

  /// Reads an unsigned big-endian integer of `n` (0..8) bytes.
  uint64_t uint_be(size_t n) {
    if (!take(n))
      return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i)
      v = (v << 8) | data_[pos_ - n + i];
    return v;
  }

  uint8_t u8() { return static_cast<uint8_t>(uint_le(1)); }
  uint16_t u16() { return static_cast<uint16_t>(uint_le(2)); }
  uint32_t u24() { return static_cast<uint32_t>(uint_le(3)); }
  uint32_t u32() { return static_cast<uint32_t>(uint_le(4)); }
  uint64_t u48() { return uint_le(6); }
  uint64_t u64() { return uint_le(8); }

  /// Reads a length-encoded integer (1, 3, 4 or 9 bytes; 0xfb means NULL and
  /// 0xff is invalid, both fail).
  uint64_t packed_int() {
    uint8_t first = u8();
    if (first < 0xfb)
      return first;
    if (first == 0xfc)
      return uint_le(2);
    if (first == 0xfd)
      return uint_le(3);
    if (first == 0xfe)
      return uint_le(8);
    ok_ = false;
    return 0;
  }

  /// Returns a view of the next `n` bytes and skips them.
  std::string_view bytes(uint64_t n) {
    if (n > remaining()) {
      ok_ = false;
      return {};
    }
    if (!take(static_cast<size_t>(n)))
      return {};
    return {reinterpret_cast<const char*>(data_ + pos_ - n), static_cast<size_t>(n)};
  }

  /// Returns a view of every byte left.
  std::string_view rest() { return bytes(remaining()); }

  /// Skips `n` bytes.
  void skip(uint64_t n) { bytes(n); }

  /// Marks the reader failed (for semantic errors found by the caller).
  void fail() noexcept { ok_ = false; }

private:
  bool take(size_t n) {
    if (!ok_ || n > size_ - pos_) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0; // invariant: pos_ <= size_
  bool ok_ = true;
};

} // namespace shoal::binlog

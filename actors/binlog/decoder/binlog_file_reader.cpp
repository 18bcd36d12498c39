#include "actors/binlog/decoder/binlog_file_reader.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace shoal::binlog {

binlog_file_reader::binlog_file_reader(std::string bytes, std::string name,
                                       decoder_options options)
    : bytes_(std::move(bytes)), name_(std::move(name)), decoder_(options) {
  decoder_.set_source(name_);
}

decode_result<binlog_file_reader> binlog_file_reader::open(const std::string& path,
                                                           decoder_options options) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    decode_error err;
    err.source = path;
    err.what = std::string{"cannot open: "} + std::strerror(errno);
    return err;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    decode_error err;
    err.source = path;
    err.what = "read error";
    return err;
  }
  return from_bytes(std::move(buf).str(), path, options);
}

decode_result<binlog_file_reader>
binlog_file_reader::from_bytes(std::string bytes, std::string name,
                               decoder_options options) {
  if (bytes.compare(0, binlog_magic.size(), binlog_magic) != 0) {
    decode_error err;
    err.source = std::move(name);
    err.what = "not a binlog file (no \\xfe\"bin\" magic)";
    return err;
  }
  return binlog_file_reader{std::move(bytes), std::move(name), options};
}

decode_result<std::optional<binlog_event>> binlog_file_reader::next() {
  if (failed_)
    return *failed_;
  if (position_ == bytes_.size())
    return std::optional<binlog_event>{};
  std::string_view rest{bytes_.data() + position_, bytes_.size() - position_};
  auto header = event_decoder::read_header(rest, position_);
  if (header && header->event_size > rest.size()) {
    decode_error err;
    err.what = "truncated event: header says " + std::to_string(header->event_size) +
               " bytes, file has " + std::to_string(rest.size()) + " left";
    err.offset = position_;
    err.event_type = header->type;
    header = std::move(err);
  }
  if (!header) {
    failed_ = std::move(header).error();
    failed_->source = name_;
    return *failed_;
  }
  auto ev = decoder_.decode(rest.substr(0, header->event_size), position_);
  if (!ev) {
    failed_ = ev.error();
    return *failed_;
  }
  position_ += header->event_size;
  return std::optional<binlog_event>{std::move(*ev)};
}

} // namespace shoal::binlog

#include "tests/support/temp_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <string>
#include <system_error>

namespace shoal::test {

bool keep_tmp() {
  const char* value = std::getenv("SHOAL_KEEP_TMP");
  return value != nullptr && *value != '\0' && std::string_view{value} != "0";
}

temp_dir::temp_dir(std::string_view prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::filesystem::path base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  std::string pattern = (base / ("shoal-" + std::string{prefix} + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  path_ = pattern;
}

temp_dir::temp_dir(temp_dir&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

temp_dir& temp_dir::operator=(temp_dir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

temp_dir::~temp_dir() { remove(); }

void temp_dir::remove() noexcept {
  if (path_.empty())
    return;
  if (keep_tmp()) {
    std::cerr << "shoal: kept temporary folder " << path_.string() << '\n';
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  path_.clear();
}

} // namespace shoal::test

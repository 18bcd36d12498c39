#include "tests/support/temp_dir.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>
#include <unistd.h>

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
  std::ofstream owner(path_ / ".shoal-owner");
  owner << ::getpid() << '\n';
}

namespace {

bool process_alive(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH))
    return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line))
    return false;
  auto paren = line.rfind(')');
  return !(paren + 2 < line.size() && (line[paren + 2] == 'Z' || line[paren + 2] == 'X'));
}

} // namespace

int remove_orphaned_temp_dirs() {
  if (keep_tmp())
    return 0;
  const char* tmp = std::getenv("TMPDIR");
  std::filesystem::path base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  int removed = 0;
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator{base, ec}) {
    if (entry.path().filename().string().rfind("shoal-", 0) != 0)
      continue;
    std::ifstream owner(entry.path() / ".shoal-owner");
    pid_t pid = 0;
    if (!(owner >> pid) || process_alive(pid))
      continue;
    std::error_code ignored;
    if (std::filesystem::remove_all(entry.path(), ignored) > 0)
      ++removed;
  }
  return removed;
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

temp_dir::~temp_dir() {
  remove();
}

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

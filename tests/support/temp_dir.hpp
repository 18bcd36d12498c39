// Temporary folders for tests: one fresh directory per object, removed with it.
//
//   shoal::test::temp_dir dir("mariadb");        // /tmp/shoal-mariadb-Ab12Cd
//   std::ofstream(dir / "my.cnf") << "...";
//
// Set SHOAL_KEEP_TMP=1 in the environment to keep every folder after the test
// (its path is printed to stderr), e.g. to read a server's log after a failure.
//
// Each folder holds a file `.shoal-owner` with the creating process's pid, so
// that remove_orphaned_temp_dirs() can delete folders of test processes that
// died without running destructors (crash, SIGKILL, ctest timeout).

#pragma once

#include <filesystem>
#include <string_view>

namespace shoal::test {

/// True if SHOAL_KEEP_TMP is set to a non-empty value other than "0".
bool keep_tmp();

/// Removes every `$TMPDIR/shoal-*` folder whose `.shoal-owner` names a
/// process that no longer runs (or is a zombie). Does nothing if keep_tmp().
/// Returns how many folders it removed. Safe to call from several processes.
int remove_orphaned_temp_dirs();

/// A directory created on construction and removed recursively on destruction.
/// Move-only; a moved-from object owns nothing. Not thread-safe.
class temp_dir {
public:
  /// Creates `$TMPDIR/shoal-<prefix>-XXXXXX` (TMPDIR defaults to /tmp).
  /// Throws std::system_error if the folder cannot be created.
  explicit temp_dir(std::string_view prefix = "test");

  temp_dir(temp_dir&& other) noexcept;
  temp_dir& operator=(temp_dir&& other) noexcept;
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// Removes the folder and everything in it, unless keep_tmp().
  ~temp_dir();

  /// The absolute path of the folder.
  const std::filesystem::path& path() const { return path_; }

  /// `path() / name`.
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

private:
  void remove() noexcept;

  // Empty after a move.
  std::filesystem::path path_;
};

} // namespace shoal::test

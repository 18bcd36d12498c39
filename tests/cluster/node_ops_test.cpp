// What an operator does to a running `shoal node`: `shoal --version`, and a log
// rotation (move the file away, SIGUSR1: the node writes to a new file at the
// configured path).

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/child_process.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/temp_dir.hpp"

namespace shoal::test {
namespace {

using namespace std::chrono;
using nlohmann::json;

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in{p};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(node_ops, version_prints_the_project_version) {
  process_options o;
  o.program = shoal_binary();
  o.args = {"--version"};
  o.name = "version";
  child_process p{o};
  auto status = p.wait_for_exit(seconds{10});
  ASSERT_TRUE(status && status->success()) << p.output_tail();
  EXPECT_NE(p.output().find("shoal " SHOAL_VERSION), std::string::npos) << p.output();
}

TEST(node_ops, sigusr1_reopens_the_log_file_after_a_rotation) {
  temp_dir dir{"node-ops"};
  auto log = dir.path() / "node.log";
  json cfg{{"node", {{"name", "n1"}, {"port", free_port()}}},
           {"http", {{"port", free_port()}}},
           {"log", {{"file", log.string()}}}};
  auto path = (dir.path() / "n1.json").string();
  std::ofstream{path} << cfg.dump(2);
  process_options o;
  o.program = shoal_binary();
  o.args = {"node", "--config", path};
  o.output_dir = dir.path();
  o.name = "n1";
  child_process node{o};
  ASSERT_TRUE(node.wait_for_output("ready node=n1", seconds{15})) << node.output_tail();
  ASSERT_TRUE(eventually([&] { return !read_all(log).empty(); }, seconds{5}))
      << "the node wrote nothing to its log file";

  auto rotated = dir.path() / "node.log.1";
  std::filesystem::rename(log, rotated);
  ASSERT_TRUE(node.signal(SIGUSR1));
  ASSERT_TRUE(eventually(
      [&] {
        return read_all(log).find("SIGUSR1: log file reopened") != std::string::npos;
      },
      seconds{5}))
      << "no new log file at " << log << "; rotated file:\n"
      << read_all(rotated);
  EXPECT_EQ(read_all(rotated).find("SIGUSR1"), std::string::npos)
      << "the node kept writing to the rotated file";
  node.terminate();
  ASSERT_TRUE(node.wait_for_exit(seconds{20}));
  EXPECT_NE(read_all(log).find("stopped"), std::string::npos) << read_all(log);
}

} // namespace
} // namespace shoal::test

#include "runtime/logging.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace shoal {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in{p};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

TEST(logging, secrets_named_by_the_config_never_reach_the_log) {
  const std::string secret = "Zq9-known-secret-value";
  ::setenv("SHOAL_LOGGING_TEST_MYSQL_PW", secret.c_str(), 1);
  ::setenv("SHOAL_LOGGING_TEST_APP_SECRET", "another-secret-42", 1);
  auto cfg = parse_config(nlohmann::json::parse(R"({
    "node": {"name": "n1", "port": 7101},
    "mysql": {"main": {"port": 3306, "password_env": "SHOAL_LOGGING_TEST_MYSQL_PW"}},
    "tokens": {"providers": [{"name": "wx", "secret_env": "SHOAL_LOGGING_TEST_APP_SECRET"}]}
  })"));
  ASSERT_TRUE(cfg);
  add_secrets_of(*cfg);

  test::temp_dir dir{"logging"};
  log_config lc;
  lc.file = (dir / "node.log").string();
  lc.level = "debug";
  ASSERT_EQ(configure_logging(lc, "n1"), std::nullopt);
  log().error("connect to mysql://root:{}@127.0.0.1 failed", secret);
  log().warn("GET /cgi-bin/token?appid=x&secret=another-secret-42 timed out");
  log().debug("plain line");
  log().flush();

  auto text = read_file(lc.file);
  EXPECT_EQ(text.find(secret), std::string::npos) << text;
  EXPECT_EQ(text.find("another-secret-42"), std::string::npos) << text;
  EXPECT_NE(text.find("mysql://root:***@127.0.0.1"), std::string::npos) << text;
  EXPECT_NE(text.find("secret=*** timed out"), std::string::npos) << text;
  EXPECT_NE(text.find("debug [n1] plain line"), std::string::npos) << text;
}

TEST(logging, json_format_writes_one_object_per_line_and_respects_level) {
  test::temp_dir dir{"logging"};
  log_config lc;
  lc.file = (dir / "node.log").string();
  lc.format = "json";
  lc.level = "warn";
  ASSERT_EQ(configure_logging(lc, "n7"), std::nullopt);
  log().info("not shown");
  log().warn("quoted \"value\" and a\nnewline");
  log().flush();
  std::istringstream lines{read_file(lc.file)};
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("node"), "n7");
    EXPECT_EQ(j.at("level"), "warning");
    EXPECT_EQ(j.at("msg"), "quoted \"value\" and a\nnewline");
    ++count;
  }
  EXPECT_EQ(count, 1);
}

TEST(logging, unwritable_log_file_is_reported) {
  log_config lc;
  lc.file = "/nonexistent-dir/node.log";
  auto err = configure_logging(lc, "n1");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(*err, "cannot open log file /nonexistent-dir/node.log");
}

TEST(logging, short_values_are_not_treated_as_secrets) {
  add_secret("ab");
  EXPECT_EQ(redact("abc ab"), "abc ab");
  add_secret("longer-secret");
  EXPECT_EQ(redact("x longer-secret y longer-secret"), "x *** y ***");
}

} // namespace
} // namespace shoal

// install_test: shoal used the way a project outside the tree uses it. `cmake --install`
// of this build into a temporary prefix; then tests/install/app is configured and built
// against that prefix with find_package(shoal CONFIG), and compiled once more with
// `pkg-config --cflags --libs shoal`. Each binary runs against a real Redis and the
// token stand-in: it starts an engine from a config, gets a token and reads a key
// through the hot cache.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/standins/token_standin.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace shoal::test {
namespace {

using namespace std::chrono;
using nlohmann::json;
namespace fs = std::filesystem;

std::string env_or(const char* name, const std::string& fallback) {
  auto v = std::getenv(name);
  return v ? v : fallback;
}

class install_test : public ::testing::Test {
protected:
  /// Runs `program args` to its end within `timeout`; fails the test (with the
  /// command's output) unless it exits 0. Returns its stdout.
  std::string run(const std::string& name, const std::string& program,
                  std::vector<std::string> args, seconds timeout,
                  std::vector<std::pair<std::string, std::string>> env = {}) {
    process_options opts;
    opts.program = program;
    opts.args = std::move(args);
    opts.env = std::move(env);
    opts.name = name;
    opts.output_dir = dir_.path();
    child_process p{opts};
    auto status = p.wait_for_exit(timeout);
    EXPECT_TRUE(status && status->success())
        << name << ": "
        << (status ? status->to_string() : "still running at the deadline") << '\n'
        << p.output_tail();
    return p.output(output_stream::out);
  }

  /// Runs the application built against the installed package and checks what it
  /// printed.
  void expect_app_works(const fs::path& app) {
    ASSERT_TRUE(fs::exists(app)) << app;
    redis_.connect().command({"SET", "sku:1", "from redis"});
    auto out =
        run(app.filename().string(), app.string(), {config_.string(), "wx", "sku:1"},
            seconds{60}, {{"SHOAL_TEST_WX_SECRET", "wx-test-secret"}});
    std::smatch token;
    ASSERT_TRUE(std::regex_search(out, token, std::regex{"token (\\S+)"})) << out;
    EXPECT_EQ(upstream_.check(token[1]), 0)
        << "not a token the stand-in issued: " << token[1];
    EXPECT_NE(out.find("read loader from redis\nread hot_cache from redis\nloads 1\n"),
              std::string::npos)
        << "the second read did not come from the hot cache:\n"
        << out;
  }

  void SetUp() override {
    ASSERT_NE(upstream_.start(), 0);
    json provider{{"name", "wx"},
                  {"kind", "wechat"},
                  {"base_url", upstream_.base_url()},
                  {"appid", "wx-test-app"},
                  {"secret_env", "SHOAL_TEST_WX_SECRET"},
                  {"daily_quota", 0}};
    json cfg{{"node", {{"name", "app"}, {"port", free_port()}}},
             {"log", {{"level", "info"}}},
             {"redis", {{"port", redis_.port()}, {"timeout_ms", 1000}}},
             {"tokens", {{"lease_ms", 1500}, {"providers", json::array({provider})}}},
             {"hotkeys",
              {{"rules", json::array({{{"prefix", "sku:"}, {"threshold", 1000000}}})}}}};
    config_ = dir_.path() / "app.json";
    std::ofstream{config_} << cfg.dump(2);
  }

  void TearDown() override { upstream_.stop(); }

  temp_dir dir_{"install"};
  redis_server redis_;
  standins::token_standin upstream_;
  fs::path config_;
  std::string binary_dir_ = env_or("SHOAL_BINARY_DIR", ".");
  std::string source_dir_ = env_or("SHOAL_SOURCE_DIR", ".");
};

TEST_F(install_test,
       an_application_outside_the_tree_builds_and_runs_against_the_package) {
  auto prefix = dir_.path() / "prefix";
  run("install", "cmake", {"--install", binary_dir_, "--prefix", prefix.string()},
      seconds{120});
  ASSERT_FALSE(HasFailure());
  for (auto installed :
       {"bin/shoal", "include/shoal/runtime/engine.hpp",
        "include/shoal/runtime/base/expected.hpp", SHOAL_INSTALL_LIBDIR "/libshoal.a",
        SHOAL_INSTALL_LIBDIR "/cmake/shoal/shoalConfig.cmake",
        SHOAL_INSTALL_LIBDIR "/pkgconfig/shoal.pc"})
    EXPECT_TRUE(fs::exists(prefix / installed)) << installed << " was not installed";
  ASSERT_FALSE(HasFailure());

  auto build = dir_.path() / "app-build";
  std::vector<std::string> configure{"-S",
                                     source_dir_ + "/tests/install/app",
                                     "-B",
                                     build.string(),
                                     "-G",
                                     "Ninja",
                                     "-DCMAKE_CXX_COMPILER=" SHOAL_CXX_COMPILER,
                                     "-DCMAKE_PREFIX_PATH=" + prefix.string(),
                                     "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF"};
  const std::string app_flags = SHOAL_APP_FLAGS;
  if (!app_flags.empty()) {
    configure.push_back("-DCMAKE_CXX_FLAGS=" + app_flags);
    configure.push_back("-DCMAKE_EXE_LINKER_FLAGS=" + app_flags);
  }
  run("configure", "cmake", configure, seconds{120});
  ASSERT_FALSE(HasFailure());
  run("build", "cmake", {"--build", build.string()}, seconds{600});
  ASSERT_FALSE(HasFailure());
  expect_app_works(build / "shoal_install_app");
  ASSERT_FALSE(HasFailure());

  // The same source, compiled with what `pkg-config --cflags --libs shoal` says.
  auto pc_app = dir_.path() / "shoal_install_app_pc";
  run("pkg-config-build", "sh",
      {"-c",
       "exec \"$0\" -std=c++17 $3 -o \"$1\" \"$2\" $(pkg-config --cflags --libs shoal)",
       SHOAL_CXX_COMPILER, pc_app.string(), source_dir_ + "/tests/install/app/main.cpp",
       app_flags},
      seconds{600},
      {{"PKG_CONFIG_PATH", (prefix / SHOAL_INSTALL_LIBDIR / "pkgconfig").string()}});
  ASSERT_FALSE(HasFailure());
  expect_app_works(pc_app);
}

} // namespace
} // namespace shoal::test

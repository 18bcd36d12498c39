// shoal-token-standin: runs the token platform stand-in until SIGINT or SIGTERM.
// Prints the bound port as the first line of stdout, so a test that passes
// --port 0 can read where to connect.

#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

#include "tests/standins/token_standin.hpp"

int main(int argc, char** argv) {
  shoal::standins::token_standin_options options;
  CLI::App app{"Stand-in for a WeChat-style / OAuth2 token endpoint"};
  std::string host = "127.0.0.1";
  int port = 0;
  int64_t expiry_ms = options.expiry.count();
  int64_t grace_ms = options.grace.count();
  int64_t latency_ms = 0;
  int64_t hang_ms = options.hang.count();
  int64_t force_interval_ms = options.force_refresh_min_interval.count();
  std::vector<std::string> apps;
  std::vector<std::string> errors(options.errors.begin(), options.errors.end());
  app.add_option("--host", host, "address to bind")->capture_default_str();
  app.add_option("--port", port, "port to bind; 0 picks a free one")
      ->capture_default_str();
  app.add_option("--expiry-ms", expiry_ms, "token lifetime")->capture_default_str();
  app.add_option("--grace-ms", grace_ms, "old token validity after a refresh")
      ->capture_default_str();
  app.add_option("--quota", options.daily_quota, "calls per app, endpoint and UTC day")
      ->capture_default_str();
  app.add_option("--force-refresh-limit", options.force_refresh_daily_limit,
                 "stable_token force_refresh calls per day")
      ->capture_default_str();
  app.add_option("--force-refresh-interval-ms", force_interval_ms,
                 "shortest time between two force_refresh calls")
      ->capture_default_str();
  app.add_option("--latency-ms", latency_ms, "delay before every token answer")
      ->capture_default_str();
  app.add_option("--error-rate", options.error_rate, "probability of an injected error")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--errors", errors, "injected error kinds: 5xx, busy, malformed")
      ->check(CLI::IsMember({"5xx", "busy", "malformed"}));
  app.add_option("--timeout-rate", options.timeout_rate, "probability of a hang")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--hang-ms", hang_ms, "length of an injected hang")
      ->capture_default_str();
  app.add_option("--seed", options.seed, "seed of all randomness")->capture_default_str();
  app.add_option("--app", apps,
                 "known app as ID:SECRET (repeatable); default "
                 "wx-test-app:wx-test-secret");
  CLI11_PARSE(app, argc, argv);

  if (expiry_ms < 1000) {
    std::cerr << "--expiry-ms must be at least 1000\n";
    return 2;
  }
  options.expiry = std::chrono::milliseconds(expiry_ms);
  options.grace = std::chrono::milliseconds(grace_ms);
  options.latency = std::chrono::milliseconds(latency_ms);
  options.hang = std::chrono::milliseconds(hang_ms);
  options.force_refresh_min_interval = std::chrono::milliseconds(force_interval_ms);
  options.errors = std::set<std::string>(errors.begin(), errors.end());
  if (!apps.empty()) {
    options.apps.clear();
    for (auto& entry : apps) {
      auto colon = entry.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == entry.size()) {
        std::cerr << "--app expects ID:SECRET\n";
        return 2;
      }
      options.apps[entry.substr(0, colon)] = entry.substr(colon + 1);
    }
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  shoal::standins::token_standin standin(options);
  auto bound = standin.start(host, port);
  if (bound == 0) {
    std::cerr << "cannot bind " << host << ":" << port << "\n";
    return 1;
  }
  std::cout << bound << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  standin.stop();
  return 0;
}

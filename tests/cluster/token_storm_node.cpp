// token_storm_node: a shoal node (embedded engine) whose application threads call
// tokens().get() in a loop, for the token cluster tests.
//
//   token_storm_node CONFIG PROVIDER THREADS CHECK_URL [PAUSE_US]
//
// Each thread pauses PAUSE_US (default 100) between gets, as an application does
// work between calls; without it 100 spinning threads on a small test machine
// starve the node's own actors and heartbeats.
// When the environment names SHOAL_TEST_REJECT_FILE and that file appears, the
// node takes it (renames it to FILE.done) and reports as rejected the token with
// the version written in the file, as this node saw it.
//
// Prints "storm ready" once the first token is there and the threads run. A
// checker thread checks every token a thread saw for the first time, and the
// current token every 50 ms, at the stand-in (CHECK_URL/check). On SIGTERM it stops and
// prints one JSON line: gets, errors, checks, invalid (with the first failures),
// late_checks (checks answered after the token's own expiry, not counted as invalid),
// min_left_ms (the least life a token had left when get() returned it), and every
// distinct token seen.

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/engine.hpp"
#include "runtime/token_service.hpp"

namespace {

using namespace std::chrono;

struct totals {
  std::mutex mutex;
  int64_t gets = 0;
  int64_t errors = 0;
  int64_t checks = 0;
  int64_t invalid = 0;
  /// Checks sent only after the token had expired (not counted as invalid).
  int64_t late_checks = 0;
  int64_t min_left_ms = std::numeric_limits<int64_t>::max();
  std::vector<std::string> failures;
  std::set<std::string> tokens;
};

int check(httplib::Client& http, const std::string& token) {
  auto res = http.Get(("/check?access_token=" + token).c_str());
  if (!res)
    return -2;
  return nlohmann::json::parse(res->body).value("errcode", -3);
}

/// Tokens the threads saw first and that the checker has not checked yet.
struct sightings {
  std::mutex mutex;
  std::vector<const shoal::token::token_snapshot*> fresh;
};

void storm(const shoal::engine& eng, const std::string& provider, microseconds pause,
           std::atomic<bool>& stop, sightings& seen, totals& out) {
  int64_t gets = 0, errors = 0;
  int64_t min_left = std::numeric_limits<int64_t>::max();
  std::vector<std::string> failures;
  const shoal::token::token_snapshot* last = nullptr;
  while (!stop.load(std::memory_order_relaxed)) {
    auto t = eng.tokens().get(provider);
    ++gets;
    if (!t) {
      ++errors;
      if (failures.size() < 5)
        failures.push_back("get: " + t.error);
      continue;
    }
    min_left = std::min<int64_t>(
        min_left,
        duration_cast<milliseconds>(t.snapshot->expires_at - shoal::token::clock::now())
            .count());
    if (t.snapshot != last) {
      last = t.snapshot;
      std::lock_guard<std::mutex> guard(seen.mutex);
      seen.fresh.push_back(last);
    }
    if (pause.count() > 0)
      std::this_thread::sleep_for(pause);
  }
  std::lock_guard<std::mutex> guard(out.mutex);
  out.gets += gets;
  out.errors += errors;
  out.min_left_ms = std::min(out.min_left_ms, min_left);
  for (auto& f : failures)
    if (out.failures.size() < 10)
      out.failures.push_back(f);
}

/// Checks at the stand-in every token a thread saw for the first time, right
/// away, and the current token every 50 ms: one connection per process, so that
/// checking does not crowd out the keeper's own calls.
void checker(const shoal::engine& eng, const std::string& provider,
             const std::string& url, std::atomic<bool>& stop, sightings& seen,
             totals& out) {
  httplib::Client http{url};
  http.set_connection_timeout(2, 0);
  http.set_read_timeout(5, 0);
  std::set<const shoal::token::token_snapshot*> checked;
  auto reject_file = std::getenv("SHOAL_TEST_REJECT_FILE");
  std::map<uint64_t, const shoal::token::token_snapshot*> by_version;
  auto verify = [&](const shoal::token::token_snapshot* t) {
    auto code = check(http, t->token);
    auto answered = shoal::token::clock::now();
    std::lock_guard<std::mutex> guard(out.mutex);
    ++out.checks;
    out.tokens.insert(t->token);
    // The stand-in's expiry is never before ours, so "expired" is a failure only
    // when the stand-in judged the token before our expiry, i.e. answered before
    // it. A check answered after it (this checker fell behind, or the stand-in
    // took seconds to answer: a loaded machine, a sanitizer build) says nothing
    // about what get() handed out; min_left_ms covers that.
    if (code == 42001 && answered >= t->expires_at) {
      ++out.late_checks;
      return;
    }
    if (code != 0) {
      ++out.invalid;
      if (out.failures.size() < 10)
        out.failures.push_back("check " + t->token + " v" + std::to_string(t->version) +
                               ": " + std::to_string(code));
    }
  };
  while (!stop.load()) {
    std::vector<const shoal::token::token_snapshot*> batch;
    {
      std::lock_guard<std::mutex> guard(seen.mutex);
      batch.swap(seen.fresh);
    }
    for (auto* t : batch)
      if (checked.insert(t).second)
        verify(t);
    if (auto t = eng.tokens().get(provider)) {
      verify(t.snapshot);
      by_version[t.snapshot->version] = t.snapshot;
    }
    std::string taken = reject_file ? std::string{reject_file} + ".done" : "";
    if (reject_file && std::rename(reject_file, taken.c_str()) == 0) {
      uint64_t version = 0;
      std::ifstream{taken} >> version;
      auto t = by_version.find(version);
      if (t != by_version.end())
        eng.tokens().rejected(provider, t->second->token);
      std::cout << "rejected v" << version
                << (t == by_version.end() ? " (never seen)" : "") << std::endl;
    }
    std::this_thread::sleep_for(milliseconds{50});
  }
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::cerr << "usage: token_storm_node CONFIG PROVIDER THREADS CHECK_URL [PAUSE_US]\n";
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::string provider = argv[2];
  int threads = std::stoi(argv[3]);
  std::string url = argv[4];
  microseconds pause{argc == 6 ? std::stoll(argv[5]) : 100};
  std::string error;
  auto eng = shoal::engine::start_file(argv[1], &error);
  if (!eng) {
    std::cerr << "cannot start: " << error << '\n';
    return 1;
  }
  std::cout << "ready node=" << eng->cfg().node.name << " http=" << eng->http_port()
            << std::endl;
  auto first = eng->tokens().get(provider, seconds{20});
  if (!first) {
    std::cerr << "no first token: " << first.error << '\n';
    return 1;
  }
  std::atomic<bool> stop{false};
  totals out;
  std::vector<std::thread> pool;
  sightings seen;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&] { storm(*eng, provider, pause, stop, seen, out); });
  pool.emplace_back([&] { checker(*eng, provider, url, stop, seen, out); });
  std::cout << "storm ready" << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  stop = true;
  for (auto& t : pool)
    t.join();
  nlohmann::json j{{"gets", out.gets},
                   {"errors", out.errors},
                   {"checks", out.checks},
                   {"invalid", out.invalid},
                   {"min_left_ms", out.min_left_ms},
                   {"late_checks", out.late_checks},
                   {"failures", out.failures},
                   {"tokens", out.tokens}};
  std::cout << "result " << j.dump() << std::endl;
  eng->stop();
  return 0;
}

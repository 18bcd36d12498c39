// The stand-in as a separate process, the way cluster tests and benches run it.

#include <csignal>
#include <regex>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "actors/token/core/provider.hpp"
#include "runtime/adapters/http_client.hpp"
#include "tests/support/child_process.hpp"

namespace shoal::token {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::child_process;
using test::output_stream;
using test::process_options;

TEST(token_standin_process, prints_its_port_and_serves_until_terminated) {
  process_options o;
  o.program = SHOAL_TOKEN_STANDIN;
  o.args = {"--port", "0",       "--expiry-ms", "2000",  "--grace-ms",
            "500",    "--quota", "2",           "--app", "proc-app:proc-secret",
            "--seed", "3"};
  child_process standin(o);
  auto first_line =
      standin.wait_for_match(std::regex("^([0-9]+)\n"), 30s, output_stream::out);
  ASSERT_TRUE(first_line) << standin.output_tail();
  auto base = "http://127.0.0.1:" + (*first_line)[1];

  provider_config c;
  c.name = "proc";
  c.kind = provider_kind::wechat;
  c.base_url = base;
  c.token_path = "/cgi-bin/token";
  c.client_id = "proc-app";
  c.secret = "proc-secret";
  provider p(c);
  http_client client(base, {});
  auto get = [&] {
    auto req = p.build_request();
    auto reply = client.send({req.method, req.target, req.headers, req.body, ""});
    auto& r = std::get<http_response>(reply);
    return p.parse_reply(r.status, r.body);
  };
  auto a = get();
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a.value().expires_in, 2s);
  ASSERT_TRUE(get().ok());
  auto over = get();
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().kind, error_class::quota_exhausted);

  auto stats = client.send({"GET", "/stats", {}, "", ""});
  auto j = json::parse(std::get<http_response>(stats).body);
  EXPECT_EQ(j["calls"]["token"]["ok"], 2);
  EXPECT_EQ(j["calls"]["token"]["errcode_45009"], 1);

  ASSERT_TRUE(standin.terminate());
  auto status = standin.wait_for_exit(30s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << status->to_string();
}

TEST(token_standin_process, rejects_bad_flags) {
  process_options o;
  o.program = SHOAL_TOKEN_STANDIN;
  o.args = {"--error-rate", "3"};
  child_process standin(o);
  // Generous: a sanitizer build on a loaded 2-core machine took 11 s to start
  // and exit.
  auto status = standin.wait_for_exit(60s);
  ASSERT_TRUE(status);
  EXPECT_FALSE(status->success());
}

} // namespace
} // namespace shoal::token

#include "runtime/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

namespace shoal {
namespace {

using nlohmann::json;

json minimal() {
  return json::parse(R"({"node": {"name": "n1", "port": 7101}})");
}

std::vector<std::string> errors_of(const json& doc) {
  auto result = parse_config(doc);
  EXPECT_FALSE(result) << "expected errors";
  return result.error();
}

bool contains(const std::vector<std::string>& errors, const std::string& text) {
  return std::any_of(errors.begin(), errors.end(),
                     [&](const std::string& e) { return e == text; });
}

std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (auto& e : errors)
    out += e + "\n";
  return out;
}

TEST(config, minimal_config_gets_defaults) {
  auto result = parse_config(minimal());
  ASSERT_TRUE(result) << joined(result.error());
  auto& c = *result;
  EXPECT_EQ(c.node.name, "n1");
  EXPECT_EQ(c.node.listen.host, "127.0.0.1");
  EXPECT_EQ(c.node.listen.port, 7101);
  EXPECT_TRUE(c.cluster.peers.empty());
  EXPECT_EQ(c.cluster.heartbeat_ms, 500);
  EXPECT_EQ(c.cluster.connection_timeout_ms, 2000);
  EXPECT_FALSE(c.tls.enabled());
  EXPECT_TRUE(c.http.enabled);
  EXPECT_EQ(c.http.listen.host, "127.0.0.1");
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.node_names(), std::vector<std::string>{"n1"});
}

TEST(config, error_names_the_json_path_of_a_pipeline_port) {
  auto doc = minimal();
  doc["sync"] = json::parse(R"({"pipelines": [{
      "name": "orders",
      "source": {"port": "abc", "server_id": 100},
      "target": {"port": 3307}}]})");
  auto errors = errors_of(doc);
  EXPECT_TRUE(contains(
      errors, "config error at $.sync.pipelines[0].source.port: expected integer "
              "1..65535, got \"abc\""))
      << joined(errors);
}

TEST(config, every_error_is_reported_in_one_pass) {
  auto doc = json::parse(R"({
    "node": {"name": "n1", "port": 70000},
    "cluster": {"peers": [{"name": "n2"}], "heartbeat_ms": "fast"},
    "log": {"level": "loud"}
  })");
  auto errors = errors_of(doc);
  EXPECT_TRUE(contains(
      errors, "config error at $.node.port: expected integer 0..65535, got 70000"))
      << joined(errors);
  EXPECT_TRUE(contains(
      errors,
      "config error at $.cluster.peers[0].port: required integer 1..65535 is missing"))
      << joined(errors);
  EXPECT_TRUE(contains(
      errors,
      "config error at $.cluster.heartbeat_ms: expected integer 50..60000, got \"fast\""))
      << joined(errors);
  EXPECT_TRUE(contains(
      errors, "config error at $.log.level: expected one of trace, debug, info, warn, "
              "error, critical, off, got \"loud\""))
      << joined(errors);
}

TEST(config, unknown_keys_are_errors) {
  auto doc = minimal();
  doc["node"]["prot"] = 1;
  doc["htp"] = json::object();
  auto errors = errors_of(doc);
  EXPECT_TRUE(
      contains(errors, "config error at $.node.prot: unknown key (check its spelling)"))
      << joined(errors);
  EXPECT_TRUE(contains(errors, "config error at $.htp: unknown key (check its spelling)"))
      << joined(errors);
}

// Figures that size memory up front are bounded when read: 2^32 cache entries
// used to reserve a frequency sketch of about 20 GiB at start.
TEST(config, cache_sizes_are_bounded_when_read) {
  auto doc = minimal();
  doc["hotkeys"] = json::parse(
      R"({"cache_max_entries": 4294967296,
          "rules": [{"key": "a", "threshold": 1,
                     "cache": {"max_entries": 18446744073709551615}}]})");
  auto errors = errors_of(doc);
  EXPECT_TRUE(contains(errors, "config error at $.hotkeys.cache_max_entries: expected "
                               "integer 1..16777216, got 4294967296"))
      << joined(errors);
  EXPECT_TRUE(contains(errors, "config error at $.hotkeys: $.hotkeys.rules[0].cache."
                               "max_entries: expected integer from 1 to 16777216, got "
                               "18446744073709551615"))
      << joined(errors);
  doc["hotkeys"] = json::parse(
      R"({"cache_max_entries": 16777216,
          "rules": [{"key": "a", "threshold": 1, "cache": {"max_entries": 16777216}}]})");
  EXPECT_TRUE(parse_config(doc)) << joined(parse_config(doc).error());
}

TEST(config, the_hot_key_http_api_needs_its_secret) {
  auto doc = minimal();
  doc["hotkeys"] = json::parse(R"({"http_api": {}})");
  auto errors = errors_of(doc);
  EXPECT_TRUE(contains(errors, "config error at $.hotkeys.http_api.secret_env: required: "
                               "the environment variable holding the bearer secret the "
                               "API demands"))
      << joined(errors);
  doc["hotkeys"] = json::parse(R"({"http_api": {"secret_env": "SHOAL_HK_API"}})");
  auto parsed = parse_config(doc);
  ASSERT_TRUE(parsed) << joined(parsed.error());
  EXPECT_TRUE(parsed->hotkeys.http_api);
  EXPECT_EQ(parsed->hotkeys.http_api_secret_env, "SHOAL_HK_API");
  doc["hotkeys"] = json::object();
  parsed = parse_config(doc);
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->hotkeys.http_api) << "the mutating routes are off by default";
}

TEST(config, the_hot_key_sidecar_keys_are_checked_with_their_paths) {
  auto doc = minimal();
  doc["hotkeys"] = json::parse(R"({
    "udp": {"listen": "127.0.0.1", "secret_env": "bad name"},
    "stream": {"max_subscribers": 0, "redis_channel": "events"},
    "loader": {"redis_get": "item", "http": "ftp://x/{key}"}})");
  auto errors = errors_of(doc);
  for (auto& expected : std::vector<std::string>{
           "config error at $.hotkeys.udp.listen: expected \"host:port\" (port "
           "0..65535), got \"127.0.0.1\"",
           "config error at $.hotkeys.stream.max_subscribers: expected integer 1..64, "
           "got 0",
           "config error at $.hotkeys.stream.redis_channel: needs $.redis (the server "
           "that "
           "carries the channel)",
           "config error at $.hotkeys.stream: needs $.hotkeys.http_api: the stream "
           "demands "
           "its bearer secret",
           "config error at $.hotkeys.loader: expected exactly one of redis_get "
           "(\"prefix:{key}\") and http (\"http://host:port/path/{key}\")",
           "config error at $.hotkeys.loader.redis_get: must contain {key} (where the "
           "key "
           "goes), got \"item\"",
           "config error at $.hotkeys.loader.http: expected an http:// or https:// URL, "
           "got "
           "\"ftp://x/{key}\""})
    EXPECT_TRUE(contains(errors, expected)) << expected << "\nin\n" << joined(errors);
  EXPECT_TRUE(std::any_of(errors.begin(), errors.end(), [](const std::string& e) {
    return e.rfind("config error at $.hotkeys.udp.secret_env:", 0) == 0;
  })) << joined(errors);

  doc["redis"] = json::parse(R"({"port": 6379})");
  doc["hotkeys"] = json::parse(R"({
    "http_api": {"secret_env": "SHOAL_HK_API"},
    "udp": {"listen": "0.0.0.0:9125", "secret_env": "SHOAL_HK_UDP"},
    "stream": {"max_subscribers": 8, "redis_channel": "shoal:hotkeys:events"},
    "loader": {"http": "http://127.0.0.1:8080/items/{key}", "timeout_ms": 300}})");
  auto parsed = parse_config(doc);
  ASSERT_TRUE(parsed) << joined(parsed.error());
  auto& h = parsed->hotkeys;
  EXPECT_TRUE(h.udp);
  EXPECT_EQ(h.udp_listen.host, "0.0.0.0");
  EXPECT_EQ(h.udp_listen.port, 9125);
  EXPECT_EQ(h.udp_secret_env, "SHOAL_HK_UDP");
  EXPECT_EQ(h.stream_max_subscribers, 8);
  EXPECT_EQ(h.events_channel, "shoal:hotkeys:events");
  EXPECT_EQ(h.loader_http, "http://127.0.0.1:8080/items/{key}");
  EXPECT_EQ(h.loader_timeout_ms, 300);
  doc["hotkeys"]["loader"] = json::parse(R"({"redis_get": "item:{key}"})");
  doc["hotkeys"]["udp"] = json::parse(R"({"listen": "127.0.0.1:70000"})");
  errors = errors_of(doc);
  EXPECT_TRUE(contains(errors, "config error at $.hotkeys.udp.listen: expected "
                               "\"host:port\" (port 0..65535), got \"127.0.0.1:70000\""))
      << joined(errors);
  EXPECT_EQ(errors.size(), 1u) << joined(errors);
}

TEST(config, missing_node_section_is_an_error) {
  auto errors = errors_of(json::object());
  EXPECT_TRUE(contains(errors, "config error at $.node: required object is missing"))
      << joined(errors);
  EXPECT_FALSE(parse_config(json::array()));
}

TEST(config, secrets_are_never_inline) {
  auto doc = minimal();
  doc["redis"] = json::parse(R"({"port": 6379, "password": "hunter22"})");
  doc["mysql"] =
      json::parse(R"({"main": {"port": 3306, "password_env": "not a name!"}})");
  auto errors = errors_of(doc);
  EXPECT_TRUE(contains(
      errors, "config error at $.redis.password: passwords are never written inline: "
              "name an environment variable in password_env"))
      << joined(errors);
  auto named = std::any_of(errors.begin(), errors.end(), [](const std::string& e) {
    return e.rfind("config error at $.mysql.main.password_env: expected the name of an "
                   "environment variable",
                   0) == 0;
  });
  EXPECT_TRUE(named) << joined(errors);
  // The inline secret itself is never echoed back.
  EXPECT_EQ(joined(errors).find("hunter22"), std::string::npos);
}

TEST(config, peers_and_references_must_be_consistent) {
  auto doc = minimal();
  doc["cluster"] = json::parse(R"({"peers": [
      {"name": "n2", "port": 7102}, {"name": "n2", "port": 7103}, {"name": "n1", "port": 7104}]})");
  doc["tokens"] = json::parse(R"({"keepers": ["n2", "n9"]})");
  auto errors = errors_of(doc);
  EXPECT_TRUE(contains(
      errors, "config error at $.cluster.peers[1].name: node name \"n2\" is used twice"))
      << joined(errors);
  EXPECT_TRUE(contains(
      errors, "config error at $.cluster.peers[2].name: node name \"n1\" is used twice"))
      << joined(errors);
  EXPECT_TRUE(contains(errors, "config error at $.tokens.keepers[1]: unknown node \"n9\" "
                               "(not this node nor a peer)"))
      << joined(errors);
}

TEST(config, the_token_mirror_names_a_known_server_and_a_qualified_table) {
  auto doc = minimal();
  doc["mysql"] = json::parse(R"({"main": {"port": 3306}})");
  doc["tokens"] = json::parse(R"({"mirror": {"mysql": "other", "table": "tokens"}})");
  auto errors = errors_of(doc);
  EXPECT_TRUE(contains(errors,
                       "config error at $.tokens.mirror.mysql: unknown MySQL server "
                       "\"other\" (not a key of $.mysql)"))
      << joined(errors);
  EXPECT_TRUE(contains(errors, "config error at $.tokens.mirror.table: expected "
                               "\"database.table\", got \"tokens\""))
      << joined(errors);
  doc["tokens"] = json::parse(R"({"mirror": {"mysql": "main"}})");
  auto ok = parse_config(doc);
  ASSERT_TRUE(ok) << joined(ok.error());
  EXPECT_EQ(ok->tokens.mirror_mysql, "main");
  EXPECT_EQ(ok->tokens.mirror_table, "shoal.token_mirror");
}

TEST(config, tls_files_come_together_and_must_exist) {
  auto doc = minimal();
  doc["tls"] = json::parse(R"({"certificate": "/nonexistent/n1.pem"})");
  auto errors = errors_of(doc);
  EXPECT_TRUE(contains(
      errors, "config error at $.tls: certificate, key and cafile must be set together "
              "(mutual TLS)"))
      << joined(errors);
  EXPECT_TRUE(contains(
      errors, "config error at $.tls.certificate: file not found: /nonexistent/n1.pem"))
      << joined(errors);
}

TEST(config, https_on_the_http_port_needs_a_certificate_and_a_key) {
  auto doc = minimal();
  doc["http"] = json::parse(R"({"tls": {"key": "/nonexistent/n1.key",
                                         "passphrase_env": "bad name"}})");
  auto errors = errors_of(doc);
  EXPECT_TRUE(contains(errors,
                       "config error at $.http.tls: certificate and key must be set "
                       "together (client_cafile needs both)"))
      << joined(errors);
  EXPECT_TRUE(contains(
      errors, "config error at $.http.tls.key: file not found: /nonexistent/n1.key"))
      << joined(errors);
  EXPECT_TRUE(contains(errors,
                       "config error at $.http.tls.passphrase_env: expected the name "
                       "of an environment variable (letters, digits, _), got "
                       "\"bad name\"; secrets are never written inline"))
      << joined(errors);

  doc["http"] = json::parse(R"({"tls": {"certificate": "/etc/hostname",
      "key": "/etc/hostname", "client_cafile": "/etc/hostname", "ciphers": "x"}})");
  errors = errors_of(doc);
  EXPECT_TRUE(contains(
      errors, "config error at $.http.tls.ciphers: unknown key (check its spelling)"))
      << joined(errors);

  doc["http"] = json::parse(R"({"tls": {"certificate": "/etc/hostname",
      "key": "/etc/hostname", "client_cafile": "/etc/hostname"}})");
  auto ok = parse_config(doc);
  ASSERT_TRUE(ok) << joined(ok.error());
  EXPECT_TRUE(ok->http.tls.enabled());
  EXPECT_EQ(ok->http.tls.client_cafile, "/etc/hostname");
  EXPECT_FALSE(parse_config(minimal())->http.tls.enabled());
}

TEST(config, pipeline_start_forms) {
  auto doc = minimal();
  doc["sync"] = json::parse(R"({"pipelines": [
    {"name": "a", "source": {"server_id": 7}, "target": {"port": 3307}, "start": "current"},
    {"name": "b", "source": {"server_id": 8}, "target": {"port": 3307},
     "start": {"file": "mysql-bin.000003", "position": 1234}},
    {"name": "c", "source": {"server_id": 9}, "target": {"port": 3307},
     "start": {"gtid": "0-1-42"}, "rename": {"shop": "copy"}}]})");
  auto result = parse_config(doc);
  ASSERT_TRUE(result) << joined(result.error());
  auto& p = result->sync.pipelines;
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].start.mode, "current");
  EXPECT_EQ(p[0].node, "n1");
  EXPECT_EQ(p[1].start.mode, "position");
  EXPECT_EQ(p[1].start.file, "mysql-bin.000003");
  EXPECT_EQ(p[1].start.position, 1234u);
  EXPECT_EQ(p[2].start.mode, "gtid");
  EXPECT_EQ(p[2].start.gtid, "0-1-42");
  EXPECT_EQ(p[2].rename.at("shop"), "copy");
  EXPECT_EQ(p[2].server_id, 9u);
}

TEST(config, hot_cache_invalidation_names_a_pipeline_a_table_it_reads_and_a_template) {
  auto doc = minimal();
  doc["sync"] = json::parse(R"({"pipelines": [
    {"name": "shop", "source": {"server_id": 7}, "target": {"port": 3307},
     "include": ["shop.*"], "exclude": ["shop.audit"]}]})");
  doc["hotkeys"] = json::parse(R"({"invalidate_from": [
    {"pipeline": "shop", "table": "shop.sku", "key": "sku:{id}"}]})");
  auto ok = parse_config(doc);
  ASSERT_TRUE(ok) << joined(ok.error());
  ASSERT_EQ(ok->hotkeys.invalidate_from.size(), 1u);
  EXPECT_EQ(ok->hotkeys.invalidate_from[0].pipeline, "shop");
  EXPECT_EQ(ok->hotkeys.invalidate_from[0].table, "shop.sku");
  EXPECT_EQ(ok->hotkeys.invalidate_from[0].key, "sku:{id}");

  doc["hotkeys"] = json::parse(R"({"invalidate_from": [
    {"pipeline": "shops", "table": "shop.sku", "key": "sku:{id}"},
    {"pipeline": "shop", "table": "shop.*", "key": "sku:{id}"},
    {"pipeline": "shop", "table": "shop.audit", "key": "a:{id}"},
    {"pipeline": "shop", "table": "shop.sku", "key": "sku:{id"},
    {"pipeline": "shop", "table": "shop.sku", "key": "sku", "ttl": 5},
    {"table": "shop.sku", "key": "sku:{id}"},
    {"pipeline": "shop", "table": "", "key": ""}]})");
  auto errors = errors_of(doc);
  EXPECT_TRUE(contains(errors,
                       "config error at $.hotkeys.invalidate_from[0].pipeline: no "
                       "pipeline shops in $.sync.pipelines"))
      << joined(errors);
  EXPECT_TRUE(contains(errors, "config error at $.hotkeys.invalidate_from[1].table: "
                               "expected one source table as db.table, got \"shop.*\""))
      << joined(errors);
  EXPECT_TRUE(contains(errors, "config error at $.hotkeys.invalidate_from[2].table: "
                               "pipeline shop does not read shop.audit (its "
                               "include/exclude leave it out)"))
      << joined(errors);
  EXPECT_TRUE(contains(errors,
                       "config error at $.hotkeys.invalidate_from[3].key: the '{' "
                       "at character 5 is not closed (write '{{' for a brace)"))
      << joined(errors);
  EXPECT_TRUE(contains(errors, "config error at $.hotkeys.invalidate_from[4].key: names "
                               "no column: write the key with {column} placeholders, "
                               "e.g. \"sku:{id}\""))
      << joined(errors);
  auto unknown = std::count_if(errors.begin(), errors.end(), [](const std::string& e) {
    return e.find("$.hotkeys.invalidate_from[4]") != std::string::npos &&
           e.find("ttl") != std::string::npos;
  });
  EXPECT_EQ(unknown, 1) << joined(errors);
  auto missing = std::count_if(errors.begin(), errors.end(), [](const std::string& e) {
    return e.find("$.hotkeys.invalidate_from[5].pipeline") != std::string::npos;
  });
  EXPECT_EQ(missing, 1) << joined(errors);
  EXPECT_TRUE(contains(
      errors, "config error at $.hotkeys.invalidate_from[6].table: must not be empty"))
      << joined(errors);
  EXPECT_TRUE(contains(
      errors, "config error at $.hotkeys.invalidate_from[6].key: must not be empty"))
      << joined(errors);
}

TEST(config, source_candidates_take_the_sources_user_and_password) {
  auto doc = minimal();
  doc["sync"] = json::parse(R"({"pipelines": [
    {"name": "a", "target": {"port": 3307},
     "source": {"host": "db1", "server_id": 7, "user": "repl", "password_env": "SRC_PW",
                "switch_after_ms": 2500,
                "candidates": [{"host": "db2"}, {"host": "db3", "port": 3307,
                                                 "user": "other"}]}}]})");
  auto ok = parse_config(doc);
  ASSERT_TRUE(ok) << joined(ok.error());
  auto& p = ok->sync.pipelines.at(0);
  ASSERT_EQ(p.source_candidates.size(), 2u);
  EXPECT_EQ(p.source_candidates[0].address.host, "db2");
  EXPECT_EQ(p.source_candidates[0].address.port, 3306);
  EXPECT_EQ(p.source_candidates[0].user, "repl");
  EXPECT_EQ(p.source_candidates[0].password_env, "SRC_PW");
  EXPECT_EQ(p.source_candidates[1].user, "other");
  EXPECT_EQ(p.source_candidates[1].address.port, 3307);
  EXPECT_EQ(p.source_switch_after_ms, 2500);
  doc["sync"]["pipelines"][0]["source"]["candidates"][1]["port"] = "x";
  doc["sync"]["pipelines"][0]["source"]["candidates"][0]["server_id"] = 9;
  auto errors = errors_of(doc);
  EXPECT_TRUE(contains(errors, "config error at $.sync.pipelines[0].source.candidates[1]"
                               ".port: expected integer 1..65535, got \"x\""))
      << joined(errors);
  EXPECT_TRUE(contains(
      errors, "config error at $.sync.pipelines[0].source.candidates[0].server_id: "
              "the replica server id shoal presents is the pipeline's: give it "
              "once, in source"))
      << joined(errors);
}

TEST(config, apply_transaction_runs_partitions_like_key_mode) {
  auto doc = minimal();
  doc["sync"] = json::parse(R"({"pipelines": [
    {"name": "a", "source": {"server_id": 7}, "target": {"port": 3307}},
    {"name": "b", "source": {"server_id": 8}, "target": {"port": 3307},
     "apply": "transaction"},
    {"name": "c", "source": {"server_id": 9}, "target": {"port": 3307},
     "apply": "transaction", "partitions": 1}]})");
  auto ok = parse_config(doc);
  ASSERT_TRUE(ok) << joined(ok.error());
  auto& p = ok->sync.pipelines;
  EXPECT_EQ(p[0].apply, "key");
  EXPECT_EQ(p[0].partitions, 4);
  EXPECT_EQ(p[1].apply, "transaction");
  EXPECT_EQ(p[1].partitions, 4);
  EXPECT_EQ(p[2].partitions, 1);

  doc["sync"]["pipelines"][1]["apply"] = "rows";
  auto errors = errors_of(doc);
  EXPECT_FALSE(errors.empty());
  EXPECT_NE(joined(errors).find("$.sync.pipelines[1].apply"), std::string::npos)
      << joined(errors);
}

TEST(config, the_in_flight_bound_in_bytes_defaults_to_64_mib_and_is_checked) {
  auto doc = minimal();
  doc["sync"] = json::parse(R"({"pipelines": [
    {"name": "a", "source": {"server_id": 7}, "target": {"port": 3307}},
    {"name": "b", "source": {"server_id": 8}, "target": {"port": 3307},
     "max_inflight_bytes": 8388608}]})");
  auto ok = parse_config(doc);
  ASSERT_TRUE(ok) << joined(ok.error());
  EXPECT_EQ(ok->sync.pipelines[0].max_inflight_bytes, int64_t{64} << 20);
  EXPECT_EQ(ok->sync.pipelines[1].max_inflight_bytes, int64_t{8} << 20);

  doc["sync"]["pipelines"][1]["max_inflight_bytes"] = 1000;
  auto errors = errors_of(doc);
  EXPECT_NE(joined(errors).find("$.sync.pipelines[1].max_inflight_bytes"),
            std::string::npos)
      << joined(errors);
}

TEST(config, the_default_batch_fits_a_smaller_in_flight_bound_and_a_given_one_must) {
  auto doc = minimal();
  doc["sync"] = json::parse(R"({"pipelines": [
    {"name": "a", "source": {"server_id": 7}, "target": {"port": 3307}},
    {"name": "b", "source": {"server_id": 8}, "target": {"port": 3307},
     "max_inflight_rows": 1500}]})");
  auto ok = parse_config(doc);
  ASSERT_TRUE(ok) << joined(ok.error());
  EXPECT_EQ(ok->sync.pipelines[0].batch_rows, 4000);
  EXPECT_EQ(ok->sync.pipelines[1].batch_rows, 1500);

  doc["sync"]["pipelines"][1]["batch_rows"] = 2000;
  auto errors = joined(errors_of(doc));
  EXPECT_NE(errors.find("$.sync.pipelines[1].max_inflight_rows"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("at least batch_rows (2000)"), std::string::npos) << errors;
}

TEST(config, a_redis_stream_target_names_its_server_keys_and_state) {
  auto doc = minimal();
  doc["sync"] = json::parse(R"({"pipelines": [
    {"name": "cdc", "source": {"server_id": 7},
     "target": {"kind": "redis_stream", "redis": {"port": 6380}, "maxlen": 1000,
                "stream_key": "{{shop}}:{db}.{table}",
                "state": {"port": 3308, "user": "shoal"}}}]})");
  auto ok = parse_config(doc);
  ASSERT_TRUE(ok) << joined(ok.error());
  auto& p = ok->sync.pipelines[0];
  EXPECT_EQ(p.target_kind, "redis_stream");
  EXPECT_EQ(p.stream.redis.address.port, 6380);
  EXPECT_EQ(p.stream.maxlen, 1000);
  EXPECT_EQ(p.stream.stream_key, "{{shop}}:{db}.{table}");
  EXPECT_EQ(p.stream.checkpoint_key, "shoal:{pipeline}:checkpoint");
  EXPECT_EQ(p.target.address.port, 3308); // the state server
  EXPECT_EQ(p.target.user, "shoal");
  // A stream target starts at the current position unless told otherwise.
  EXPECT_EQ(p.start.mode, "current");

  auto& t = doc["sync"]["pipelines"][0];
  t["target"]["stream_key"] = "s:{db}.{column}";
  t["target"]["checkpoint_key"] = "c:{table}";
  t["target"]["kind"] = "rabbitmq";
  auto errors = joined(errors_of(doc));
  EXPECT_NE(errors.find("$.sync.pipelines[0].target.kind"), std::string::npos) << errors;

  t["target"]["kind"] = "redis_stream";
  t["target"].erase("state");
  t["apply"] = "transaction";
  t["start"] = "snapshot";
  errors = joined(errors_of(doc));
  EXPECT_NE(errors.find("$.sync.pipelines[0].target.stream_key: {column} is not a name"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("$.sync.pipelines[0].target.checkpoint_key"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("$.sync.pipelines[0].target.state"), std::string::npos) << errors;
  EXPECT_NE(errors.find("$.sync.pipelines[0].apply"), std::string::npos) << errors;
  EXPECT_NE(
      errors.find("$.sync.pipelines[0].start: a redis_stream target cannot start with a "
                  "snapshot"),
      std::string::npos)
      << errors;
}

TEST(config, a_kafka_target_names_brokers_topics_and_keeps_the_ordering_properties) {
  auto doc = minimal();
  doc["sync"] = json::parse(R"({"pipelines": [
    {"name": "cdc", "source": {"server_id": 7},
     "target": {"kind": "kafka", "kafka": {"brokers": "k1:9092,k2:9092",
                                           "properties": {"linger.ms": "20"}},
                "state": {"port": 3308}}}]})");
  auto ok = parse_config(doc);
  ASSERT_TRUE(ok) << joined(ok.error());
  auto& p = ok->sync.pipelines[0];
  EXPECT_EQ(p.target_kind, "kafka");
  EXPECT_EQ(p.stream.kafka_brokers, "k1:9092,k2:9092");
  EXPECT_EQ(p.stream.kafka_properties.at("linger.ms"), "20");
  EXPECT_EQ(p.stream.stream_key, "{pipeline}.{db}.{table}");
  EXPECT_EQ(p.stream.schema_stream, "{pipeline}");

  auto& t = doc["sync"]["pipelines"][0]["target"];
  t["kafka"]["properties"]["acks"] = "1";
  t["topic"] = "cdc:{db}/{table}";
  t["kafka"].erase("brokers");
  auto errors = joined(errors_of(doc));
  EXPECT_NE(
      errors.find("$.sync.pipelines[0].target.kafka.properties.acks: is set by shoal"),
      std::string::npos)
      << errors;
  EXPECT_NE(errors.find("$.sync.pipelines[0].target.topic: a Kafka topic name"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("$.sync.pipelines[0].target.kafka.brokers"), std::string::npos)
      << errors;
}

TEST(config, a_pipeline_without_a_target_keeps_state_and_must_invalidate_something) {
  auto doc = minimal();
  doc["sync"] = json::parse(R"({"pipelines": [
    {"name": "inv", "source": {"server_id": 7},
     "target": {"kind": "none", "state": {"port": 3308}}}]})");
  doc["hotkeys"] = json::parse(R"({"invalidate_from": [
    {"pipeline": "inv", "table": "shop.sku", "key": "sku:{id}"}]})");
  auto ok = parse_config(doc);
  ASSERT_TRUE(ok) << joined(ok.error());
  EXPECT_EQ(ok->sync.pipelines[0].target_kind, "none");
  EXPECT_EQ(ok->sync.pipelines[0].target.address.port, 3308);
  EXPECT_EQ(ok->sync.pipelines[0].start.mode, "current");

  doc.erase("hotkeys");
  auto errors = joined(errors_of(doc));
  EXPECT_NE(errors.find("$.sync: pipeline inv has target none"), std::string::npos)
      << errors;
}

TEST(config, the_sync_operations_api_needs_a_secret_and_the_lag_bound_is_checked) {
  auto doc = minimal();
  doc["sync"] = json::parse(R"({"pipelines": [
    {"name": "a", "source": {"server_id": 7}, "target": {"port": 3307}},
    {"name": "b", "source": {"server_id": 8}, "target": {"port": 3307},
     "max_lag_seconds": 30}],
    "http_api": {"secret_env": "SYNC_SECRET"}})");
  auto ok = parse_config(doc);
  ASSERT_TRUE(ok) << joined(ok.error());
  EXPECT_TRUE(ok->sync.http_api);
  EXPECT_EQ(ok->sync.http_api_secret_env, "SYNC_SECRET");
  EXPECT_EQ(ok->sync.pipelines[0].max_lag_seconds, 0);
  EXPECT_EQ(ok->sync.pipelines[1].max_lag_seconds, 30);

  doc["sync"]["pipelines"][1]["max_lag_seconds"] = -1;
  doc["sync"]["http_api"] = json::object();
  auto errors = joined(errors_of(doc));
  EXPECT_NE(errors.find("$.sync.pipelines[1].max_lag_seconds"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("$.sync.http_api.secret_env"), std::string::npos) << errors;
}

TEST(config, a_pipeline_lists_the_nodes_that_may_run_it_or_one_node) {
  auto doc = minimal();
  doc["cluster"] = json::parse(R"({"peers": [{"name": "n2", "port": 7102},
                                             {"name": "n3", "port": 7103}]})");
  doc["sync"] = json::parse(R"({"pipelines": [
    {"name": "a", "source": {"server_id": 7}, "target": {"port": 3307}},
    {"name": "b", "source": {"server_id": 8}, "target": {"port": 3307},
     "nodes": ["n1", "n3"], "lease_ms": 3000}]})");
  auto ok = parse_config(doc);
  ASSERT_TRUE(ok) << joined(ok.error());
  auto& p = ok->sync.pipelines;
  EXPECT_EQ(p[0].node, "n1");
  EXPECT_TRUE(p[0].nodes.empty());
  EXPECT_EQ(p[0].lease_ms, 5000);
  EXPECT_EQ(p[1].node, "");
  EXPECT_EQ(p[1].nodes, (std::vector<std::string>{"n1", "n3"}));
  EXPECT_EQ(p[1].lease_ms, 3000);

  doc["sync"]["pipelines"][0]["node"] = "n2";
  doc["sync"]["pipelines"][0]["nodes"] = json::array({"n2"});
  doc["sync"]["pipelines"][1]["nodes"] = json::array({"n1", "n9", "n1"});
  doc["sync"]["pipelines"][1]["lease_ms"] = 1000;
  auto errors = joined(errors_of(doc));
  EXPECT_NE(errors.find("$.sync.pipelines[0].node: give either node"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("$.sync.pipelines[1].nodes[1]: unknown node \"n9\""),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("$.sync.pipelines[1].nodes[2]: node \"n1\" is listed twice"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("$.sync.pipelines[1].lease_ms"), std::string::npos) << errors;
}

TEST(config, invalid_json_names_line_and_column) {
  auto result = parse_config_text("{\n  \"node\": {\n    \"name\": \"n1\",,\n", "x.json");
  ASSERT_FALSE(result);
  ASSERT_EQ(result.error().size(), 1u);
  EXPECT_NE(result.error()[0].find("config error in x.json: invalid JSON"),
            std::string::npos)
      << result.error()[0];
  EXPECT_NE(result.error()[0].find("line 3"), std::string::npos) << result.error()[0];
}

TEST(config, unreadable_file_is_an_error) {
  auto result = load_config_file("/nonexistent/shoal.json");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().at(0), "config error: cannot read /nonexistent/shoal.json");
}

TEST(config, every_shipped_config_is_valid) {
  auto src = std::getenv("SHOAL_SOURCE_DIR");
  ASSERT_NE(src, nullptr) << "run through ctest, which sets SHOAL_SOURCE_DIR";
  int checked = 0;
  for (auto& entry : std::filesystem::recursive_directory_iterator(
           std::filesystem::path{src} / "configs")) {
    // demo.json is not a node config: it tells scripts/demo which servers to use.
    if (entry.path().extension() != ".json" || entry.path().filename() == "demo.json")
      continue;
    auto result = load_config_file(entry.path().string());
    EXPECT_TRUE(result) << entry.path() << ":\n" << joined(result.error());
    ++checked;
  }
  EXPECT_GE(checked, 4);
}

TEST(config, secret_from_env_reads_only_set_values) {
  ::setenv("SHOAL_CONFIG_TEST_SECRET", "s3cret-value", 1);
  EXPECT_EQ(secret_from_env("SHOAL_CONFIG_TEST_SECRET"), "s3cret-value");
  ::setenv("SHOAL_CONFIG_TEST_EMPTY", "", 1);
  EXPECT_EQ(secret_from_env("SHOAL_CONFIG_TEST_EMPTY"), std::nullopt);
  EXPECT_EQ(secret_from_env(""), std::nullopt);
}

} // namespace
} // namespace shoal

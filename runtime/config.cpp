#include "runtime/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "actors/binlog/decoder/table_filter.hpp"
#include "actors/binlog/sync/cache_keys.hpp"
#include "actors/binlog/sync/stream_sink.hpp"
#include "actors/hotkey/core/cache_stats.hpp"
#include "actors/hotkey/core/rule_parser.hpp"
#include "runtime/json_reader.hpp"

namespace shoal {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int64_t max_ms = 24LL * 3600 * 1000;

std::string resolve(const std::string& path, const std::string& origin) {
  if (path.empty() || origin.empty() || fs::path{path}.is_absolute())
    return path;
  return (fs::path{origin}.parent_path() / path).lexically_normal().string();
}

endpoint read_endpoint(json_reader& r, std::optional<std::string> host,
                       std::optional<uint16_t> port, bool allow_zero = false) {
  endpoint e;
  e.host = r.string("host", std::move(host));
  e.port = r.port("port", port, allow_zero);
  if (r.has("host") && e.host.empty())
    r.error("must not be empty", "host");
  return e;
}

std::string read_env_name(json_reader& r, const std::string& key) {
  auto name = r.string(key, std::string{});
  for (char c : name)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      r.error(
          "expected the name of an environment variable (letters, digits, _), got \"" +
              name + "\"; secrets are never written inline",
          key);
      return {};
    }
  return name;
}

mysql_settings read_mysql(json_reader& r) {
  mysql_settings m;
  m.address = read_endpoint(r, "127.0.0.1", 3306);
  m.user = r.string("user", "root");
  m.password_env = read_env_name(r, "password_env");
  if (r.has("password"))
    r.error("passwords are never written inline: put it in an environment variable "
            "and name that variable in password_env",
            "password");
  m.connect_timeout_ms = r.integer("connect_timeout_ms", 1, max_ms, 3000);
  m.read_timeout_ms = r.integer("read_timeout_ms", 1, max_ms, 30000);
  return m;
}

void read_node(json_reader& root, config& c) {
  auto r = root.object("node", true);
  if (!r)
    return;
  c.node.name = r->string("name", std::nullopt);
  if (r->has("name") && c.node.name.empty())
    r->error("must not be empty", "name");
  c.node.listen = read_endpoint(*r, "127.0.0.1", std::nullopt, true);
  r->finish();
}

void read_cluster(json_reader& root, config& c) {
  auto r = root.object("cluster");
  if (!r)
    return;
  auto& cl = c.cluster;
  std::set<std::string> names{c.node.name};
  for (auto& p : r->array("peers")) {
    if (!p.expect_object())
      continue;
    peer_config peer;
    peer.name = p.string("name", std::nullopt);
    peer.address = read_endpoint(p, "127.0.0.1", std::nullopt);
    if (!peer.name.empty() && !names.insert(peer.name).second)
      p.error("node name \"" + peer.name + "\" is used twice", "name");
    p.finish();
    cl.peers.push_back(std::move(peer));
  }
  cl.app_id = r->string("app_id", cl.app_id);
  cl.heartbeat_ms = r->integer("heartbeat_ms", 50, 60000, cl.heartbeat_ms);
  cl.connection_timeout_ms =
      r->integer("connection_timeout_ms", 100, 600000, cl.connection_timeout_ms);
  if (cl.connection_timeout_ms <= cl.heartbeat_ms)
    r->error("must be greater than heartbeat_ms (" + std::to_string(cl.heartbeat_ms) +
                 ")",
             "connection_timeout_ms");
  cl.reconnect_min_ms = r->integer("reconnect_min_ms", 10, 60000, cl.reconnect_min_ms);
  cl.reconnect_max_ms = r->integer("reconnect_max_ms", 10, 600000, cl.reconnect_max_ms);
  if (cl.reconnect_max_ms < cl.reconnect_min_ms)
    r->error("must not be less than reconnect_min_ms", "reconnect_max_ms");
  r->finish();
}

void check_file(json_reader& r, const std::string& key, const std::string& path) {
  if (!path.empty() && !fs::exists(path))
    r.error("file not found: " + path, key);
}

void read_tls(json_reader& root, config& c) {
  auto r = root.object("tls");
  if (!r)
    return;
  auto& t = c.tls;
  t.certificate = resolve(r->string("certificate", std::string{}), c.origin);
  t.key = resolve(r->string("key", std::string{}), c.origin);
  t.cafile = resolve(r->string("cafile", std::string{}), c.origin);
  t.passphrase_env = read_env_name(*r, "passphrase_env");
  int set = !t.certificate.empty() + !t.key.empty() + !t.cafile.empty();
  if (set != 0 && set != 3)
    r->error("certificate, key and cafile must be set together (mutual TLS)");
  check_file(*r, "certificate", t.certificate);
  check_file(*r, "key", t.key);
  check_file(*r, "cafile", t.cafile);
  r->finish();
}

void read_http(json_reader& root, config& c) {
  auto r = root.object("http");
  if (!r)
    return;
  c.http.enabled = r->boolean("enabled", true);
  c.http.listen = read_endpoint(*r, "127.0.0.1", 0, true);
  if (auto t = r->object("tls")) {
    auto& h = c.http.tls;
    h.certificate = resolve(t->string("certificate", std::string{}), c.origin);
    h.key = resolve(t->string("key", std::string{}), c.origin);
    h.passphrase_env = read_env_name(*t, "passphrase_env");
    h.client_cafile = resolve(t->string("client_cafile", std::string{}), c.origin);
    if (h.certificate.empty() != h.key.empty() ||
        (h.certificate.empty() && !h.client_cafile.empty()))
      t->error("certificate and key must be set together (client_cafile needs both)");
    check_file(*t, "certificate", h.certificate);
    check_file(*t, "key", h.key);
    check_file(*t, "client_cafile", h.client_cafile);
    t->finish();
  }
  r->finish();
}

void read_log(json_reader& root, config& c) {
  auto r = root.object("log");
  if (!r)
    return;
  c.log.level = r->choice(
      "level", {"trace", "debug", "info", "warn", "error", "critical", "off"}, "info");
  c.log.file = resolve(r->string("file", std::string{}), c.origin);
  c.log.format = r->choice("format", {"text", "json"}, "text");
  r->finish();
}

redis_settings read_redis(json_reader& r) {
  redis_settings rc;
  rc.address = read_endpoint(r, "127.0.0.1", 6379);
  rc.password_env = read_env_name(r, "password_env");
  if (r.has("password"))
    r.error("passwords are never written inline: name an environment variable in "
            "password_env",
            "password");
  rc.db = r.integer("db", 0, 15, 0);
  rc.timeout_ms = r.integer("timeout_ms", 1, max_ms, 1000);
  return rc;
}

void read_servers(json_reader& root, config& c) {
  if (auto r = root.object("redis")) {
    c.redis = read_redis(*r);
    r->finish();
  }
  if (auto r = root.object("mysql")) {
    for (auto& [name, _] : r->value().items()) {
      if (auto m = r->object(name)) {
        c.mysql[name] = read_mysql(*m);
        m->finish();
      }
    }
  }
}

void check_node_names(json_reader& r, const std::string& key,
                      const std::vector<std::string>& names,
                      const std::set<std::string>& known) {
  for (size_t i = 0; i < names.size(); ++i)
    if (known.count(names[i]) == 0)
      r.error("unknown node \"" + names[i] + "\" (not this node nor a peer)",
              key + "[" + std::to_string(i) + "]");
}

/// An optional `http_api` object of `r`: {enabled (default true), secret_env}; the
/// secret is required when the API is on.
void read_http_api(json_reader& r, bool& on, std::string& secret_env) {
  auto api = r.object("http_api");
  if (!api)
    return;
  on = api->boolean("enabled", true);
  secret_env = read_env_name(*api, "secret_env");
  if (on && secret_env.empty())
    api->error("required: the environment variable holding the bearer secret the API "
               "demands",
               "secret_env");
  api->finish();
}

void read_tokens(json_reader& root, config& c, const std::set<std::string>& nodes) {
  auto r = root.object("tokens");
  if (!r)
    return;
  auto& t = c.tokens;
  t.present = true;
  t.keepers = r->strings("keepers", std::vector<std::string>{});
  check_node_names(*r, "keepers", t.keepers, nodes);
  t.lease_ms = r->integer("lease_ms", 200, 600000, t.lease_ms);
  if (r->has("providers")) {
    t.providers = r->value().at("providers");
    if (!t.providers.is_array())
      r->error("expected a list, got " + json_reader::describe(t.providers), "providers");
  }
  read_http_api(*r, t.http_api, t.http_api_secret_env);
  if (auto m = r->object("mirror")) {
    t.mirror_mysql = m->string("mysql", std::nullopt);
    if (!t.mirror_mysql.empty() && c.mysql.count(t.mirror_mysql) == 0)
      m->error("unknown MySQL server \"" + t.mirror_mysql + "\" (not a key of $.mysql)",
               "mysql");
    t.mirror_table = m->string("table", t.mirror_table);
    auto dot = t.mirror_table.find('.');
    if (dot == 0 || dot == std::string::npos || dot + 1 == t.mirror_table.size() ||
        t.mirror_table.find('.', dot + 1) != std::string::npos)
      m->error("expected \"database.table\", got \"" + t.mirror_table + "\"", "table");
    m->finish();
  }
  r->finish();
}

void read_start(json_reader& p, sync_start& s) {
  if (!p.has("start"))
    return;
  auto& v = p.value().at("start");
  if (v.is_string()) {
    s.mode = p.choice("start", {"snapshot", "current"}, "snapshot");
    return;
  }
  auto r = p.object("start");
  if (!r)
    return;
  if (r->has("gtid")) {
    s.mode = "gtid";
    s.gtid = r->string("gtid", std::nullopt);
  } else {
    s.mode = "position";
    s.file = r->string("file", std::nullopt);
    s.position = static_cast<uint64_t>(r->integer("position", 4, INT64_MAX, 4));
  }
  r->finish();
}

// A template at `key` that names one `what` for the whole pipeline.
void one_per_pipeline(json_reader& r, const std::string& key, const std::string& text,
                      const std::string& what) {
  for (auto name : {"{db}", "{table}", "{partition}"})
    if (text.find(name) != std::string::npos) {
      r.error("names one " + what +
                  " for the whole pipeline: only {pipeline} may be used",
              key);
      return;
    }
}

// target.kind "redis_stream": the stream's server and keys, and the MySQL
// server that keeps the pipeline's state.
void read_stream_target(json_reader& dst, sync_pipeline_config& s) {
  if (auto st = dst.object("state", true)) {
    s.target = read_mysql(*st);
    st->finish();
  }
  if (auto rd = dst.object("redis", true)) {
    s.stream.redis = read_redis(*rd);
    rd->finish();
  }
  auto& t = s.stream;
  for (auto [key, field] : {std::pair{"stream_key", &t.stream_key},
                            std::pair{"checkpoint_key", &t.checkpoint_key},
                            std::pair{"schema_stream", &t.schema_stream}}) {
    *field = dst.string(key, *field);
    if (auto parsed = binlog::parse_stream_template(*field); !parsed)
      dst.error(parsed.error(), key);
  }
  one_per_pipeline(dst, "checkpoint_key", t.checkpoint_key, "hash");
  one_per_pipeline(dst, "schema_stream", t.schema_stream, "stream");
  t.maxlen = dst.integer("maxlen", 0, INT64_MAX, t.maxlen);
}

// target.kind "kafka": brokers, properties, topic templates, state server.
void read_kafka_target(json_reader& dst, sync_pipeline_config& s) {
  if (auto st = dst.object("state", true)) {
    s.target = read_mysql(*st);
    st->finish();
  }
  auto& t = s.stream;
  if (auto k = dst.object("kafka", true)) {
    t.kafka_brokers = k->string("brokers", std::nullopt);
    if (auto props = k->object("properties")) {
      for (auto& [name, value] : props->value().items()) {
        (void)value;
        if (name == "bootstrap.servers" || name == "enable.idempotence" ||
            name == "acks" || name == "partitioner")
          props->error("is set by shoal (per-key order and no loss depend on it)", name);
        else
          t.kafka_properties[name] = props->string(name, std::nullopt);
      }
    }
    k->finish();
  }
  t.stream_key = dst.string("topic", "{pipeline}.{db}.{table}");
  t.schema_stream = dst.string("schema_topic", "{pipeline}");
  for (auto [key, field] :
       {std::pair{"topic", &t.stream_key}, std::pair{"schema_topic", &t.schema_stream}}) {
    if (auto parsed = binlog::parse_stream_template(*field); !parsed)
      dst.error(parsed.error(), key);
    for (char ch : *field)
      if (!(isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' ||
            ch == '-' || ch == '{' || ch == '}')) {
        dst.error(std::string{"a Kafka topic name takes letters, digits, '.', '_' and "
                              "'-' only, not '"} +
                      ch + "'",
                  key);
        break;
      }
  }
  one_per_pipeline(dst, "schema_topic", t.schema_stream, "topic");
}

void read_sync(json_reader& root, config& c, const std::set<std::string>& nodes) {
  auto r = root.object("sync");
  if (!r)
    return;
  std::set<std::string> names;
  for (auto& p : r->array("pipelines", true)) {
    if (!p.expect_object())
      continue;
    sync_pipeline_config s;
    s.name = p.string("name", std::nullopt);
    if (!s.name.empty() && !names.insert(s.name).second)
      p.error("pipeline name \"" + s.name + "\" is used twice", "name");
    s.nodes = p.strings("nodes", std::vector<std::string>{});
    if (!s.nodes.empty()) {
      // Failover: the nodes that may run it; the holder of its lease does.
      if (p.has("node"))
        p.error("give either node (one node runs the pipeline) or nodes (any of them "
                "may, one at a time), not both",
                "node");
      check_node_names(p, "nodes", s.nodes, nodes);
      std::set<std::string> seen;
      for (size_t i = 0; i < s.nodes.size(); ++i)
        if (!seen.insert(s.nodes[i]).second)
          p.error("node \"" + s.nodes[i] + "\" is listed twice",
                  "nodes[" + std::to_string(i) + "]");
    } else {
      s.node = p.string("node", c.node.name);
      if (nodes.count(s.node) == 0)
        p.error("unknown node \"" + s.node + "\" (not this node nor a peer)", "node");
    }
    // At least 2 s: a holder's look may take a second to time out (whole
    // seconds are the client's unit) and must end well inside the lease.
    s.lease_ms = p.integer("lease_ms", 2000, 600000, s.lease_ms);
    if (auto src = p.object("source", true)) {
      s.source = read_mysql(*src);
      s.server_id =
          static_cast<uint32_t>(src->integer("server_id", 1, 4294967295LL, std::nullopt));
      // Other servers of the same replication topology, tried in order when
      // the source does not answer; user and password_env default to the
      // source's.
      for (auto& cand : src->array("candidates")) {
        if (!cand.expect_object())
          continue;
        if (cand.has("server_id"))
          cand.error("the replica server id shoal presents is the pipeline's: give it "
                     "once, in source",
                     "server_id");
        bool own_user = cand.has("user");
        bool own_password = cand.has("password_env");
        auto m = read_mysql(cand);
        if (!own_user)
          m.user = s.source.user;
        if (!own_password)
          m.password_env = s.source.password_env;
        cand.finish();
        s.source_candidates.push_back(std::move(m));
      }
      s.source_switch_after_ms =
          src->integer("switch_after_ms", 500, 600000, s.source_switch_after_ms);
      src->finish();
    }
    if (auto dst = p.object("target", true)) {
      s.target_kind =
          dst->choice("kind", {"mysql", "redis_stream", "kafka", "none"}, "mysql");
      if (s.target_kind == "mysql") {
        s.target = read_mysql(*dst);
      } else if (s.target_kind == "none") {
        // Read only to invalidate: the checkpoints need a home all the same.
        if (auto st = dst->object("state", true)) {
          s.target = read_mysql(*st);
          st->finish();
        }
      } else if (s.target_kind == "kafka") {
        read_kafka_target(*dst, s);
      } else {
        read_stream_target(*dst, s);
      }
      dst->finish();
    }
    bool stream = s.target_kind != "mysql";
    s.apply = p.choice("apply", {"key", "transaction"}, s.apply);
    if (stream && s.apply != "key")
      p.error(s.target_kind == "none"
                  ? "a pipeline without a target writes no rows: \"key\" only"
                  : "a stream target takes each row's changes in order by key "
                    "(\"key\"); whole transactions are rebuilt by consumers from "
                    "each event's transaction id and order",
              "apply");
    if (stream && !s.source_candidates.empty())
      p.error("not available with a " + s.target_kind +
                  " target yet: its positions are those of one source server",
              "source.candidates");
    s.partitions = p.integer("partitions", 1, 256, s.partitions);
    if (stream && !p.has("start"))
      s.start.mode = "current";
    read_start(p, s.start);
    if (stream && s.start.mode == "snapshot")
      p.error("a " + s.target_kind +
                  " target cannot start with a snapshot: start at \"current\", a "
                  "position or a GTID",
              "start");
    s.include = p.strings("include", std::vector<std::string>{});
    s.exclude = p.strings("exclude", std::vector<std::string>{});
    if (auto ren = p.object("rename")) {
      for (auto& [from, to] : ren->value().items()) {
        s.rename[from] = ren->string(from, std::nullopt);
        (void)to;
      }
    }
    bool batch_given = p.has("batch_rows");
    s.batch_rows = p.integer("batch_rows", 1, 1000000, s.batch_rows);
    s.max_inflight_rows =
        p.integer("max_inflight_rows", 1, 100000000, s.max_inflight_rows);
    // The default batch shrinks to a smaller in-flight bound; a given one must fit.
    if (!batch_given)
      s.batch_rows = std::min(s.batch_rows, s.max_inflight_rows);
    if (s.max_inflight_rows < s.batch_rows)
      p.error("must be at least batch_rows (" + std::to_string(s.batch_rows) + ")",
              "max_inflight_rows");
    s.max_inflight_bytes = p.integer("max_inflight_bytes", int64_t{1} << 20,
                                     int64_t{1} << 40, s.max_inflight_bytes);
    s.checkpoint_database = p.string("checkpoint_database", s.checkpoint_database);
    if (auto ddl = p.object("ddl")) {
      s.copy_routines = ddl->boolean("copy_routines", s.copy_routines);
      ddl->finish();
    }
    s.max_lag_seconds = p.integer("max_lag_seconds", 0, 86400, s.max_lag_seconds);
    p.finish();
    c.sync.pipelines.push_back(std::move(s));
  }
  read_http_api(*r, c.sync.http_api, c.sync.http_api_secret_env);
  r->finish();
}

/// "host:port" (port 0: any free port), or an error at `key`.
std::optional<endpoint> read_host_port(json_reader& r, const std::string& key) {
  auto text = r.string(key, std::nullopt);
  auto colon = text.rfind(':');
  auto bad = [&] {
    r.error("expected \"host:port\" (port 0..65535), got \"" + text + "\"", key);
    return std::nullopt;
  };
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return text.empty() ? std::nullopt : bad();
  uint32_t port = 0;
  for (size_t i = colon + 1; i < text.size(); ++i) {
    if (!isdigit(static_cast<unsigned char>(text[i])) || port > 65535)
      return bad();
    port = port * 10 + static_cast<uint32_t>(text[i] - '0');
  }
  if (port > 65535)
    return bad();
  return endpoint{text.substr(0, colon), static_cast<uint16_t>(port)};
}

/// A loader template: must hold "{key}"; an http one must be an http(s) URL.
void check_template(json_reader& r, const std::string& key, const std::string& text,
                    bool url) {
  if (text.find("{key}") == std::string::npos)
    r.error("must contain {key} (where the key goes), got \"" + text + "\"", key);
  if (url && text.rfind("http://", 0) != 0 && text.rfind("https://", 0) != 0)
    r.error("expected an http:// or https:// URL, got \"" + text + "\"", key);
  if (url) {
    auto host = text.find("://") + 3;
    auto slash = text.find('/', host);
    if (slash == std::string::npos || slash == host || text.find("{key}") < slash)
      r.error("expected scheme://host[:port]/path with {key} in the path, got \"" + text +
                  "\"",
              key);
  }
}

/// The sidecar keys of $.hotkeys: udp, stream, loader.
void read_hotkeys_sidecar(json_reader& r, config& c) {
  auto& h = c.hotkeys;
  if (auto u = r.object("udp")) {
    if (auto e = read_host_port(*u, "listen")) {
      h.udp_listen = *e;
      h.udp = true;
    }
    h.udp_secret_env = read_env_name(*u, "secret_env");
    u->finish();
  }
  if (auto s = r.object("stream")) {
    h.stream_max_subscribers =
        s->integer("max_subscribers", 1, 64, h.stream_max_subscribers);
    h.events_channel = s->string("redis_channel", std::string{});
    if (s->has("redis_channel") && h.events_channel.empty())
      s->error("must not be empty (leave it out for no Redis events)", "redis_channel");
    if (!h.events_channel.empty() && !c.redis)
      s->error("needs $.redis (the server that carries the channel)", "redis_channel");
    if (!h.http_api)
      s->error("needs $.hotkeys.http_api: the stream demands its bearer secret");
    s->finish();
  }
  if (auto l = r.object("loader")) {
    h.loader_redis_get = l->string("redis_get", std::string{});
    h.loader_http = l->string("http", std::string{});
    h.loader_timeout_ms = l->integer("timeout_ms", 1, 60000, h.loader_timeout_ms);
    if (h.loader_redis_get.empty() == h.loader_http.empty())
      l->error("expected exactly one of redis_get (\"prefix:{key}\") and http "
               "(\"http://host:port/path/{key}\")");
    if (!h.loader_redis_get.empty()) {
      check_template(*l, "redis_get", h.loader_redis_get, false);
      if (!c.redis)
        l->error("needs $.redis (the server the loader reads)", "redis_get");
    }
    if (!h.loader_http.empty())
      check_template(*l, "http", h.loader_http, true);
    if (!h.http_api)
      l->error("needs $.hotkeys.http_api: GET /cache demands its bearer secret");
    l->finish();
  }
}

// hotkeys.invalidate_from: each entry names a pipeline of sync.pipelines
// (read before), a source table that pipeline reads, and a key template.
void read_invalidate_from(json_reader& r, config& c) {
  for (auto& e : r.array("invalidate_from")) {
    if (!e.expect_object())
      continue;
    cache_invalidation_config inv;
    inv.pipeline = e.string("pipeline", std::nullopt);
    inv.table = e.string("table", std::nullopt);
    inv.key = e.string("key", std::nullopt);
    e.finish();
    for (auto [field, value] :
         {std::pair{"pipeline", &inv.pipeline}, std::pair{"table", &inv.table},
          std::pair{"key", &inv.key}})
      if (value->empty() && e.value().contains(field))
        e.error("must not be empty", field);
    auto p = std::find_if(
        c.sync.pipelines.begin(), c.sync.pipelines.end(),
        [&](const sync_pipeline_config& s) { return s.name == inv.pipeline; });
    if (!inv.pipeline.empty() && p == c.sync.pipelines.end())
      e.error("no pipeline " + inv.pipeline + " in $.sync.pipelines", "pipeline");
    auto dot = inv.table.find('.');
    if (!inv.table.empty() &&
        (dot == std::string::npos || dot == 0 || dot + 1 == inv.table.size() ||
         inv.table.find('.', dot + 1) != std::string::npos ||
         inv.table.find('*') != std::string::npos))
      e.error("expected one source table as db.table, got \"" + inv.table + "\"",
              "table");
    else if (!inv.table.empty() && p != c.sync.pipelines.end()) {
      binlog::table_filter filter{p->include, p->exclude, p->rename,
                                  p->checkpoint_database};
      if (!filter.selected(inv.table.substr(0, dot), inv.table.substr(dot + 1)))
        e.error("pipeline " + p->name + " does not read " + inv.table +
                    " (its include/exclude leave it out)",
                "table");
    }
    if (!inv.key.empty())
      if (auto t = binlog::key_template::parse(inv.key); !t)
        e.error(t.error(), "key");
    c.hotkeys.invalidate_from.push_back(std::move(inv));
  }
}

void read_hotkeys(json_reader& root, config& c, const std::set<std::string>& nodes) {
  auto r = root.object("hotkeys");
  if (!r)
    return;
  auto& h = c.hotkeys;
  h.present = true;
  h.shard_nodes = r->strings("shard_nodes", std::vector<std::string>{});
  check_node_names(*r, "shard_nodes", h.shard_nodes, nodes);
  h.flush_ms = r->integer("flush_ms", 1, 60000, h.flush_ms);
  if (r->has("rules")) {
    h.rules = r->value().at("rules");
    if (!h.rules.is_array())
      r->error("expected a list, got " + json_reader::describe(h.rules), "rules");
  }
  h.rules_file = resolve(r->string("rules_file", std::string{}), c.origin);
  check_file(*r, "rules_file", h.rules_file);
  h.cache_max_entries =
      r->integer("cache_max_entries", 1, static_cast<int64_t>(hotkey::max_cache_entries),
                 h.cache_max_entries);
  h.cache_max_bytes = r->integer("cache_max_bytes", 1024, 1LL << 40, h.cache_max_bytes);
  h.shard_max_candidates =
      r->integer("shard_max_candidates", 1, 100000000, h.shard_max_candidates);
  if (h.rules.is_array())
    if (auto parsed = hotkey::parse_rules(h.rules, r->path() + ".rules"); !parsed)
      r->error(parsed.error().to_string());
  if (!h.rules_file.empty()) {
    auto parsed = hotkey::load_rules_file(h.rules_file);
    if (!parsed)
      r->error(parsed.error().to_string(), "rules_file");
  }
  if (auto limits = r->object("limits")) {
    if (auto rule = limits->object("per_rule")) {
      h.rule_rate = rule->number("rate", 0, 1e9, 0.0);
      h.rule_burst = rule->integer("burst", 1, 1000000, 1);
      rule->finish();
    }
    if (auto key = limits->object("per_key")) {
      h.key_rate = key->number("rate", 0, 1e9, 0.0);
      h.key_burst = key->integer("burst", 1, 1000000, 1);
      h.key_max_keys = key->integer("max_keys", 1, 100000000, h.key_max_keys);
      key->finish();
    }
    limits->finish();
  }
  if (auto b = r->object("breaker")) {
    h.breaker_error_ratio = b->number("error_ratio", 0.0001, 2, h.breaker_error_ratio);
    h.breaker_slow_call_ratio =
        b->number("slow_call_ratio", 0.0001, 2, h.breaker_slow_call_ratio);
    h.breaker_slow_call_ms =
        b->integer("slow_call_ms", 1, max_ms, h.breaker_slow_call_ms);
    h.breaker_minimum_calls =
        b->integer("minimum_calls", 1, 1000000, h.breaker_minimum_calls);
    h.breaker_window_ms = b->integer("window_ms", 10, max_ms, h.breaker_window_ms);
    h.breaker_open_ms = b->integer("open_ms", 1, max_ms, h.breaker_open_ms);
    h.breaker_half_open_probes =
        b->integer("half_open_probes", 1, 1000, h.breaker_half_open_probes);
    b->finish();
  }
  if (r->has("fallback"))
    h.fallback = r->string("fallback", std::nullopt);
  h.wait_ms = r->integer("wait_ms", 1, max_ms, h.wait_ms);
  h.invalidation_channel = r->string("invalidation_channel", std::string{});
  read_http_api(*r, h.http_api, h.http_api_secret_env);
  if (!h.invalidation_channel.empty() && !c.redis)
    r->error("needs $.redis (the server that carries the channel)",
             "invalidation_channel");
  read_hotkeys_sidecar(*r, c);
  read_invalidate_from(*r, c);
  r->finish();
}

} // namespace

std::vector<std::string> config::node_names() const {
  std::vector<std::string> result{node.name};
  for (auto& p : cluster.peers)
    result.push_back(p.name);
  return result;
}

config_result parse_config(const json& doc, const std::string& origin) {
  std::vector<std::string> errors;
  json_reader root{doc, "$", errors};
  if (!root.expect_object())
    return fail(std::move(errors));
  config c;
  c.origin = origin;
  read_node(root, c);
  read_cluster(root, c);
  std::set<std::string> nodes;
  for (auto& n : c.node_names())
    nodes.insert(n);
  read_tls(root, c);
  read_http(root, c);
  read_log(root, c);
  read_servers(root, c);
  read_tokens(root, c, nodes);
  read_sync(root, c, nodes);
  read_hotkeys(root, c, nodes);
  for (auto& p : c.sync.pipelines)
    if (p.target_kind == "none" &&
        std::none_of(
            c.hotkeys.invalidate_from.begin(), c.hotkeys.invalidate_from.end(),
            [&](const cache_invalidation_config& i) { return i.pipeline == p.name; }))
      root.error("pipeline " + p.name +
                     " has target none (it reads only to invalidate): name its tables in "
                     "$.hotkeys.invalidate_from",
                 "sync");
  root.finish();
  if (!errors.empty())
    return fail(std::move(errors));
  return c;
}

config_result parse_config_text(const std::string& text, const std::string& origin) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 3, column 7:
    // ..."
    std::string what = e.what();
    auto pos = what.find("] ");
    return fail(std::vector<std::string>{
        "config error in " + (origin.empty() ? "<text>" : origin) + ": invalid JSON, " +
        (pos == std::string::npos ? what : what.substr(pos + 2))});
  }
  return parse_config(doc, origin);
}

config_result load_config_file(const std::string& path) {
  std::ifstream in{path};
  if (!in) {
    return fail(std::vector<std::string>{"config error: cannot read " + path});
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_config_text(buf.str(), fs::absolute(path).string());
}

std::optional<std::string> secret_from_env(const std::string& name) {
  if (name.empty())
    return std::nullopt;
  auto value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0')
    return std::nullopt;
  return std::string{value};
}

} // namespace shoal

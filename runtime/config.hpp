// shoal's configuration: one JSON file describes a node and its cluster.
//
// The same file (or one per node that differs only in `node`) is given to every
// node. It names the node and its listen address, the peers, TLS files, the HTTP
// status endpoint, logging, the Redis and MySQL servers, and one section per
// service (`tokens`, `sync`, `hotkeys`) that says which nodes run what.
// Secrets (passwords, app secrets, TLS passphrases) are never inline: the config
// names an environment variable that holds them.
//
//   auto cfg = shoal::load_config_file("configs/single.json");
//   if (!cfg) { for (auto& e : cfg.errors) std::cerr << e << '\n'; }
//
// See README.md ("Config reference") for every key.

#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/base/expected.hpp"

namespace shoal {

/// A host and port.
struct endpoint {
  std::string host;
  uint16_t port = 0;
};

/// Another node of the cluster, as this node reaches it.
struct peer_config {
  std::string name;
  endpoint address;
};

struct node_config {
  /// Unique in the cluster; used in placement, logs and metrics.
  std::string name;
  /// Where this node publishes its directory actor (CAF remoting).
  endpoint listen;
};

struct cluster_config {
  /// All other nodes; each one is connected to, retried with backoff until up.
  std::vector<peer_config> peers;
  /// Sent as middleman.app-identifiers: processes with another value cannot join.
  std::string app_id = "shoal-cluster";
  /// BASP heartbeat; a peer silent for connection_timeout_ms is down.
  int64_t heartbeat_ms = 500;
  int64_t connection_timeout_ms = 2000;
  /// Reconnect backoff bounds for peers that are down.
  int64_t reconnect_min_ms = 100;
  int64_t reconnect_max_ms = 2000;
};

/// Mutual TLS between nodes; enabled when all three files are set.
struct tls_config {
  std::string certificate;
  std::string key;
  std::string cafile;
  /// Environment variable holding the key's passphrase, if it has one.
  std::string passphrase_env;
  bool enabled() const { return !certificate.empty(); }
};

/// HTTPS on the HTTP port; enabled when certificate and key are set.
struct http_tls_config {
  std::string certificate;
  std::string key;
  /// Environment variable holding the key's passphrase, if it has one.
  std::string passphrase_env;
  /// When set, clients must present a certificate signed by this CA.
  std::string client_cafile;
  bool enabled() const { return !certificate.empty(); }
};

struct http_config {
  bool enabled = true;
  /// Loopback by default: /status and /metrics are for operators, not the world.
  endpoint listen{"127.0.0.1", 0};
  http_tls_config tls;
};

struct log_config {
  /// trace, debug, info, warn, error, critical, off.
  std::string level = "info";
  /// Empty for stderr.
  std::string file;
  /// "text" or "json" (one JSON object per line).
  std::string format = "text";
};

/// A MySQL/MariaDB server.
struct mysql_settings {
  endpoint address;
  std::string user = "root";
  std::string password_env;
  int64_t connect_timeout_ms = 3000;
  int64_t read_timeout_ms = 30000;
};

struct redis_settings {
  endpoint address;
  std::string password_env;
  int64_t db = 0;
  int64_t timeout_ms = 1000;
};

/// Where a pipeline starts when the target has no checkpoint yet.
struct sync_start {
  /// "snapshot", "current", "position" or "gtid".
  std::string mode = "snapshot";
  std::string file;
  uint64_t position = 4;
  std::string gtid;
};

/// A change-stream target (`target.kind`: "redis_stream"); see
/// actors/binlog/sync/stream_sink.hpp.
struct stream_target_config {
  redis_settings redis;
  /// kafka: bootstrap servers ("host:port,...") and more librdkafka properties.
  std::string kafka_brokers;
  std::map<std::string, std::string> kafka_properties;
  std::string stream_key = "shoal:{pipeline}:{db}.{table}";
  std::string checkpoint_key = "shoal:{pipeline}:checkpoint";
  std::string schema_stream = "shoal:{pipeline}:schema";
  int64_t maxlen = 0;
};

struct sync_pipeline_config {
  std::string name;
  /// The node that runs this pipeline; empty when `nodes` is given.
  std::string node;
  /// Failover: the nodes that may run it, one at a time: the holder of its lease
  /// on the target (sync_lease). Empty: `node` runs it, with no lease.
  std::vector<std::string> nodes;
  /// How long a holder's lease lasts without renewal (renewed every quarter of
  /// it): a dead holder's pipeline moves after about this long.
  int64_t lease_ms = 5000;
  mysql_settings source;
  /// `source.candidates`: other servers of the source's replication topology
  /// (GTID replicas with log_slave_updates), tried in order when the source
  /// does not answer for `source.switch_after_ms`; the pipeline's checkpoints
  /// move to the one it reads by GTID.
  std::vector<mysql_settings> source_candidates;
  int64_t source_switch_after_ms = 5000;
  /// The replica server id the reader presents to the source; unique per source.
  uint32_t server_id = 0;
  /// The MySQL target; for a stream target, `target.state`: the MySQL server
  /// that keeps the pipeline's state (its epoch, lease and source).
  mysql_settings target;
  /// "mysql", "redis_stream" or "kafka" (then `stream` says where), or "none".
  std::string target_kind = "mysql";
  stream_target_config stream;
  int64_t partitions = 4;
  /// "key": rows by key over `partitions` connections, each key in order (fast;
  /// a reader of the target can see part of a source transaction).
  /// "transaction": whole source transactions, in source commit order, several
  /// per target transaction (never half of one).
  std::string apply = "key";
  sync_start start;
  /// Table patterns `db.table` with `*` wildcards; empty include means all.
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  /// Source `db.table` (or `db`) -> target name.
  std::map<std::string, std::string> rename;
  /// Most rows one partition writes in one target transaction (by default at
  /// most max_inflight_rows; see pipeline_settings::batch_rows).
  int64_t batch_rows = 4000;
  /// Most row changes decoded but not yet applied (backpressure bound).
  int64_t max_inflight_rows = 50000;
  /// Most bytes of decoded row changes not yet applied (the bound for wide rows:
  /// 50,000 rows of 1 MiB BLOBs would be 50 GB).
  int64_t max_inflight_bytes = 64 << 20;
  /// Database on the target that holds shoal's checkpoint table.
  std::string checkpoint_database = "shoal";
  /// Replay triggers, events, procedures and functions on the target
  /// (`ddl.copy_routines`; off: they are skipped, logged and counted).
  bool copy_routines = false;
  /// /healthz answers 503 while the pipeline lags more than this many seconds
  /// behind its source; 0: no bound.
  int64_t max_lag_seconds = 0;
};

struct sync_config {
  std::vector<sync_pipeline_config> pipelines;
  /// POST /sync/NAME/pause and /sync/NAME/resume on the node's HTTP port (what
  /// `shoal sync pause|resume` calls); off unless configured.
  bool http_api = false;
  /// Environment variable holding the bearer secret those routes require.
  std::string http_api_secret_env;
};

struct tokens_config {
  /// Nodes that may hold a provider's keeper lease; empty means all nodes.
  std::vector<std::string> keepers;
  int64_t lease_ms = 3000;
  /// The `providers` list as written; validated by the token service.
  nlohmann::json providers = nlohmann::json::array();
  /// GET /token/NAME and POST /token/NAME/rejected on the node's HTTP port, for
  /// services in other languages; off unless configured.
  bool http_api = false;
  /// Environment variable holding the bearer secret the HTTP API requires.
  std::string http_api_secret_env;
  /// Name of a `$.mysql` server that mirrors each token record; empty: no mirror.
  std::string mirror_mysql;
  /// "db.table" of the mirror (created if missing).
  std::string mirror_table = "shoal.token_mirror";
  bool present = false;
};

/// One `hotkeys.invalidate_from` entry: the changes of `table` that pipeline
/// `pipeline` reads drop the cache key `key` renders from each row.
struct cache_invalidation_config {
  std::string pipeline;
  /// The source table, `db.table`.
  std::string table;
  /// A key template such as "sku:{id}".
  std::string key;
};

struct hotkeys_config {
  /// Nodes that run counter shards; empty means all nodes.
  std::vector<std::string> shard_nodes;
  /// How often a node's recorder flushes its counts to the shards.
  int64_t flush_ms = 5;
  /// The `rules` list as written; validated by the hot-key service.
  nlohmann::json rules = nlohmann::json::array();
  /// Optional file with rules, reloaded on SIGHUP.
  std::string rules_file;
  int64_t cache_max_entries = 10000;
  int64_t cache_max_bytes = 64 << 20;
  /// Most keys a counter shard keeps an exact window for (its memory bound).
  int64_t shard_max_candidates = 10000;
  /// Token buckets guarding the loader: one per rule and one per key; rate 0 = off.
  double rule_rate = 0;
  int64_t rule_burst = 1;
  double key_rate = 0;
  int64_t key_burst = 1;
  int64_t key_max_keys = 100000;
  /// Circuit breaker around the loader.
  double breaker_error_ratio = 0.5;
  double breaker_slow_call_ratio = 1.0;
  int64_t breaker_slow_call_ms = 1000;
  int64_t breaker_minimum_calls = 10;
  int64_t breaker_window_ms = 10000;
  int64_t breaker_open_ms = 5000;
  int64_t breaker_half_open_probes = 3;
  /// Value answered while limited or the breaker is open; unset: no value.
  std::optional<std::string> fallback;
  /// Longest wait of a read sharing another read's loader call.
  int64_t wait_ms = 2000;
  /// Redis pub/sub channel whose messages (each one key) drop that key's cached
  /// value on every node, for writers in other languages; empty: off.
  std::string invalidation_channel;
  /// `invalidate_from`: source tables whose committed changes drop hot-cache
  /// keys on every node (actors/binlog/sync/cache_keys.hpp).
  std::vector<cache_invalidation_config> invalidate_from;
  /// POST /hotkeys/manual and /hotkeys/invalidate on the node's HTTP port; off
  /// (not served) unless configured.
  bool http_api = false;
  /// Environment variable holding the bearer secret those routes require.
  std::string http_api_secret_env;
  /// The UDP line protocol for counting (record_batch.hpp); port 0: off.
  endpoint udp_listen{"127.0.0.1", 0};
  bool udp = false;
  /// Environment variable holding the secret every datagram starts with; empty: none.
  std::string udp_secret_env;
  /// Most GET /hotkeys/stream subscribers at once (each holds an HTTP thread).
  int64_t stream_max_subscribers = 4;
  /// Redis pub/sub channel the hot/cold/invalidate events go out on; empty: off.
  std::string events_channel;
  /// GET /cache/KEY's loader: a Redis GET of this key template ("item:{key}")...
  std::string loader_redis_get;
  /// ...or a GET of this URL template ("http://127.0.0.1:8080/items/{key}"); both
  /// empty: GET /cache is not served.
  std::string loader_http;
  int64_t loader_timeout_ms = 1000;
  bool present = false;
};

struct config {
  node_config node;
  cluster_config cluster;
  tls_config tls;
  http_config http;
  log_config log;
  std::optional<redis_settings> redis;
  /// Named MySQL servers (for services that need one outside a pipeline).
  std::map<std::string, mysql_settings> mysql;
  tokens_config tokens;
  sync_config sync;
  hotkeys_config hotkeys;
  /// Where the config was read from ("" for in-memory); relative paths in it
  /// (TLS files, rules_file) are resolved against its folder.
  std::string origin;

  /// Names of every node in the cluster, this one first.
  std::vector<std::string> node_names() const;
};

/// A parsed config, or the list of everything wrong with it (never empty).
using config_result = expected<config, std::vector<std::string>>;

/// Validates `doc`. `origin` is the file it came from, for resolving relative paths.
config_result parse_config(const nlohmann::json& doc, const std::string& origin = {});

/// Reads and validates a JSON file; syntax errors name the line and column.
config_result load_config_file(const std::string& path);

/// Parses JSON text (for embedding a config in code).
config_result parse_config_text(const std::string& text, const std::string& origin = {});

/// The value of the environment variable `name`, or nullopt if unset or empty.
std::optional<std::string> secret_from_env(const std::string& name);

} // namespace shoal

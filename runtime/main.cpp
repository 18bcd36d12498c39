// The shoal command line: `shoal node`, `shoal check`, and the service tools.
// Only this file decides exit codes: 0 success, 1 a check found a difference or
// a service failed, 2 bad usage or bad config. A node stops on SIGTERM/SIGINT,
// reloads on SIGHUP and reopens its log file on SIGUSR1 (after logrotate); under
// systemd it reports READY=1, STOPPING=1 and watchdog keep-alives (sd_notify).

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include "actors/binlog/verify/verifier.hpp"
#include "runtime/adapters/http_client.hpp"
#include "runtime/base/url_encode.hpp"
#include "runtime/config.hpp"
#include "runtime/engine.hpp"
#include "runtime/hotkey_replay.hpp"
#include "runtime/logging.hpp"
#include "runtime/systemd_notifier.hpp"
#include "runtime/token_service.hpp"

namespace {

/// The config at `path`, or nullopt after printing its errors to stderr.
std::optional<shoal::config> load_or_report(const std::string& path) {
  auto cfg = shoal::load_config_file(path);
  if (!cfg) {
    for (auto& e : cfg.error())
      std::cerr << e << '\n';
    return std::nullopt;
  }
  return std::move(*cfg);
}

/// Pipeline `name` of `cfg`, or nullptr after printing, after `who`, that there
/// is none and which there are.
const shoal::sync_pipeline_config* find_pipeline(const shoal::config& cfg,
                                                 const std::string& name,
                                                 const std::string& path,
                                                 const std::string& who) {
  std::string names;
  for (auto& candidate : cfg.sync.pipelines) {
    if (candidate.name == name)
      return &candidate;
    names += (names.empty() ? "" : ", ") + candidate.name;
  }
  std::cerr << who << "no pipeline \"" << name << "\" in " << path
            << " (pipelines: " << (names.empty() ? "none" : names) << ")\n";
  return nullptr;
}

int check(const std::string& path) {
  auto cfg = load_or_report(path);
  if (!cfg)
    return 2;
  auto& c = *cfg;
  std::cout << "config ok: node " << c.node.name << ", " << c.cluster.peers.size()
            << " peer(s), " << c.sync.pipelines.size() << " pipeline(s)"
            << (c.tls.enabled() ? ", mutual TLS" : "") << '\n';
  return 0;
}

/// `shoal verify`: compares a pipeline's selected tables, source against target.
int verify(const std::string& path, const std::string& pipeline, int64_t chunk_rows,
           bool json) {
  auto cfg = load_or_report(path);
  if (!cfg)
    return 2;
  auto* p = find_pipeline(*cfg, pipeline, path, "shoal verify: ");
  if (!p)
    return 2;
  if (p->target_kind != "mysql") {
    std::cerr << "shoal verify: pipeline " << p->name << " writes to a " << p->target_kind
              << " target; verify compares a MySQL target with its source (a stream's "
                 "consumers hold the copies)\n";
    return 2;
  }
  auto problems = shoal::binlog::table_filter::check(p->include, p->exclude, p->rename);
  for (auto& problem : problems)
    std::cerr << "shoal verify: pipeline " << p->name << ": " << problem << '\n';
  if (!problems.empty())
    return 2;
  auto connect = [](const shoal::mysql_settings& s,
                    const char* role) -> std::optional<shoal::mysql_connection> {
    shoal::mysql_config mc;
    mc.host = s.address.host;
    mc.port = s.address.port;
    mc.user = s.user;
    if (!s.password_env.empty()) {
      auto password = shoal::secret_from_env(s.password_env);
      if (!password) {
        std::cerr << "shoal verify: environment variable " << s.password_env
                  << " (password of the " << role << ") is not set\n";
        return std::nullopt;
      }
      mc.password = *password;
    }
    mc.connect_timeout = std::chrono::seconds{(s.connect_timeout_ms + 999) / 1000};
    mc.read_timeout = std::chrono::seconds{(s.read_timeout_ms + 999) / 1000};
    auto conn = shoal::mysql_connection::connect(mc);
    if (!conn) {
      std::cerr << "shoal verify: cannot connect to the " << role << " at "
                << mc.endpoint() << ": " << conn.error().to_string() << '\n';
      return std::nullopt;
    }
    return std::move(*conn);
  };
  auto source = connect(p->source, "source");
  if (!source)
    return 2;
  auto target = connect(p->target, "target");
  if (!target)
    return 2;
  shoal::binlog::table_filter filter{p->include, p->exclude, p->rename,
                                     p->checkpoint_database};
  shoal::binlog::verify_options options;
  options.chunk_rows = chunk_rows;
  shoal::binlog::verifier v{*source, *target, filter, options};
  auto report = v.run();
  if (!report) {
    std::cerr << "shoal verify: " << report.error().to_string() << '\n';
    return 2;
  }
  if (json)
    std::cout << report->to_json() << std::endl;
  else
    std::cout << report->to_text() << std::flush;
  return report->identical() ? 0 : 1;
}

int token_get(const std::string& path, const std::string& provider) {
  auto cfg = load_or_report(path);
  if (!cfg)
    return 2;
  auto t = shoal::read_stored_token(*cfg, provider);
  if (t.token.empty()) {
    std::cerr << "shoal token get: " << t.error << '\n';
    return 1;
  }
  std::cerr << "version " << t.version << ", expires_at_ms " << t.expires_at_ms << '\n';
  std::cout << t.token << '\n';
  return 0;
}

/// `shoal sync pause|resume|status`: asks the node that runs a pipeline, over its
/// HTTP port (the config's http.listen, or `url`).
int sync_command(const std::string& path, const std::string& action,
                 const std::string& pipeline, std::string url,
                 const std::string& ca_file) {
  auto cfg = load_or_report(path);
  if (!cfg)
    return 2;
  const std::string me = "shoal sync " + action + ": ";
  auto* p = find_pipeline(*cfg, pipeline, path, me);
  if (!p)
    return 2;
  if (url.empty()) {
    if (p->node != cfg->node.name) {
      std::cerr << me << "pipeline " << pipeline << " runs on node " << p->node
                << ", and " << path << " is node " << cfg->node.name << "'s config: give "
                << p->node << "'s config, or --url\n";
      return 2;
    }
    if (!cfg->http.enabled || cfg->http.listen.port == 0) {
      std::cerr << me << path
                << (cfg->http.enabled ? " lets the node pick its HTTP port (http.listen "
                                        "port 0): give --url with the port it printed "
                                        "(\"ready ... http=PORT\")"
                                      : " turns the node's HTTP port off (http.enabled)")
                << '\n';
      return 2;
    }
    auto host = cfg->http.listen.host;
    if (host == "0.0.0.0" || host.empty())
      host = "127.0.0.1";
    else if (host == "::")
      host = "::1";
    if (host.find(':') != std::string::npos)
      host = "[" + host + "]";
    url = std::string{cfg->http.tls.enabled() ? "https://" : "http://"} + host + ":" +
          std::to_string(cfg->http.listen.port);
  }
  const std::string path_of = "/sync/" + shoal::url_encode(pipeline);
  shoal::http_request request{"GET", path_of, {}, "", ""};
  if (action != "status") {
    if (!cfg->sync.http_api) {
      std::cerr << me << path
                << " does not turn on sync.http_api, which pause and resume need "
                   "(with a bearer secret: \"http_api\": {\"secret_env\": \"VAR\"})\n";
      return 2;
    }
    auto secret = shoal::secret_from_env(cfg->sync.http_api_secret_env);
    if (!secret) {
      std::cerr << me << "environment variable " << cfg->sync.http_api_secret_env
                << " (sync.http_api.secret_env) is not set\n";
      return 2;
    }
    request = {
        "POST", path_of + "/" + action, {{"Authorization", "Bearer " + *secret}}, "", ""};
  }
  shoal::http_client_options options;
  options.read_timeout = std::chrono::seconds{60}; // a pause waits for a commit
  options.ca_file = ca_file;
  shoal::http_client client{url, options};
  auto reply = client.send(request);
  if (auto* e = std::get_if<shoal::http_error>(&reply)) {
    std::cerr << me << url << ": " << e->message << '\n';
    return 1;
  }
  auto& r = std::get<shoal::http_response>(reply);
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (r.status != 200) {
    std::string why = r.body;
    for (auto key : {"message", "error"})
      if (body.is_object() && body.contains(key) && body[key].is_string()) {
        why = body[key].get<std::string>();
        break;
      }
    std::cerr << me << url << " answered " << r.status << ": " << why << '\n';
    return 1;
  }
  if (action == "status")
    std::cout << (body.is_discarded() ? r.body : body.dump(2)) << '\n';
  else
    std::cout << (body.is_object() && body.contains("message")
                      ? body["message"].get<std::string>()
                      : r.body)
              << '\n';
  return 0;
}

/// Blocks the signals the node reacts to, so that only the waiting thread gets them.
sigset_t block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

/// Waits for one of `signals` until `deadline`; returns 0 at the deadline. Without a
/// deadline (nullopt) waits for a signal only.
int wait_signal(const sigset_t& signals,
                std::optional<std::chrono::steady_clock::time_point> deadline) {
  using namespace std::chrono;
  if (!deadline) {
    int sig = 0;
    sigwait(&signals, &sig);
    return sig;
  }
  for (;;) {
    auto left = std::max(nanoseconds{0}, *deadline - steady_clock::now());
    auto whole = duration_cast<seconds>(left);
    timespec timeout{static_cast<time_t>(whole.count()),
                     static_cast<long>((left - whole).count())};
    int sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig > 0)
      return sig;
    if (errno == EAGAIN)
      return 0;
  }
}

int run_node(const std::string& path) {
  auto signals = block_signals();
  shoal::systemd_notifier notifier;
  auto cfg = load_or_report(path);
  if (!cfg)
    return 2;
  if (auto err = shoal::configure_logging(cfg->log, cfg->node.name)) {
    std::cerr << *err << '\n';
    return 2;
  }
  std::string error;
  auto eng = shoal::engine::start(*cfg, &error);
  if (!eng) {
    std::cerr << "shoal: " << error << '\n';
    return 1;
  }
  // A line for scripts and tests that wait for the node to be ready.
  std::cout << "ready node=" << cfg->node.name << " port=" << eng->port()
            << " http=" << eng->http_port() << std::endl;
  notifier.ready("node " + cfg->node.name + " serving on port " +
                 std::to_string(eng->port()));
  // Keep-alives at their own pace, whatever signals arrive between them.
  std::optional<std::chrono::steady_clock::time_point> next_keepalive;
  if (notifier.watchdog_interval().count() > 0)
    next_keepalive = std::chrono::steady_clock::now() + notifier.watchdog_interval();
  for (;;) {
    int sig = wait_signal(signals, next_keepalive);
    if (sig == 0) {
      notifier.watchdog();
      *next_keepalive += notifier.watchdog_interval();
      continue;
    }
    if (sig == SIGUSR1) {
      // After logrotate moved the file: write to a new one at the configured path.
      if (auto err = shoal::reopen_log_file())
        shoal::log().error("SIGUSR1: {}", *err);
      else
        shoal::log().info("SIGUSR1: log file reopened");
      continue;
    }
    if (sig == SIGHUP) {
      auto errors = eng->reload();
      for (auto& e : errors)
        shoal::log().error("SIGHUP: {}", e);
      if (errors.empty())
        shoal::log().info("SIGHUP: reloaded");
      continue;
    }
    shoal::log().info("signal {}: stopping", sig);
    notifier.stopping("stopping on signal " + std::to_string(sig));
    break;
  }
  eng->stop();
  eng.reset();
  shoal::log().info("stopped");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "shoal: actor-model event processing (token keeper, binlog sync, hot keys)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string{"shoal "} + SHOAL_VERSION);
  std::string config_path;

  auto node_cmd =
      app.add_subcommand("node", "run a node: the services its config places here");
  node_cmd->add_option("--config,-c", config_path, "config file (JSON)")->required();

  auto check_cmd =
      app.add_subcommand("check", "validate a config file; exit 2 if invalid");
  check_cmd->add_option("--config,-c", config_path, "config file (JSON)")->required();

  std::string trace;
  double speed = 0;
  auto hotkeys_cmd = app.add_subcommand("hotkeys", "hot-key tools");
  hotkeys_cmd->require_subcommand(1);
  auto replay_cmd = hotkeys_cmd->add_subcommand(
      "replay", "replay a `timestamp_ms key` trace through the hot-key pipeline; print "
                "each detection as a JSON line");
  replay_cmd->add_option("--config,-c", config_path, "config file (JSON)")->required();
  replay_cmd->add_option("--trace,-t", trace, "trace file, or - for stdin")->required();
  replay_cmd->add_option("--speed", speed, "x times trace speed; 0: as fast as possible")
      ->check(CLI::NonNegativeNumber);

  std::string pipeline;
  int64_t chunk_rows = 1000;
  bool json = false;
  auto verify_cmd = app.add_subcommand(
      "verify",
      "compare a sync pipeline's target with its source; exit 0 identical, 1 differ");
  verify_cmd->add_option("--config,-c", config_path, "config file (JSON)")->required();
  verify_cmd->add_option("--pipeline,-p", pipeline, "pipeline name")->required();
  verify_cmd->add_option("--chunk-rows", chunk_rows, "rows per checksum chunk")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  verify_cmd->add_flag("--json", json, "print the report as one JSON object");

  std::string provider;
  auto token_cmd = app.add_subcommand("token", "token keeper tools");
  token_cmd->require_subcommand(1);
  auto token_get_cmd = token_cmd->add_subcommand(
      "get",
      "print the cluster's current token of a provider (from Redis); exit 1 if none");
  token_get_cmd->add_option("--config,-c", config_path, "config file (JSON)")->required();
  token_get_cmd->add_option("--provider,-p", provider, "provider name")->required();

  std::string sync_url, ca_file;
  auto sync_cmd = app.add_subcommand("sync", "operate a sync pipeline on its node");
  sync_cmd->require_subcommand(1);
  std::vector<CLI::App*> sync_actions;
  for (auto [action, what] :
       {std::pair{"pause", "stop a pipeline at a clean point until resume"},
        std::pair{"resume",
                  "start a paused pipeline again, or restart a failed one once its "
                  "cause is fixed, from its checkpoints"},
        std::pair{"status", "print a pipeline's status as JSON"}}) {
    auto cmd = sync_cmd->add_subcommand(action, what);
    cmd->add_option("--config,-c", config_path, "config file (JSON)")->required();
    cmd->add_option("pipeline", pipeline, "pipeline name")->required();
    cmd->add_option("--url", sync_url,
                    "the node's HTTP port, e.g. http://127.0.0.1:8101 (default: the "
                    "config's http.listen)");
    cmd->add_option("--ca-file", ca_file, "CA bundle to check an https node with");
    sync_actions.push_back(cmd);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    auto code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (*replay_cmd)
    return shoal::replay_hotkeys(config_path, trace, speed, std::cin, std::cout,
                                 std::cerr);
  if (*token_get_cmd)
    return token_get(config_path, provider);
  if (*check_cmd)
    return check(config_path);
  if (*node_cmd)
    return run_node(config_path);
  if (*verify_cmd)
    return verify(config_path, pipeline, chunk_rows, json);
  for (auto* cmd : sync_actions)
    if (*cmd)
      return sync_command(config_path, cmd->get_name(), pipeline, sync_url, ca_file);
  return 2;
}

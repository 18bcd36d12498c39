// token_standin: an HTTP server that behaves like a third-party token platform.
//
// Tests, benches and the demo cannot call the real WeChat or an OAuth2 identity
// provider, so this stands in for them, with the behaviour the token keeper must
// cope with, compressed in time:
//
//   GET  /cgi-bin/token?grant_type=client_credential&appid=A&secret=S
//        a new token per call; earlier tokens of A stay valid for `grace` more
//   POST /cgi-bin/stable_token  {"grant_type","appid","secret","force_refresh"}
//        the same token while it is valid; force_refresh issues a new one and kills
//        the old at once, at most `force_refresh_daily_limit` a day (then 45009) and
//        not within `force_refresh_min_interval` of the last (then the old token is
//        returned unchanged, as the real platform does)
//   POST /oauth2/token  form grant_type=client_credentials&client_id&client_secret
//        a new token per call; 400 unsupported_grant_type, 401 invalid_client,
//        429 when the quota is used up
//   GET  /cgi-bin/gettoken?corpid=C&corpsecret=S            (WeCom)
//        the same token until it expires, each time with the full expires_in (a
//        repeated call does not tell how long the token has left); a new token
//        only once the old one has expired (outcomes "ok" new, "same" repeated)
//   GET  /cgi-bin/ticket/getticket?access_token=T&type=jsapi  (JS-SDK ticket)
//        a new ticket per call (earlier ones stay valid for `grace`); T must be
//        valid now (else 40001 / 42001, as /check says); records the least life
//        an access token had left when a ticket was fetched with it
//   POST /cgi-bin/component/api_component_token  (Open Platform)
//        {"component_appid","component_appsecret","component_verify_ticket"}:
//        a new component_access_token per call; the verify ticket must be one
//        push_verify_ticket() made (61006 unknown, 61005 older than
//        `verify_ticket_expiry`)
//   POST /component/push_ticket  makes a new component_verify_ticket, as WeChat's
//        push to the platform's callback: {"component_verify_ticket":".."}
//   GET  /check?access_token=T   {"errcode":0} valid now, 42001 expired, 40001
//        replaced (past its grace period) or unknown (any token or ticket)
//   GET  /stats                  every call counted by endpoint and result
//   POST /control                change faults and limits at run time (JSON, keys as
//                                in control() below)
//
// WeChat errors: 41002/41004 missing appid/secret, 40002 bad grant_type, 40013
// unknown appid (or corpid), 40125 wrong secret (WeCom: 40001), 45009 daily quota (per appid and endpoint, per
// UTC day) used up, 47001 body not JSON. Faults apply to the three token endpoints
// (and the three new ones) only: a latency before every answer; with probability `error_rate` an injected
// error (HTTP 500, errcode -1, or a malformed body); with probability
// `timeout_rate` a hang of `hang` followed by HTTP 504. Injected faults issue no
// token and use no quota. Thread-safe; all randomness from `seed`.

#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace httplib {
class Server;
struct Request;
struct Response;
} // namespace httplib

namespace shoal::standins {

/// Behaviour of a stand-in; every field can also be changed at run time.
struct token_standin_options {
  /// Lifetime of a new token (reported in whole seconds, at least 1).
  std::chrono::milliseconds expiry = std::chrono::hours(2);
  /// How long a token stays valid after a newer one was issued for the same app.
  std::chrono::milliseconds grace = std::chrono::minutes(5);
  /// Calls per UTC day per app and endpoint; <= 0 means unlimited.
  int64_t daily_quota = 2000;
  /// stable_token force_refresh calls per UTC day per app.
  int64_t force_refresh_daily_limit = 20;
  /// Shortest time between two effective force_refresh calls.
  std::chrono::milliseconds force_refresh_min_interval = std::chrono::seconds(30);
  /// Known apps (WeChat appid or OAuth2 client_id) and their secrets.
  std::map<std::string, std::string> apps = {{"wx-test-app", "wx-test-secret"}};
  /// Delay before every answer of a token endpoint.
  std::chrono::milliseconds latency{0};
  /// Probability in [0, 1] that a token call gets an injected error.
  double error_rate = 0;
  /// Which injected errors to draw from: any of "5xx", "busy", "malformed".
  std::set<std::string> errors = {"5xx", "busy", "malformed"};
  /// Probability in [0, 1] that a token call hangs for `hang`, then gets HTTP 504.
  double timeout_rate = 0;
  std::chrono::milliseconds hang = std::chrono::seconds(10);
  /// Lifetime of a jsapi ticket; zero: `expiry`, as for tokens.
  std::chrono::milliseconds ticket_expiry{0};
  /// How long a component_verify_ticket is accepted after it was pushed.
  std::chrono::milliseconds verify_ticket_expiry = std::chrono::hours(12);
  uint64_t seed = 1;
  /// Called on the server's thread with the issued count after a WeChat `token`
  /// call issued a token and before it is answered (a test freezes a store there).
  std::function<void(int64_t)> before_token_answer;
};

class token_standin {
public:
  explicit token_standin(token_standin_options options = {});
  /// Stops the server if it runs.
  ~token_standin();

  token_standin(const token_standin&) = delete;
  token_standin& operator=(const token_standin&) = delete;

  /// Binds `host`:`port` (0 picks a free port) and serves on a background thread.
  /// Returns the bound port, or 0 when binding failed.
  int start(const std::string& host = "127.0.0.1", int port = 0);

  /// Stops serving, cutting short any injected latency or hang. Idempotent.
  void stop();

  /// The bound port (0 before start()).
  int port() const { return port_; }

  /// "http://host:port".
  std::string base_url() const;

  /// Whether `token` is accepted now: 0 valid, 42001 expired, 40001 replaced or unknown.
  int check(const std::string& token) const;

  /// Call counts as served by GET /stats:
  /// {"calls":{"token":{"ok":3,"errcode_40013":1}, ...}, "tokens_issued":3}.
  nlohmann::json stats() const;

  /// Calls to `endpoint` ("token", "stable_token", "oauth2", "check") with `outcome`
  /// ("ok", "errcode_45009", "fault_5xx", ...); 0 when none.
  int64_t count(const std::string& endpoint, const std::string& outcome) const;

  /// Tokens issued so far, over all endpoints.
  int64_t tokens_issued() const;

  /// When each token of `endpoint` ("token", "gettoken", "getticket", "component"
  /// ...) was issued, in order.
  std::vector<std::chrono::steady_clock::time_point>
  issue_times(const std::string& endpoint) const;

  /// The least life (ms) an access token had left when getticket accepted it;
  /// -1 before the first ticket.
  int64_t min_base_left_ms() const;

  /// A new component_verify_ticket, as WeChat pushes one every 10 minutes.
  std::string push_verify_ticket();

  /// The component_verify_ticket of the last component_access_token issued.
  std::string last_verify_ticket_used() const;

  /// Ends the validity of every access token issued so far (a secret reset):
  /// their users get 40001 from now on.
  void revoke_tokens();

  /// Changes behaviour at run time, as POST /control does. Keys: latency_ms,
  /// error_rate, errors, timeout_rate, hang_ms, daily_quota, expiry_ms, grace_ms,
  /// force_refresh_daily_limit, force_refresh_min_interval_ms, reset_quota (true
  /// clears today's counts), reset_stats (true clears call counts). Returns an empty
  /// string on success or what was wrong (then nothing changed).
  std::string control(const nlohmann::json& changes);

private:
  using steady = std::chrono::steady_clock;

  struct issued_token {
    std::string family;
    steady::time_point expires_at;
    /// expires_at, or earlier once a newer token of the family exists.
    steady::time_point valid_until;
  };

  struct family_state {
    std::string current;
    int64_t day = -1;
    int64_t calls_today = 0;
    int64_t forced_today = 0;
    steady::time_point last_forced = steady::time_point::min();
  };

  void install_routes();
  void handle_wechat_token(const httplib::Request& req, httplib::Response& res);
  void handle_stable_token(const httplib::Request& req, httplib::Response& res);
  void handle_oauth2(const httplib::Request& req, httplib::Response& res);
  void handle_wecom(const httplib::Request& req, httplib::Response& res);
  void handle_getticket(const httplib::Request& req, httplib::Response& res);
  void handle_component(const httplib::Request& req, httplib::Response& res);
  /// Applies latency and faults; returns true when a fault answered the request.
  bool inject_faults(const std::string& endpoint, httplib::Response& res);
  /// Waits `d` unless stop() is called first; returns false when stopping.
  bool pause(std::chrono::milliseconds d);
  void record(const std::string& endpoint, const std::string& outcome);
  void reply_errcode(const std::string& endpoint, httplib::Response& res, int code,
                     const std::string& msg);
  /// Counts one call against the family's daily quota; false when used up. Locked.
  bool take_quota(family_state& f);
  /// Issues a new token for `family`, superseding the current one with `keep_old`
  /// of validity left (at most). Locked.
  std::string issue(const std::string& family, std::chrono::milliseconds keep_old,
                    std::chrono::milliseconds life = std::chrono::milliseconds::zero());
  int64_t expires_in_seconds(const std::string& token) const;

  mutable std::mutex mtx_;
  std::condition_variable stopping_cv_;
  bool stopping_ = false;
  token_standin_options options_;
  std::mt19937_64 rng_;
  std::map<std::string, issued_token> tokens_;
  std::map<std::string, family_state> families_;
  std::map<std::string, std::map<std::string, int64_t>> calls_;
  int64_t issued_ = 0;
  std::map<std::string, std::vector<steady::time_point>> issue_times_;
  int64_t min_base_left_ms_ = -1;
  /// Pushed component_verify_tickets and when.
  std::map<std::string, steady::time_point> verify_tickets_;
  std::string last_verify_ticket_used_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string host_;
  int port_ = 0;
};

} // namespace shoal::standins

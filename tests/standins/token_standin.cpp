#include "tests/standins/token_standin.hpp"

#include <algorithm>

#include <httplib.h>

namespace shoal::standins {

namespace {

using nlohmann::json;
using std::chrono::milliseconds;

int64_t utc_day_now() {
  using namespace std::chrono;
  return duration_cast<hours>(system_clock::now().time_since_epoch()).count() / 24;
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

} // namespace

token_standin::token_standin(token_standin_options options)
    : options_(std::move(options)), rng_(options_.seed) {}

token_standin::~token_standin() {
  stop();
}

int token_standin::start(const std::string& host, int port) {
  if (server_)
    return port_;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    stopping_ = false;
  }
  server_ = std::make_unique<httplib::Server>();
  // Idle keep-alive connections hold a worker until this passes, and stop() waits
  // for the workers: keep it short.
  server_->set_keep_alive_timeout(1);
  install_routes();
  int bound = port == 0 ? server_->bind_to_any_port(host.c_str())
                        : (server_->bind_to_port(host.c_str(), port) ? port : -1);
  if (bound <= 0) {
    server_.reset();
    return 0;
  }
  host_ = host;
  port_ = bound;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // Server::stop() does nothing until the accept loop runs: wait for it, so that a
  // stop() right after start() cannot be lost.
  auto deadline = steady::now() + std::chrono::seconds(5);
  while (!server_->is_running() && steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port_;
}

void token_standin::stop() {
  if (!server_)
    return;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    stopping_ = true;
  }
  stopping_cv_.notify_all();
  server_->stop();
  if (thread_.joinable())
    thread_.join();
  server_.reset();
}

std::string token_standin::base_url() const {
  return "http://" + host_ + ":" + std::to_string(port_);
}

bool token_standin::pause(milliseconds d) {
  if (d <= milliseconds::zero())
    return true;
  std::unique_lock<std::mutex> lock(mtx_);
  return !stopping_cv_.wait_for(lock, d, [this] { return stopping_; });
}

void token_standin::record(const std::string& endpoint, const std::string& outcome) {
  std::lock_guard<std::mutex> guard(mtx_);
  ++calls_[endpoint][outcome];
}

void token_standin::reply_errcode(const std::string& endpoint, httplib::Response& res,
                                  int code, const std::string& msg) {
  record(endpoint, "errcode_" + std::to_string(code));
  send_json(res, 200, {{"errcode", code}, {"errmsg", msg}});
}

bool token_standin::inject_faults(const std::string& endpoint, httplib::Response& res) {
  milliseconds latency, hang;
  bool timeout = false;
  std::string error;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    latency = options_.latency;
    hang = options_.hang;
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    timeout = coin(rng_) < options_.timeout_rate;
    if (!timeout && coin(rng_) < options_.error_rate && !options_.errors.empty()) {
      std::uniform_int_distribution<size_t> pick(0, options_.errors.size() - 1);
      error = *std::next(options_.errors.begin(), pick(rng_));
    }
  }
  if (!pause(latency)) {
    record(endpoint, "stopped");
    send_json(res, 503, {{"errcode", -1}, {"errmsg", "stand-in stopping"}});
    return true;
  }
  if (timeout) {
    record(endpoint, "fault_timeout");
    pause(hang);
    send_json(res, 504, {{"errcode", -1}, {"errmsg", "injected timeout"}});
    return true;
  }
  if (error.empty())
    return false;
  record(endpoint, "fault_" + error);
  if (error == "5xx") {
    res.status = 502;
    res.set_content("<html><body>502 Bad Gateway</body></html>", "text/html");
  } else if (error == "busy") {
    send_json(res, 200, {{"errcode", -1}, {"errmsg", "system error"}});
  } else {
    res.status = 200;
    res.set_content("{\"access_token\": \"truncat", "application/json");
  }
  return true;
}

bool token_standin::take_quota(family_state& f) {
  auto today = utc_day_now();
  if (f.day != today) {
    f.day = today;
    f.calls_today = 0;
    f.forced_today = 0;
  }
  if (options_.daily_quota > 0 && f.calls_today >= options_.daily_quota)
    return false;
  ++f.calls_today;
  return true;
}

std::string token_standin::issue(const std::string& family, milliseconds keep_old,
                                 milliseconds life) {
  auto now = steady::now();
  auto& f = families_[family];
  for (auto& [token, t] : tokens_)
    if (t.family == family)
      t.valid_until = std::min(t.valid_until, now + keep_old);
  std::uniform_int_distribution<uint64_t> bits;
  char random[17];
  std::snprintf(random, sizeof(random), "%016llx",
                static_cast<unsigned long long>(bits(rng_)));
  auto token = "tok" + std::to_string(++issued_) + "-" + random;
  issued_token t;
  t.family = family;
  t.expires_at = now + (life > milliseconds::zero() ? life : options_.expiry);
  t.valid_until = t.expires_at;
  tokens_.emplace(token, t);
  f.current = token;
  issue_times_[family.substr(0, family.find('/'))].push_back(now);
  return token;
}

int64_t token_standin::expires_in_seconds(const std::string& token) const {
  auto i = tokens_.find(token);
  if (i == tokens_.end())
    return 0;
  // A fresh token reports its nominal lifetime, as the real platform says 7200; an
  // older one (stable_token) what is left of it, rounded down.
  auto remaining = i->second.expires_at - steady::now();
  if (options_.expiry - remaining < milliseconds(100))
    return std::chrono::duration_cast<std::chrono::seconds>(options_.expiry).count();
  auto left = std::chrono::duration_cast<std::chrono::seconds>(remaining);
  return std::max<int64_t>(1, left.count());
}

int token_standin::check(const std::string& token) const {
  std::lock_guard<std::mutex> guard(mtx_);
  auto i = tokens_.find(token);
  if (i == tokens_.end())
    return 40001;
  auto now = steady::now();
  if (now >= i->second.expires_at)
    return 42001;
  if (now >= i->second.valid_until)
    return 40001;
  return 0;
}

void token_standin::handle_wechat_token(const httplib::Request& req,
                                        httplib::Response& res) {
  const std::string ep = "token";
  if (inject_faults(ep, res))
    return;
  if (!req.has_param("appid"))
    return reply_errcode(ep, res, 41002, "appid missing");
  if (!req.has_param("secret"))
    return reply_errcode(ep, res, 41004, "appsecret missing");
  if (req.get_param_value("grant_type") != "client_credential")
    return reply_errcode(ep, res, 40002, "invalid grant_type");
  auto appid = req.get_param_value("appid");
  std::unique_lock<std::mutex> lock(mtx_);
  auto app = options_.apps.find(appid);
  if (app == options_.apps.end()) {
    lock.unlock();
    return reply_errcode(ep, res, 40013, "invalid appid");
  }
  if (app->second != req.get_param_value("secret")) {
    lock.unlock();
    return reply_errcode(ep, res, 40125, "invalid appsecret");
  }
  auto family = ep + "/" + appid;
  if (!take_quota(families_[family])) {
    lock.unlock();
    return reply_errcode(ep, res, 45009, "reach max api daily quota limit");
  }
  auto token = issue(family, options_.grace);
  auto expires_in = expires_in_seconds(token);
  ++calls_[ep]["ok"];
  auto hook = options_.before_token_answer;
  auto issued = issued_;
  lock.unlock();
  if (hook)
    hook(issued);
  send_json(res, 200, {{"access_token", token}, {"expires_in", expires_in}});
}

void token_standin::handle_stable_token(const httplib::Request& req,
                                        httplib::Response& res) {
  const std::string ep = "stable_token";
  if (inject_faults(ep, res))
    return;
  auto body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return reply_errcode(ep, res, 47001, "data format error");
  auto text = [&](const char* key) -> std::string {
    auto i = body.find(key);
    return i != body.end() && i->is_string() ? i->get<std::string>() : "";
  };
  if (text("appid").empty())
    return reply_errcode(ep, res, 41002, "appid missing");
  if (text("secret").empty())
    return reply_errcode(ep, res, 41004, "appsecret missing");
  if (text("grant_type") != "client_credential")
    return reply_errcode(ep, res, 40002, "invalid grant_type");
  bool force = false;
  if (auto f = body.find("force_refresh"); f != body.end()) {
    if (!f->is_boolean())
      return reply_errcode(ep, res, 47001, "data format error");
    force = f->get<bool>();
  }
  auto appid = text("appid");
  std::unique_lock<std::mutex> lock(mtx_);
  auto app = options_.apps.find(appid);
  if (app == options_.apps.end()) {
    lock.unlock();
    return reply_errcode(ep, res, 40013, "invalid appid");
  }
  if (app->second != text("secret")) {
    lock.unlock();
    return reply_errcode(ep, res, 40125, "invalid appsecret");
  }
  auto family = ep + "/" + appid;
  auto& f = families_[family];
  if (!take_quota(f)) {
    lock.unlock();
    return reply_errcode(ep, res, 45009, "reach max api daily quota limit");
  }
  auto now = steady::now();
  auto current = tokens_.find(f.current);
  bool current_valid = current != tokens_.end() &&
                       now + std::chrono::seconds(1) < current->second.valid_until;
  std::string token;
  std::string outcome = "ok";
  if (force) {
    if (f.forced_today >= options_.force_refresh_daily_limit) {
      lock.unlock();
      return reply_errcode(ep, res, 45009, "reach max api daily quota limit");
    }
    if (current_valid && f.last_forced != steady::time_point::min() &&
        now - f.last_forced < options_.force_refresh_min_interval) {
      token = f.current;
      outcome = "force_ignored";
    } else {
      ++f.forced_today;
      f.last_forced = now;
      token = issue(family, milliseconds::zero());
      outcome = "forced";
    }
  } else if (current_valid) {
    token = f.current;
    outcome = "same";
  } else {
    token = issue(family, options_.grace);
  }
  auto expires_in = expires_in_seconds(token);
  ++calls_[ep][outcome];
  lock.unlock();
  send_json(res, 200, {{"access_token", token}, {"expires_in", expires_in}});
}

void token_standin::handle_oauth2(const httplib::Request& req, httplib::Response& res) {
  const std::string ep = "oauth2";
  if (inject_faults(ep, res))
    return;
  auto oauth_error = [&](int status, const std::string& error) {
    record(ep, error);
    send_json(res, status, {{"error", error}});
  };
  if (req.get_param_value("grant_type") != "client_credentials")
    return oauth_error(400, "unsupported_grant_type");
  auto id = req.get_param_value("client_id");
  std::unique_lock<std::mutex> lock(mtx_);
  auto app = options_.apps.find(id);
  if (id.empty() || app == options_.apps.end() ||
      app->second != req.get_param_value("client_secret")) {
    lock.unlock();
    return oauth_error(401, "invalid_client");
  }
  auto family = ep + "/" + id;
  if (!take_quota(families_[family])) {
    lock.unlock();
    return oauth_error(429, "quota_exceeded");
  }
  auto token = issue(family, options_.expiry);
  auto expires_in = expires_in_seconds(token);
  ++calls_[ep]["ok"];
  lock.unlock();
  send_json(
      res, 200,
      {{"access_token", token}, {"token_type", "Bearer"}, {"expires_in", expires_in}});
}

void token_standin::handle_wecom(const httplib::Request& req, httplib::Response& res) {
  const std::string ep = "gettoken";
  if (inject_faults(ep, res))
    return;
  if (!req.has_param("corpid"))
    return reply_errcode(ep, res, 41002, "corpid missing");
  if (!req.has_param("corpsecret"))
    return reply_errcode(ep, res, 41004, "corpsecret missing");
  auto corpid = req.get_param_value("corpid");
  std::unique_lock<std::mutex> lock(mtx_);
  auto app = options_.apps.find(corpid);
  if (app == options_.apps.end()) {
    lock.unlock();
    return reply_errcode(ep, res, 40013, "invalid corpid");
  }
  if (app->second != req.get_param_value("corpsecret")) {
    lock.unlock();
    return reply_errcode(ep, res, 40001, "invalid credential");
  }
  auto family = ep + "/" + corpid;
  auto& f = families_[family];
  if (!take_quota(f)) {
    lock.unlock();
    return reply_errcode(ep, res, 45009, "api freq out of limit");
  }
  auto current = tokens_.find(f.current);
  bool valid = current != tokens_.end() && steady::now() < current->second.valid_until;
  auto token = valid ? f.current : issue(family, milliseconds::zero());
  // The full lifetime every time, also for a token issued long ago.
  auto expires_in = std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(options_.expiry).count());
  ++calls_[ep][valid ? "same" : "ok"];
  lock.unlock();
  send_json(res, 200,
            {{"errcode", 0},
             {"errmsg", "ok"},
             {"access_token", token},
             {"expires_in", expires_in}});
}

void token_standin::handle_getticket(const httplib::Request& req,
                                     httplib::Response& res) {
  const std::string ep = "getticket";
  if (inject_faults(ep, res))
    return;
  if (!req.has_param("access_token"))
    return reply_errcode(ep, res, 41001, "access_token missing");
  if (req.get_param_value("type") != "jsapi")
    return reply_errcode(ep, res, 40097, "invalid args");
  auto base = req.get_param_value("access_token");
  auto code = check(base);
  if (code != 0)
    return reply_errcode(ep, res, code,
                         code == 42001 ? "access_token expired"
                                       : "invalid credential, access_token is invalid "
                                         "or not latest");
  std::unique_lock<std::mutex> lock(mtx_);
  auto& used = tokens_.at(base);
  auto left = std::chrono::duration_cast<milliseconds>(
                  std::min(used.valid_until, used.expires_at) - steady::now())
                  .count();
  min_base_left_ms_ = min_base_left_ms_ < 0 ? left : std::min(min_base_left_ms_, left);
  auto family = ep + "/" + used.family;
  if (!take_quota(families_[family])) {
    lock.unlock();
    return reply_errcode(ep, res, 45009, "reach max api daily quota limit");
  }
  auto life = options_.ticket_expiry > milliseconds::zero() ? options_.ticket_expiry
                                                            : options_.expiry;
  auto ticket = issue(family, options_.grace, life);
  auto expires_in = std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(life).count());
  ++calls_[ep]["ok"];
  lock.unlock();
  send_json(
      res, 200,
      {{"errcode", 0}, {"errmsg", "ok"}, {"ticket", ticket}, {"expires_in", expires_in}});
}

void token_standin::handle_component(const httplib::Request& req,
                                     httplib::Response& res) {
  const std::string ep = "component";
  if (inject_faults(ep, res))
    return;
  auto body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return reply_errcode(ep, res, 47001, "data format error");
  auto text = [&](const char* key) -> std::string {
    auto i = body.find(key);
    return i != body.end() && i->is_string() ? i->get<std::string>() : "";
  };
  auto appid = text("component_appid");
  if (appid.empty())
    return reply_errcode(ep, res, 41002, "component_appid missing");
  if (text("component_appsecret").empty())
    return reply_errcode(ep, res, 41004, "component_appsecret missing");
  std::unique_lock<std::mutex> lock(mtx_);
  auto app = options_.apps.find(appid);
  if (app == options_.apps.end()) {
    lock.unlock();
    return reply_errcode(ep, res, 40013, "invalid appid");
  }
  if (app->second != text("component_appsecret")) {
    lock.unlock();
    return reply_errcode(ep, res, 40125, "invalid appsecret");
  }
  auto ticket = verify_tickets_.find(text("component_verify_ticket"));
  if (ticket == verify_tickets_.end()) {
    lock.unlock();
    return reply_errcode(ep, res, 61006, "component ticket is invalid");
  }
  if (steady::now() >= ticket->second + options_.verify_ticket_expiry) {
    lock.unlock();
    return reply_errcode(ep, res, 61005, "component ticket is expired");
  }
  auto family = ep + "/" + appid;
  if (!take_quota(families_[family])) {
    lock.unlock();
    return reply_errcode(ep, res, 45009, "reach max api daily quota limit");
  }
  last_verify_ticket_used_ = ticket->first;
  auto token = issue(family, options_.grace);
  auto expires_in = expires_in_seconds(token);
  ++calls_[ep]["ok"];
  lock.unlock();
  send_json(res, 200, {{"component_access_token", token}, {"expires_in", expires_in}});
}

std::string token_standin::push_verify_ticket() {
  std::lock_guard<std::mutex> guard(mtx_);
  std::uniform_int_distribution<uint64_t> bits;
  char random[17];
  std::snprintf(random, sizeof(random), "%016llx",
                static_cast<unsigned long long>(bits(rng_)));
  auto ticket = "ticket@@@" + std::to_string(verify_tickets_.size() + 1) + "-" + random;
  verify_tickets_[ticket] = steady::now();
  ++calls_["push_ticket"]["ok"];
  return ticket;
}

void token_standin::revoke_tokens() {
  std::lock_guard<std::mutex> guard(mtx_);
  auto now = steady::now();
  for (auto& [token, t] : tokens_)
    if (t.family.rfind("token/", 0) == 0 || t.family.rfind("stable_token/", 0) == 0)
      t.valid_until = std::min(t.valid_until, now);
}

std::vector<std::chrono::steady_clock::time_point>
token_standin::issue_times(const std::string& endpoint) const {
  std::lock_guard<std::mutex> guard(mtx_);
  auto i = issue_times_.find(endpoint);
  return i == issue_times_.end() ? std::vector<steady::time_point>{} : i->second;
}

std::string token_standin::last_verify_ticket_used() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return last_verify_ticket_used_;
}

int64_t token_standin::min_base_left_ms() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return min_base_left_ms_;
}

void token_standin::install_routes() {
  server_->Get("/cgi-bin/token",
               [this](const httplib::Request& req, httplib::Response& res) {
                 handle_wechat_token(req, res);
               });
  server_->Post("/cgi-bin/stable_token",
                [this](const httplib::Request& req, httplib::Response& res) {
                  handle_stable_token(req, res);
                });
  server_->Post("/oauth2/token",
                [this](const httplib::Request& req, httplib::Response& res) {
                  handle_oauth2(req, res);
                });
  server_->Get("/cgi-bin/gettoken",
               [this](const httplib::Request& req, httplib::Response& res) {
                 handle_wecom(req, res);
               });
  server_->Get("/cgi-bin/ticket/getticket",
               [this](const httplib::Request& req, httplib::Response& res) {
                 handle_getticket(req, res);
               });
  server_->Post("/cgi-bin/component/api_component_token",
                [this](const httplib::Request& req, httplib::Response& res) {
                  handle_component(req, res);
                });
  server_->Post(
      "/component/push_ticket", [this](const httplib::Request&, httplib::Response& res) {
        send_json(res, 200, {{"component_verify_ticket", push_verify_ticket()}});
      });
  server_->Get("/check", [this](const httplib::Request& req, httplib::Response& res) {
    auto code = check(req.get_param_value("access_token"));
    record("check", code == 0 ? "valid" : "errcode_" + std::to_string(code));
    const char* msg = code == 0       ? "ok"
                      : code == 42001 ? "access_token expired"
                                      : "invalid credential, access_token is invalid or "
                                        "not latest";
    send_json(res, 200, {{"errcode", code}, {"errmsg", msg}});
  });
  server_->Get("/stats", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, stats());
  });
  server_->Post("/control", [this](const httplib::Request& req, httplib::Response& res) {
    auto changes = json::parse(req.body, nullptr, false);
    auto problem = changes.is_discarded() ? "body is not JSON" : control(changes);
    if (problem.empty())
      send_json(res, 200, {{"ok", true}});
    else
      send_json(res, 400, {{"ok", false}, {"error", problem}});
  });
}

json token_standin::stats() const {
  std::lock_guard<std::mutex> guard(mtx_);
  json calls = json::object();
  for (auto& [endpoint, outcomes] : calls_)
    for (auto& [outcome, n] : outcomes)
      calls[endpoint][outcome] = n;
  return {{"calls", calls}, {"tokens_issued", issued_}};
}

int64_t token_standin::count(const std::string& endpoint,
                             const std::string& outcome) const {
  std::lock_guard<std::mutex> guard(mtx_);
  auto e = calls_.find(endpoint);
  if (e == calls_.end())
    return 0;
  auto o = e->second.find(outcome);
  return o == e->second.end() ? 0 : o->second;
}

int64_t token_standin::tokens_issued() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return issued_;
}

std::string token_standin::control(const json& changes) {
  if (!changes.is_object())
    return "expected a JSON object";
  std::lock_guard<std::mutex> guard(mtx_);
  auto next = options_;
  bool reset_quota = false;
  bool reset_stats = false;
  for (auto& [key, value] : changes.items()) {
    auto ms = [&](milliseconds& out) -> std::string {
      if (!value.is_number_integer() || value.get<int64_t>() < 0)
        return key + ": expected a non-negative integer";
      out = milliseconds(value.get<int64_t>());
      return {};
    };
    auto rate = [&](double& out) -> std::string {
      if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > 1)
        return key + ": expected a number in [0, 1]";
      out = value.get<double>();
      return {};
    };
    auto count = [&](int64_t& out) -> std::string {
      if (!value.is_number_integer())
        return key + ": expected an integer";
      out = value.get<int64_t>();
      return {};
    };
    auto flag = [&](bool& out) -> std::string {
      if (!value.is_boolean())
        return key + ": expected true or false";
      out = value.get<bool>();
      return {};
    };
    std::string problem;
    if (key == "latency_ms")
      problem = ms(next.latency);
    else if (key == "hang_ms")
      problem = ms(next.hang);
    else if (key == "expiry_ms")
      problem = ms(next.expiry);
    else if (key == "grace_ms")
      problem = ms(next.grace);
    else if (key == "force_refresh_min_interval_ms")
      problem = ms(next.force_refresh_min_interval);
    else if (key == "error_rate")
      problem = rate(next.error_rate);
    else if (key == "timeout_rate")
      problem = rate(next.timeout_rate);
    else if (key == "daily_quota")
      problem = count(next.daily_quota);
    else if (key == "force_refresh_daily_limit")
      problem = count(next.force_refresh_daily_limit);
    else if (key == "reset_quota")
      problem = flag(reset_quota);
    else if (key == "reset_stats")
      problem = flag(reset_stats);
    else if (key == "errors") {
      std::set<std::string> kinds;
      if (!value.is_array())
        problem = "errors: expected an array";
      for (auto& kind : value) {
        if (!kind.is_string() || (kind != "5xx" && kind != "busy" && kind != "malformed"))
          problem = "errors: expected items \"5xx\", \"busy\" or \"malformed\"";
        else
          kinds.insert(kind.get<std::string>());
      }
      next.errors = kinds;
    } else
      problem = key + ": unknown key";
    if (!problem.empty())
      return problem;
  }
  if (next.expiry < milliseconds(1000))
    return "expiry_ms: must be at least 1000";
  options_ = next;
  if (reset_quota)
    for (auto& [name, f] : families_) {
      f.calls_today = 0;
      f.forced_today = 0;
      f.last_forced = steady::time_point::min();
    }
  if (reset_stats)
    calls_.clear();
  return {};
}

} // namespace shoal::standins

#include "actors/token/actors/token_store.hpp"

#include <vector>

namespace shoal::token {

namespace {

const std::string renew_script = R"(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0)";

const std::string release_script = R"(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0)";

// KEYS: record, lease[, plain key]. ARGV: owner, expected version, token,
// obtained_at_ms, expires_at_ms, new version[, plain key margin ms]. Returns 1
// written, 0 version conflict, -1 not owner. The plain key gets the bare token with
// a TTL ending the margin before expiry (by Redis's clock), or is deleted when that
// time has passed: a reader never finds a token there that the record has replaced.
const std::string cas_script = R"(
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local cur = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if cur ~= tonumber(ARGV[2]) or tonumber(ARGV[6]) <= cur then return 0 end
redis.call('HSET', KEYS[1], 'token', ARGV[3], 'obtained_at_ms', ARGV[4],
           'expires_at_ms', ARGV[5], 'version', ARGV[6])
if KEYS[3] then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local ttl = tonumber(ARGV[5]) - now - tonumber(ARGV[7])
  if ttl > 0 then
    redis.call('SET', KEYS[3], ARGV[3], 'PX', ttl)
  else
    redis.call('DEL', KEYS[3])
  end
end
return 1)";

// KEYS: the day's counter. ARGV: limit (<= 0: none), expiry ms.
const std::string consume_quota_script = R"(
local limit = tonumber(ARGV[1])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if limit > 0 and used >= limit then return -used end
used = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return used)";

// KEYS: the day's counter. ARGV: limit, expiry ms.
const std::string exhaust_quota_script = R"(
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1)";

// KEYS: verify ticket. ARGV: ticket, received_at_ms, expiry ms. An older ticket
// (a delayed push) does not replace a newer one.
const std::string put_verify_ticket_script = R"(
local cur = tonumber(redis.call('HGET', KEYS[1], 'received_at_ms') or '0')
if cur > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'ticket', ARGV[1], 'received_at_ms', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1)";

// The platform's component_verify_ticket is valid for 12 hours.
const std::string verify_ticket_expiry_ms = std::to_string(12LL * 60 * 60 * 1000);

// A day's counter outlives the day, so a clock a little off still finds it.
const std::string quota_expiry_ms = std::to_string(2LL * 24 * 60 * 60 * 1000);

redis_error reply_error(const redis_reply& r, const redis_config& cfg) {
  return redis_error{redis_error::kind::other, r.str, cfg.endpoint()};
}

} // namespace

int64_t to_epoch_ms(time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch())
      .count();
}

time_point from_epoch_ms(int64_t ms) {
  return time_point{std::chrono::milliseconds{ms}};
}

token_store::token_store(redis_config redis, std::string provider, std::string owner,
                         std::chrono::milliseconds lease, std::string plain_key,
                         std::chrono::milliseconds plain_key_margin)
    : redis_(std::move(redis)), lease_key_("shoal:token:{" + provider + "}:lease"),
      record_key_("shoal:token:{" + provider + "}:record"),
      calls_prefix_("shoal:token:{" + provider + "}:calls:"),
      verify_ticket_key_("shoal:token:{" + provider + "}:verify_ticket"),
      plain_key_(std::move(plain_key)),
      plain_key_margin_ms_(std::to_string(plain_key_margin.count())),
      owner_(std::move(owner)), lease_ms_(std::to_string(lease.count())) {}

redis_expected<redis_connection*> token_store::connection() {
  if (!conn_) {
    auto c = redis_connection::connect(redis_);
    if (!c)
      return c.error();
    conn_.emplace(std::move(*c));
  }
  return &*conn_;
}

redis_expected<bool> token_store::acquire_lease() {
  auto c = connection();
  if (!c)
    return c.error();
  auto r = (*c)->command({"SET", lease_key_, owner_, "NX", "PX", lease_ms_});
  if (!r)
    return r.error();
  if (r->is_error())
    return reply_error(*r, redis_);
  if (r->is_status("OK"))
    return true;
  return renew_lease();
}

redis_expected<bool> token_store::renew_lease() {
  auto c = connection();
  if (!c)
    return c.error();
  auto r = (*c)->eval_cached(renew_script, {lease_key_}, {owner_, lease_ms_});
  if (!r)
    return r.error();
  if (r->is_error())
    return reply_error(*r, redis_);
  return r->integer == 1;
}

redis_expected<bool> token_store::release_lease() {
  auto c = connection();
  if (!c)
    return c.error();
  auto r = (*c)->eval_cached(release_script, {lease_key_}, {owner_});
  if (!r)
    return r.error();
  if (r->is_error())
    return reply_error(*r, redis_);
  return r->integer == 1;
}

redis_expected<std::optional<token_record>> token_store::read() {
  auto c = connection();
  if (!c)
    return c.error();
  auto r = (*c)->command(
      {"HMGET", record_key_, "token", "obtained_at_ms", "expires_at_ms", "version"});
  if (!r)
    return r.error();
  if (r->is_error())
    return reply_error(*r, redis_);
  auto& e = r->elements;
  if (e.size() != 4 || e[0].is_nil() || e[3].is_nil())
    return std::optional<token_record>{};
  try {
    token_record rec;
    rec.token = e[0].str;
    rec.obtained_at = from_epoch_ms(std::stoll(e[1].str));
    rec.expires_at = from_epoch_ms(std::stoll(e[2].str));
    rec.version = std::stoull(e[3].str);
    return std::optional<token_record>{std::move(rec)};
  } catch (const std::exception&) {
    return redis_error{redis_error::kind::protocol,
                       "malformed token record " + record_key_, redis_.endpoint()};
  }
}

redis_expected<cas_outcome> token_store::write(const token_record& record,
                                               uint64_t expected_version) {
  auto c = connection();
  if (!c)
    return c.error();
  auto expected = std::to_string(expected_version);
  auto obtained = std::to_string(to_epoch_ms(record.obtained_at));
  auto expires = std::to_string(to_epoch_ms(record.expires_at));
  auto version = std::to_string(record.version);
  std::vector<std::string_view> keys{record_key_, lease_key_};
  std::vector<std::string_view> args{owner_,   expected, record.token,
                                     obtained, expires,  version};
  if (!plain_key_.empty()) {
    keys.push_back(plain_key_);
    args.push_back(plain_key_margin_ms_);
  }
  auto r = (*c)->eval_cached(cas_script, keys, args);
  if (!r)
    return r.error();
  if (r->is_error())
    return reply_error(*r, redis_);
  if (r->integer == 1)
    return cas_outcome::written;
  return r->integer == 0 ? cas_outcome::version_conflict : cas_outcome::not_owner;
}

redis_expected<int64_t> token_store::consume_quota(int64_t day, int64_t limit) {
  auto c = connection();
  if (!c)
    return c.error();
  auto r = (*c)->eval_cached(consume_quota_script, {calls_prefix_ + std::to_string(day)},
                             {std::to_string(limit), quota_expiry_ms});
  if (!r)
    return r.error();
  if (r->is_error())
    return reply_error(*r, redis_);
  return static_cast<int64_t>(r->integer);
}

redis_expected<bool> token_store::exhaust_quota(int64_t day, int64_t limit) {
  if (limit <= 0)
    return false;
  auto c = connection();
  if (!c)
    return c.error();
  auto r = (*c)->eval_cached(exhaust_quota_script, {calls_prefix_ + std::to_string(day)},
                             {std::to_string(limit), quota_expiry_ms});
  if (!r)
    return r.error();
  if (r->is_error())
    return reply_error(*r, redis_);
  return true;
}

redis_expected<bool> token_store::put_verify_ticket(const std::string& ticket,
                                                    int64_t received_at_ms) {
  auto c = connection();
  if (!c)
    return c.error();
  auto r = (*c)->eval_cached(
      put_verify_ticket_script, {verify_ticket_key_},
      {ticket, std::to_string(received_at_ms), verify_ticket_expiry_ms});
  if (!r)
    return r.error();
  if (r->is_error())
    return reply_error(*r, redis_);
  return r->integer == 1;
}

redis_expected<std::string> token_store::read_verify_ticket() {
  auto c = connection();
  if (!c)
    return c.error();
  auto r = (*c)->command({"HGET", verify_ticket_key_, "ticket"});
  if (!r)
    return r.error();
  if (r->is_error())
    return reply_error(*r, redis_);
  if (r->is_nil())
    return std::string{};
  return r->str;
}

} // namespace shoal::token

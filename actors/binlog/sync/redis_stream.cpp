#include "actors/binlog/sync/redis_stream.hpp"

#include <cstdio>
#include <map>

namespace shoal::binlog {

namespace {

// KEYS[1]: the checkpoint hash; KEYS[2..]: the streams.
// ARGV: partition, epoch, end (sortable), maxlen, end (key_text), then (stream's
// KEYS index, id, event) per entry. Returns 1 appended, 0 already there, -1 fenced.
const std::string append_script = R"lua(
local held = redis.call('HGET', KEYS[1], 'epoch')
if held and tonumber(held) > tonumber(ARGV[2]) then return -1 end
local field = 'p' .. ARGV[1]
local at = redis.call('HGET', KEYS[1], field)
if at and at >= ARGV[3] then return 0 end
-- A command that fails inside a script does not undo the ones before it: every
-- stream's type is checked before the first write.
for i = 2, #KEYS do
  local t = redis.call('TYPE', KEYS[i]).ok
  if t ~= 'stream' and t ~= 'none' then
    return redis.error_reply('WRONGTYPE ' .. KEYS[i] .. ' holds a ' .. t .. ', not a stream')
  end
end
for i = 6, #ARGV, 3 do
  local key = KEYS[tonumber(ARGV[i])]
  if ARGV[4] == '0' then
    redis.call('XADD', key, '*', 'id', ARGV[i + 1], 'event', ARGV[i + 2])
  else
    redis.call('XADD', key, 'MAXLEN', '~', ARGV[4], '*', 'id', ARGV[i + 1], 'event',
               ARGV[i + 2])
  end
end
redis.call('HSET', KEYS[1], field, ARGV[3], 'k' .. ARGV[1], ARGV[5], 'epoch', ARGV[2])
return 1
)lua";

// KEYS[1]: the checkpoint hash; ARGV[1]: the claiming epoch. Returns -1 when a
// newer epoch holds it, else whether the hash existed before, then its fields.
const std::string claim_script = R"lua(
local held = redis.call('HGET', KEYS[1], 'epoch')
if held and tonumber(held) > tonumber(ARGV[1]) then return {-1} end
local existed = redis.call('EXISTS', KEYS[1])
redis.call('HSET', KEYS[1], 'epoch', ARGV[1])
local out = {existed}
for _, v in ipairs(redis.call('HGETALL', KEYS[1])) do out[#out + 1] = v end
return out
)lua";

redis_error server_error(const redis_connection& conn, const std::string& message) {
  return {redis_error::kind::other, message, conn.endpoint()};
}

} // namespace

std::string sortable_key(const change_key& key) {
  auto& file = key.at.file;
  auto dot = file.rfind('.');
  std::string base = file;
  unsigned long long ext = 0;
  if (dot != std::string::npos && dot + 1 < file.size() &&
      file.find_first_not_of("0123456789", dot + 1) == std::string::npos) {
    base = file.substr(0, dot);
    ext = std::stoull(file.substr(dot + 1));
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, "%010llu:%020llu:%020llu", ext,
                static_cast<unsigned long long>(key.at.pos),
                static_cast<unsigned long long>(key.index));
  return base + "." + buf;
}

std::string key_text(const change_key& key) {
  return key.at.file + "\t" + std::to_string(key.at.pos) + "\t" +
         std::to_string(key.index) + "\t" +
         (key.gtid.empty() ? "" : key.gtid.to_string());
}

std::optional<change_key> parse_key_text(const std::string& text) {
  std::vector<std::string> parts;
  size_t from = 0;
  for (size_t tab; (tab = text.find('\t', from)) != std::string::npos; from = tab + 1)
    parts.push_back(text.substr(from, tab - from));
  parts.push_back(text.substr(from));
  auto number = [](const std::string& t) -> std::optional<uint64_t> {
    if (t.empty() || t.size() > 19 ||
        t.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    return std::stoull(t);
  };
  if (parts.size() != 4 || parts[0].empty())
    return std::nullopt;
  auto pos = number(parts[1]);
  auto index = number(parts[2]);
  if (!pos || !index)
    return std::nullopt;
  mariadb_gtid gtid;
  if (!parts[3].empty()) {
    auto g = mariadb_gtid::parse(parts[3]);
    if (!g)
      return std::nullopt;
    gtid = *g;
  }
  return change_key{{parts[0], *pos}, *index, gtid};
}

redis_expected<std::optional<stream_claim>>
redis_stream_writer::claim(redis_connection& conn, uint64_t epoch) {
  std::vector<std::string_view> keys{checkpoint_key_};
  auto e = std::to_string(epoch);
  std::vector<std::string_view> args{e};
  auto reply = conn.eval_cached(claim_script, keys, args);
  if (!reply)
    return reply.error();
  if (reply->is_error())
    return server_error(conn, reply->str);
  if (reply->type != redis_reply::kind::array || reply->elements.empty() ||
      reply->elements[0].type != redis_reply::kind::integer)
    return server_error(conn, "the claim script answered a reply of another type");
  if (reply->elements[0].integer < 0)
    return std::optional<stream_claim>{};
  stream_claim out;
  out.existed = reply->elements[0].integer == 1;
  for (size_t i = 1; i + 1 < reply->elements.size(); i += 2) {
    auto& field = reply->elements[i].str;
    if (field.size() < 2 || field[0] != 'k')
      continue;
    auto p = field.substr(1);
    if (p.find_first_not_of("0123456789") != std::string::npos || p.size() > 9)
      continue;
    auto key = parse_key_text(reply->elements[i + 1].str);
    if (!key)
      return server_error(conn, checkpoint_key_ + " field " + field +
                                    " does not hold a binlog position: \"" +
                                    reply->elements[i + 1].str + "\"");
    out.positions[static_cast<uint32_t>(std::stoul(p))] = *key;
  }
  return std::optional<stream_claim>{std::move(out)};
}

redis_expected<append_outcome>
redis_stream_writer::append(redis_connection& conn, const std::string& slot,
                            uint64_t epoch, const change_key& end,
                            const std::vector<stream_entry>& entries) {
  std::vector<std::string> keys{checkpoint_key_};
  std::map<std::string, size_t> index_of;
  std::vector<std::string> args{slot, std::to_string(epoch), sortable_key(end),
                                std::to_string(maxlen_), key_text(end)};
  args.reserve(5 + entries.size() * 3);
  for (auto& e : entries) {
    auto [at, fresh] = index_of.emplace(e.stream, keys.size() + 1);
    if (fresh)
      keys.push_back(e.stream);
    args.push_back(std::to_string(at->second));
    args.push_back(e.id);
    args.push_back(e.event);
  }
  std::vector<std::string_view> key_views(keys.begin(), keys.end());
  std::vector<std::string_view> arg_views(args.begin(), args.end());
  auto reply = conn.eval_cached(append_script, key_views, arg_views);
  if (!reply)
    return reply.error();
  if (reply->is_error())
    return server_error(conn, reply->str);
  if (reply->type != redis_reply::kind::integer)
    return server_error(conn, "the append script answered a reply of another type: " +
                                  reply->str);
  if (reply->integer == 1)
    return append_outcome::appended;
  return reply->integer == 0 ? append_outcome::already_there : append_outcome::fenced;
}

redis_expected<std::optional<std::string>>
redis_stream_writer::checkpoint(redis_connection& conn, const std::string& slot) {
  auto field = "p" + slot;
  auto reply = conn.command({"HGET", checkpoint_key_, field});
  if (!reply)
    return reply.error();
  if (reply->is_error())
    return server_error(conn, reply->str);
  if (reply->is_nil())
    return std::optional<std::string>{};
  return std::optional<std::string>{reply->str};
}

} // namespace shoal::binlog

#include "actors/binlog/sync/redis_stream.hpp"

#include <cstdio>
#include <map>

namespace shoal::binlog {

namespace {

// KEYS[1]: the checkpoint hash; KEYS[2..]: the streams.
// ARGV: partition, epoch, end (sortable), maxlen, then (stream's KEYS index, id,
// event) per entry. Returns 1 appended, 0 already there, -1 fenced.
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
for i = 5, #ARGV, 3 do
  local key = KEYS[tonumber(ARGV[i])]
  if ARGV[4] == '0' then
    redis.call('XADD', key, '*', 'id', ARGV[i + 1], 'event', ARGV[i + 2])
  else
    redis.call('XADD', key, 'MAXLEN', '~', ARGV[4], '*', 'id', ARGV[i + 1], 'event',
               ARGV[i + 2])
  end
end
redis.call('HSET', KEYS[1], field, ARGV[3], 'epoch', ARGV[2])
return 1
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

redis_expected<append_outcome>
redis_stream_writer::append(redis_connection& conn, uint32_t partition, uint64_t epoch,
                            const change_key& end,
                            const std::vector<stream_entry>& entries) {
  std::vector<std::string> keys{checkpoint_key_};
  std::map<std::string, size_t> index_of;
  std::vector<std::string> args{std::to_string(partition), std::to_string(epoch),
                                sortable_key(end), std::to_string(maxlen_)};
  args.reserve(4 + entries.size() * 3);
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
redis_stream_writer::checkpoint(redis_connection& conn, uint32_t partition) {
  auto field = "p" + std::to_string(partition);
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

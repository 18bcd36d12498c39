#include "actors/binlog/sync/stream_sink.hpp"

#include <algorithm>
#include <set>

#include "actors/binlog/sync/change_event.hpp"
#include "runtime/base/backoff.hpp"

#include <nlohmann/json.hpp>

namespace shoal::binlog {

using namespace std::chrono;

expected<key_template, std::string> parse_stream_template(const std::string& text) {
  auto t = key_template::parse(text);
  if (!t)
    return fail(t.error());
  for (auto& name : t->columns())
    if (name != "pipeline" && name != "db" && name != "table" && name != "partition")
      return fail("{" + name +
                  "} is not a name a stream key can use: {pipeline}, {db}, {table}, "
                  "{partition} (write {{ and }} for braces)");
  return std::move(*t);
}

std::string render_stream_key(const key_template& t, const stream_names& names) {
  std::string out;
  for (auto& p : t.pieces()) {
    if (!p.column)
      out += p.text;
    else if (p.text == "pipeline")
      out += names.pipeline;
    else if (p.text == "db")
      out += names.db;
    else if (p.text == "table")
      out += names.table;
    else
      out += std::to_string(names.partition);
  }
  return out;
}

std::string change_id(const change_key& key) {
  return key.at.file + ":" + std::to_string(key.at.pos) + ":" + std::to_string(key.index);
}

namespace {

// A failure that passes: the connection, or a server reply saying so (a
// restarted server still loading its data, a script of another client running
// long, a cluster moving or electing). Nothing of the script ran then.
bool transient(const redis_error& e) {
  if (e.what == redis_error::kind::connect || e.what == redis_error::kind::timeout ||
      e.what == redis_error::kind::io)
    return true;
  // The reply's code starts the message, or follows what the adapter was
  // doing ("SCRIPT LOAD failed: BUSY ...").
  for (std::string code :
       {"LOADING ", "BUSY ", "TRYAGAIN ", "MASTERDOWN ", "CLUSTERDOWN "})
    if (e.message.rfind(code, 0) == 0 || e.message.find(": " + code) != std::string::npos)
      return true;
  return false;
}

change_source source_of(const row_op& op, const std::string& pipeline,
                        uint32_t server_id) {
  change_source s;
  s.pipeline = pipeline;
  s.server_id = server_id;
  s.db = op.table->source_db;
  s.table = op.table->source_table;
  s.at = op.key.at;
  s.row = static_cast<uint32_t>(op.key.index);
  if (!op.key.gtid.empty())
    s.gtid = op.key.gtid.to_string();
  s.ts_ms = uint64_t{op.event_time} * 1000;
  s.transaction_id = s.gtid.empty() ? op.key.at.to_string() : s.gtid;
  s.total_order = op.key.index;
  return s;
}

// The "key" member of a change event as its JSON text: change_event writes
// `{"op":"x","key":` first, then the key object (or null).
std::string key_text_of(const std::string& event) {
  static const std::string head = "{\"op\":\"c\",\"key\":";
  size_t at = head.size();
  if (event.compare(at, 4, "null") == 0)
    return "null";
  int depth = 0;
  bool in_string = false;
  for (size_t i = at; i < event.size(); ++i) {
    char c = event[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return event.substr(at, i + 1 - at);
    }
  }
  return nlohmann::json::parse(event).at("key").dump();
}

} // namespace

stream_sink::stream_sink(const pipeline_settings& settings, key_template stream,
                         key_template schema, std::string checkpoint)
    : pipeline_(settings.name), config_(settings.stream), filter_(settings.filter),
      stream_(std::move(stream)), schema_(std::move(schema)),
      writer_(std::move(checkpoint), settings.stream.maxlen),
      kafka_target_(settings.kind == target_kind::kafka) {}

expected<stream_sink, std::string> stream_sink::make(const pipeline_settings& settings) {
  auto& c = settings.stream;
  auto stream = parse_stream_template(c.stream_key);
  if (!stream)
    return fail("stream_key: " + stream.error());
  auto schema = parse_stream_template(c.schema_stream);
  if (!schema)
    return fail("schema_stream: " + schema.error());
  auto checkpoint = parse_stream_template(c.checkpoint_key);
  if (!checkpoint)
    return fail("checkpoint_key: " + checkpoint.error());
  stream_names names{settings.name, "", "", 0};
  return stream_sink{settings, std::move(*stream), std::move(*schema),
                     render_stream_key(*checkpoint, names)};
}

stream_names stream_sink::names_of(const table_schema& t, uint32_t partition) const {
  return {pipeline_, t.target_db, t.target_table, partition};
}

stream_entry stream_sink::entry(std::string stream, const change_key& at,
                                std::string event, const table_schema& t) const {
  stream_entry e{std::move(stream), change_id(at), std::move(event)};
  if (kafka_target_) {
    // The message key: the table and the row's key, so that a row's messages
    // share a partition (rows of a table without a key, the table's name).
    e.key = t.target_db + "." + t.target_table;
    if (t.has_key())
      e.key += ":" + key_text_of(e.event);
  }
  return e;
}

expected<std::vector<stream_entry>, std::string>
stream_sink::entries(const std::vector<row_op>& ops, uint32_t partition,
                     uint32_t server_id) const {
  std::vector<stream_entry> out;
  out.reserve(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    auto& op = ops[i];
    if (op.kind == op_kind::mark)
      continue;
    // The two halves of a key change, should they come here.
    if (op.kind == op_kind::delete_ && op.source == row_kind::update &&
        i + 1 < ops.size() && ops[i + 1].kind == op_kind::upsert &&
        !(op.key < ops[i + 1].key) && !(ops[i + 1].key < op.key)) {
      auto e = move_entries(op, ops[i + 1], partition, server_id);
      if (!e)
        return fail(e.error());
      for (auto& one : *e)
        out.push_back(std::move(one));
      ++i;
      continue;
    }
    change_op what = change_op::update;
    switch (op.kind) {
    case op_kind::upsert:
    case op_kind::insert:
      what = op.source == row_kind::write ? change_op::insert : change_op::update;
      break;
    case op_kind::update:
    case op_kind::update_matching:
      what = change_op::update;
      break;
    case op_kind::delete_:
    case op_kind::delete_matching:
      what = change_op::delete_;
      break;
    case op_kind::mark:
      break;
    }
    auto& t = *op.table;
    auto event = change_event(what, t.formats, t.key, op.before, op.after,
                              source_of(op, pipeline_, server_id));
    if (!event)
      return fail(op.key.to_string() + ": " + event.error());
    out.push_back(entry(render_stream_key(stream_, names_of(t, partition)), op.key,
                        std::move(*event), t));
  }
  return out;
}

expected<std::vector<stream_entry>, std::string>
stream_sink::move_entries(const row_op& removed, const row_op& added, uint32_t partition,
                          uint32_t server_id) const {
  auto& t = *added.table;
  auto where = source_of(added, pipeline_, server_id);
  auto stream = render_stream_key(stream_, names_of(t, partition));
  std::vector<stream_entry> out;
  if (!kafka_target_) {
    auto event = change_event(change_op::update, t.formats, t.key, removed.before,
                              added.after, where);
    if (!event)
      return fail(added.key.to_string() + ": " + event.error());
    out.push_back(entry(stream, added.key, std::move(*event), t));
    return out;
  }
  auto gone =
      change_event(change_op::delete_, t.formats, t.key, removed.before, {}, where);
  auto made = change_event(change_op::insert, t.formats, t.key, {}, added.after, where);
  if (!gone || !made)
    return fail(added.key.to_string() + ": " + (!gone ? gone.error() : made.error()));
  out.push_back(entry(stream, added.key, std::move(*gone), t));
  out.push_back(entry(stream, added.key, std::move(*made), t));
  // Both halves carry the change's id; the second is told apart by a suffix.
  out.back().id += ":new";
  return out;
}

std::vector<stream_entry>
stream_sink::ddl_entries(const std::string& statement, const std::string& db,
                         const std::vector<std::pair<std::string, std::string>>& tables,
                         const change_key& at, uint32_t partitions,
                         uint32_t server_id) const {
  change_source s;
  s.pipeline = pipeline_;
  s.server_id = server_id;
  s.db = db;
  s.at = at.at;
  if (!at.gtid.empty())
    s.gtid = at.gtid.to_string();
  auto event = ddl_event(statement, s);
  auto id = change_id(at);
  std::vector<stream_entry> out;
  std::set<std::string> streams;
  auto add = [&](const std::string& stream) {
    if (streams.insert(stream).second)
      out.push_back({stream, id, event});
  };
  add(render_stream_key(schema_, {pipeline_, "", "", 0}));
  if (kafka_target_) {
    out.back().key = db;
    return out;
  }
  for (auto& [d, table] : tables) {
    if (table.empty())
      continue;
    auto [tdb, ttable] = filter_.target_of(d, table);
    for (uint32_t p = 0; p < std::max<uint32_t>(partitions, 1); ++p)
      add(render_stream_key(stream_, {pipeline_, tdb, ttable, p}));
  }
  return out;
}

bool stream_sink::deliver(const std::vector<stream_entry>& entries,
                          const std::function<bool()>& alive, const waiter& wait,
                          std::string& error) {
  std::vector<kafka_message> batch;
  batch.reserve(entries.size());
  for (auto& e : entries)
    batch.push_back({e.stream, e.key, e.event, {{"id", e.id}}});
  backoff delay{milliseconds{100}, milliseconds{2000}};
  for (;;) {
    if (!kafka_) {
      kafka_config c{config_.kafka_brokers, config_.kafka_properties};
      auto p = kafka_producer::create(c);
      if (!p) {
        error = p.error();
        return false;
      }
      kafka_ = std::move(*p);
    }
    if (batch.empty())
      return true;
    error = kafka_->send(batch, alive);
    if (error.empty())
      return true;
    if (error == "stopped")
      return false;
    error = endpoint() + ": " + error;
    // A fatal error of the idempotent producer ends that producer: a new one
    // sends the batch again.
    if (auto fatal = kafka_->fatal_error(); !fatal.empty()) {
      error += " (fatal: " + fatal + "; a new producer sends the batch again)";
      kafka_.reset();
    }
    if (!wait(delay.next(), error))
      return false;
  }
}

bool stream_sink::connected(std::string& error) {
  if (conn_)
    return true;
  auto c = redis_connection::connect(config_.redis);
  if (!c) {
    error = c.error().to_string();
    return false;
  }
  conn_.emplace(std::move(*c));
  return true;
}

stream_sink::sent stream_sink::append(const std::string& slot, uint64_t epoch,
                                      const change_key& end,
                                      const std::vector<stream_entry>& entries,
                                      const waiter& wait, std::string& error) {
  backoff delay{milliseconds{100}, milliseconds{2000}};
  // After a failure Redis may have restarted: what it holds is checked first.
  bool check = false;
  for (;;) {
    if (!connected(error)) {
      check = true;
      if (!wait(delay.next(), error))
        return sent::failed;
      continue;
    }
    auto mine = appended_.find(slot);
    if (check && mine != appended_.end()) {
      auto at = writer_.checkpoint(*conn_, slot);
      if (!at) {
        error = at.error().to_string();
        if (!transient(at.error()))
          return sent::failed;
        if (!wait(delay.next(), error))
          return sent::failed;
        continue;
      }
      if (!*at || **at < mine->second) {
        error = endpoint() + ": the position of slot " + slot + " is " +
                (*at ? "\"" + **at + "\"" : std::string{"gone"}) +
                " though this pipeline appended up to \"" + mine->second +
                "\": Redis lost entries it had acknowledged (it restarted without "
                "persisting them; appendonly yes with appendfsync always keeps them). "
                "The pipeline stops rather than skip them: started again, it resumes "
                "from the positions Redis holds and sends them again";
        return sent::failed;
      }
      check = false;
    }
    auto r = writer_.append(*conn_, slot, epoch, end, entries);
    if (!r) {
      error = r.error().to_string();
      if (!transient(r.error()))
        return sent::failed;
      check = true;
      if (!wait(delay.next(), error))
        return sent::failed;
      continue;
    }
    if (*r == append_outcome::fenced) {
      error = endpoint() + ": a newer run of pipeline " + pipeline_ +
              " has written to the stream (its epoch is above " + std::to_string(epoch) +
              "): this one stops";
      return sent::fenced;
    }
    appended_[slot] = sortable_key(end);
    return sent::appended;
  }
}

std::optional<stream_claim> stream_sink::claim(uint64_t epoch, const waiter& wait,
                                               std::string& error) {
  backoff delay{milliseconds{100}, milliseconds{2000}};
  for (;;) {
    if (!connected(error)) {
      if (!wait(delay.next(), error))
        return std::nullopt;
      continue;
    }
    auto r = writer_.claim(*conn_, epoch);
    if (!r) {
      error = r.error().to_string();
      if (!transient(r.error()) || !wait(delay.next(), error))
        return std::nullopt;
      continue;
    }
    if (!*r) {
      error = endpoint() + ": a newer run of pipeline " + pipeline_ +
              " holds the stream (its epoch is above " + std::to_string(epoch) + ")";
      return std::nullopt;
    }
    return std::move(**r);
  }
}

} // namespace shoal::binlog

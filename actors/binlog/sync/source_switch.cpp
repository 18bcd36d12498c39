#include "actors/binlog/sync/source_switch.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "actors/binlog/decoder/event_decoder.hpp"
#include "runtime/adapters/binlog_stream.hpp"

namespace shoal::binlog {

namespace {

/// "0-1-100,1-2-7" (@@gtid_binlog_pos, BINLOG_GTID_POS) by domain.
std::map<uint32_t, mariadb_gtid> parse_state(const std::string& text) {
  std::map<uint32_t, mariadb_gtid> out;
  size_t from = 0;
  while (from <= text.size()) {
    auto comma = text.find(',', from);
    auto part =
        text.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    if (auto g = mariadb_gtid::parse(part))
      out[g->domain_id] = *g;
    if (comma == std::string::npos)
      break;
    from = comma + 1;
  }
  return out;
}

/// Events that belong to the group a GTID opened; the others (rotation, file
/// headers, heartbeats) come between groups.
bool in_group(uint8_t type) {
  switch (static_cast<event_type>(type)) {
  case event_type::rotate:
  case event_type::format_description:
  case event_type::stop:
  case event_type::heartbeat:
  case event_type::mysql_previous_gtids:
  case event_type::mariadb_binlog_checkpoint:
  case event_type::mariadb_gtid_list:
  case event_type::mariadb_start_encryption:
    return false;
  default:
    return true;
  }
}

std::string name_of(const mysql_config& c) {
  return c.host + ":" + std::to_string(c.port);
}

} // namespace

located_points locate_points(const mysql_config& source, uint32_t server_id,
                             const std::vector<gtid_point>& points,
                             const std::function<bool()>& stopping) {
  located_points out;
  out.positions.resize(points.size());
  if (points.empty())
    return out;
  auto where = name_of(source);
  for (auto& p : points)
    if (p.gtid.empty()) {
      out.error = "the checkpoint at " + p.at.to_string() +
                  " has no GTID (it was written from a MySQL source or by an earlier "
                  "shoal), so its place in " +
                  where +
                  "'s binlog is unknown: run the pipeline against the server that "
                  "wrote it until it checkpoints again, or resync (start: snapshot)";
      return out;
    }
  auto domain = points.front().gtid.domain_id;
  uint64_t high = 0;
  for (auto& p : points) {
    if (p.gtid.domain_id != domain) {
      out.error = "the checkpoints stand in GTID domains " + std::to_string(domain) +
                  " and " + std::to_string(p.gtid.domain_id) +
                  ", which two servers may interleave differently: moving them to " +
                  where + " is not supported (resync: start: snapshot)";
      return out;
    }
    high = std::max(high, p.gtid.seq_no);
  }

  auto conn = mysql_connection::connect(source);
  if (!conn) {
    out.error = conn.error().to_string();
    return out;
  }
  // Another domain anywhere in the server's binlog may sit on either side of
  // a checkpoint there, whatever its place on the old server.
  auto logged = conn->scalar("SELECT @@global.gtid_binlog_state");
  if (!logged) {
    out.error = where + ": " + logged.error().to_string();
    return out;
  }
  for (auto& [d, g] : parse_state(logged->value_or("")))
    if (d != domain) {
      out.error = where + " has logged GTID domain " + std::to_string(d) + " (" +
                  g.to_string() + ") beside the checkpoints' domain " +
                  std::to_string(domain) +
                  "; two domains may interleave differently on two servers, so "
                  "moving the checkpoints there is not supported (resync: start: "
                  "snapshot)";
      return out;
    }
  auto logs = conn->query("SHOW BINARY LOGS");
  auto status = conn->query("SHOW MASTER STATUS");
  if (!logs || !status) {
    out.error = (!logs ? logs.error() : status.error()).to_string();
    return out;
  }
  if (logs->rows.empty() || status->rows.empty()) {
    out.error = where + " has no binary log to find the checkpoints in";
    return out;
  }
  binlog_position end{status->rows[0][0].value_or(""),
                      std::stoull(status->rows[0][1].value_or("4"))};
  // The newest file from whose start every point can be found: it starts
  // before each point's group, or right after a point's last group (its
  // GTID_LIST, which BINLOG_GTID_POS reads at offset 4, is the state there).
  auto usable = [&](const std::map<uint32_t, mariadb_gtid>& state) {
    auto at = state.find(domain);
    if (at == state.end())
      return true;
    return std::all_of(points.begin(), points.end(), [&](const gtid_point& p) {
      return at->second.seq_no < p.gtid.seq_no ||
             (!p.starts_group && at->second == p.gtid);
    });
  };
  uint64_t low = UINT64_MAX;
  for (auto& p : points)
    low = std::min(low, p.gtid.seq_no);
  std::optional<std::string> first;
  std::map<uint32_t, mariadb_gtid> first_state;
  std::string oldest_state;
  for (auto it = logs->rows.rbegin(); it != logs->rows.rend(); ++it) {
    auto file = (*it)[0].value_or("");
    auto at_start = conn->scalar("SELECT BINLOG_GTID_POS(" + conn->quote(file) + ",4)");
    if (!at_start || !*at_start) {
      out.error = where + ": the GTID state at the start of " + file + " cannot be read" +
                  (at_start ? std::string{" (purged meanwhile?)"}
                            : ": " + at_start.error().to_string());
      return out;
    }
    oldest_state = **at_start;
    auto parsed = parse_state(oldest_state);
    if (usable(parsed)) {
      first = file;
      first_state = std::move(parsed);
      break;
    }
  }
  if (!first) {
    out.error = "the checkpoints need GTID " + std::to_string(domain) + "-*-" +
                std::to_string(low) + " and after, but " + where +
                "'s oldest binary log starts after " + oldest_state +
                ": those groups were purged there; resync (start: snapshot)";
    return out;
  }

  // Where each GTID's group starts and ends on this server.
  std::map<uint64_t, std::pair<mariadb_gtid, binlog_position>> starts;
  std::map<uint64_t, binlog_position> ends;
  // A boundary right at the chosen file's start: its state names the group.
  if (auto s = first_state.find(domain); s != first_state.end())
    ends[s->second.seq_no] = {*first, 4};

  stream_options opts;
  opts.server_id = server_id;
  opts.start_file = *first;
  opts.start_pos = 4;
  auto stream = binlog_stream::open(source, opts);
  if (!stream) {
    out.error = stream.error().to_string();
    return out;
  }
  event_decoder decoder;
  decoder.set_checksum((*stream)->checksums() ? checksum_algorithm::crc32
                                              : checksum_algorithm::off);
  std::string file = *first;
  std::optional<mariadb_gtid> open;
  binlog_position open_end;
  auto close = [&] {
    if (open)
      ends[open->seq_no] = open_end;
    open.reset();
  };
  auto done = [&] {
    for (auto& p : points) {
      if (p.starts_group ? !starts.count(p.gtid.seq_no) : !ends.count(p.gtid.seq_no))
        return false;
    }
    return true;
  };
  uint64_t beyond = 0; // a seq_no past every point's: nothing more to find
  uint64_t newest = first_state.count(domain) ? first_state[domain].seq_no : 0;
  while (!done() && beyond == 0) {
    if (stopping()) {
      out.error = "stopped while finding the checkpoints in " + where + "'s binlog";
      return out;
    }
    auto bytes = (*stream)->next();
    if (!bytes) {
      out.error = where + ": reading its binlog from " + *first +
                  " to find the checkpoints: " + bytes.error().to_string();
      return out;
    }
    ++out.events_read;
    auto h = event_decoder::read_header(*bytes);
    if (!h) {
      out.error = where + ": " + h.error().to_string();
      return out;
    }
    auto type = static_cast<event_type>(h->type);
    uint64_t offset = h->log_pos >= h->event_size ? h->log_pos - h->event_size : 0;
    if (type == event_type::rotate || type == event_type::mariadb_gtid) {
      auto ev = decoder.decode(*bytes, offset);
      if (!ev) {
        auto err = ev.error();
        err.source = file;
        out.error = where + ": " + err.to_string();
        return out;
      }
      if (auto* r = std::get_if<rotate_event>(&ev->body)) {
        close();
        file = r->next_file;
        continue;
      }
      auto& g = std::get<mariadb_gtid_event>(ev->body).gtid;
      close();
      if (g.domain_id != domain) {
        out.error = where + " has group " + g.to_string() + " of GTID domain " +
                    std::to_string(g.domain_id) + " at " + file + ":" +
                    std::to_string(offset) + " among the checkpoints' groups (domain " +
                    std::to_string(domain) +
                    "); two domains may interleave differently on two servers, so "
                    "moving the checkpoints there is not supported (resync: start: "
                    "snapshot)";
        return out;
      }
      starts[g.seq_no] = {g, {file, offset}};
      newest = std::max(newest, g.seq_no);
      open = g;
      open_end = {file, h->log_pos};
      if (g.seq_no > high)
        beyond = g.seq_no;
      continue;
    }
    if (type == event_type::heartbeat)
      break; // the dump reached the end of the binlog
    if (!in_group(h->type)) {
      close();
    } else if (open && h->log_pos != 0) {
      open_end = {file, h->log_pos};
    }
    if (!(binlog_position{file, h->log_pos} < end) && h->log_pos != 0) {
      close();
      break;
    }
  }
  close();
  for (size_t i = 0; i < points.size(); ++i) {
    auto& p = points[i];
    if (p.starts_group) {
      auto s = starts.find(p.gtid.seq_no);
      if (s != starts.end() && s->second.first == p.gtid) {
        out.positions[i] = s->second.second;
        continue;
      }
    } else if (auto e = ends.find(p.gtid.seq_no); e != ends.end()) {
      auto s = starts.find(p.gtid.seq_no);
      // A group whose start was read must be this very GTID; one that ends at
      // the first file's start was named by that file's state.
      bool same = s != starts.end()
                      ? s->second.first == p.gtid
                      : first_state.count(domain) && first_state[domain] == p.gtid;
      if (same) {
        out.positions[i] = e->second;
        continue;
      }
    }
    auto s = starts.find(p.gtid.seq_no);
    if (s == starts.end() && p.gtid.seq_no > newest) {
      out.behind = true;
      out.error = where + " does not have GTID " + p.gtid.to_string() +
                  " yet (its binlog goes up to " + std::to_string(domain) + "-*-" +
                  std::to_string(newest) +
                  "), which the target has applied from the server that wrote the "
                  "checkpoint: a replica still catching up has it soon; if that server "
                  "committed it and died before it was replicated, the target holds "
                  "changes no other server has (resync: start: snapshot)";
      out.positions.clear();
      return out;
    }
    out.diverged = s != starts.end();
    out.error =
        "the target has applied " +
        std::string{p.starts_group ? "changes of " : "everything through "} + "GTID " +
        p.gtid.to_string() + " (at " + p.at.to_string() +
        " on the server that wrote the checkpoint), which " + where +
        (s != starts.end() ? " has as another transaction, " + s->second.first.to_string()
                           : std::string{" does not have"}) +
        ": that server committed transactions this one never received, so the "
        "target is ahead of it. Point the pipeline back at a server that has "
        "them, or resync (start: snapshot)";
    out.positions.clear();
    return out;
  }
  return out;
}

} // namespace shoal::binlog

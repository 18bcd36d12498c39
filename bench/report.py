#!/usr/bin/env python3
"""The report of bench/run-all, which runs it from the repository root:
  bench/report.py collect MANIFEST OUT_BASE  the benches' figures, machine, commit -> OUT_BASE.json
  bench/report.py render RESULTS_JSON        the table -> RESULTS.md and $RUN_ALL_README's block
Each prints the paths it wrote."""
import datetime, json, os, platform, re, subprocess, sys

MISSING = "**MISSING**"
NOPEER = "—"


def sh(*cmd, strip=True):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
        return out.strip() if strip else out
    except Exception:
        return ""


def version(pattern, text):
    m = re.search(pattern, text)
    return m.group(1) if m else (text or "not found")


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    os_name = ""
    if os.path.exists("/etc/os-release"):
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip().strip('"')
    debian = open("/etc/debian_version").read().strip() if os.path.exists("/etc/debian_version") else "not Debian"
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "ram_kib": mem_kb,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "debian": debian,
        "os": os_name,
        "peer_versions": {
            "mariadb": version(r"Ver (\S+)", sh("mariadbd", "--version")),
            "redis": version(r"v=(\S+)", sh("redis-server", "--version")),
            "sysbench": version(r"sysbench (\S+)", sh("sysbench", "--version")),
        },
    }


def git(at_build):
    """The commit the benches were built from, and the tracked files that differed
    from it then (other work may be under way in the same tree); HEAD again at the
    end, as it may have moved during the run."""
    modified = [l[3:] for l in at_build["status"].splitlines() if l.strip()]
    end_status = sh("git", "status", "--porcelain", "--untracked-files=no", strip=False)
    return {
        "commit": at_build["commit"],
        "branch": at_build["branch"],
        "subject": sh("git", "log", "-1", "--format=%s", at_build["commit"]),
        "dirty": bool(modified),
        "modified_files": modified,
        "head_at_end": sh("git", "rev-parse", "HEAD"),
        "modified_files_at_end": [l[3:] for l in end_status.splitlines() if l.strip()],
    }


def last_json_line(path, bench):
    found = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("{") and re.match(r'\{"bench":\s*"' + re.escape(bench) + '"', line):
                try:
                    found = json.loads(line)
                except ValueError:
                    pass
    return found


def collect(manifest, out_base):
    m = json.load(open(manifest))
    benches = {}
    for b in m["benches"]:
        entry = {k: b[k] for k in ("command", "exit_code", "seconds", "log")}
        problems = []
        figures = last_json_line(b["log"], b["json_tag"])
        if b["exit_code"] != 0:
            problems.append(f"exited with status {b['exit_code']}")
        if figures is None:
            problems.append(f'no JSON line starting with {{"bench":"{b["json_tag"]}"}} in its output')
        else:
            if b["name"].startswith("binlog") and figures.get("verify") != "identical":
                problems.append(f"shoal verify after the catch-up: {figures.get('verify')}")
            if b["name"] == "token":
                problems += [f"token_bench: {e}" for e in figures.get("errors", [])]
                for i, f in enumerate(figures.get("failover", [])):
                    if not f.get("lease_taken") or not f.get("refreshed"):
                        problems.append(f"failover round {i + 1}: lease taken {f.get('lease_taken')}, refreshed {f.get('refreshed')}")
        entry["figures"] = figures
        entry["problems"] = problems
        entry["ok"] = not problems
        benches[b["name"]] = entry
    results = {
        "report": "shoal bench/run-all",
        "date": m["date"],
        "mode": m["mode"],
        "complete": all(b["ok"] for b in benches.values()),
        "started_at": m["started_at"],
        "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git": git(m["git_at_build"]),
        "machine": machine(),
        "commands": [m["run_all_command"]] + [b["command"] for b in m["benches"]],
        "build_dir": m["build_dir"],
        "benches": benches,
    }
    path = out_base + ".json"
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    print(path)


# -- rendering ---------------------------------------------------------------------

def num(v, digits):
    if v is None:
        return MISSING
    if isinstance(v, str):
        return v
    return f"{v:,.{digits}f}"


def ratio_text(r):
    if r >= 100:
        return f"{r:,.0f}"
    if r >= 1:
        return f"{r:.2f}"
    return f"{r:.2g}"


class Table:
    def __init__(self):
        self.rows = []

    def add(self, scenario, figure, shoal, peer, peer_name, better, digits=0):
        """shoal, peer: a value or a list of values (shown a / b / c); None is a
        missing figure; peer NOPEER when the figure has no peer. better: 'higher',
        'lower' or None (no ratio)."""
        many = isinstance(shoal, list)
        sv = shoal if many else [shoal]
        s_txt = " / ".join(num(v, digits) for v in sv)
        if peer is NOPEER:
            p_txt, r_txt = NOPEER, NOPEER
        else:
            pv = peer if isinstance(peer, list) else [peer]
            p_txt = " / ".join(num(v, digits) for v in pv)
            if better is None:
                r_txt = NOPEER
            elif any(not isinstance(x, (int, float)) or isinstance(x, bool) for x in sv + pv) or any(x == 0 for x in pv):
                r_txt = MISSING if any(x is None for x in sv + pv) else NOPEER
            else:
                r_txt = " / ".join(ratio_text(a / b) for a, b in zip(sv, pv)) + f" ({better} is better)"
        self.rows.append((scenario, figure, s_txt, p_txt, peer_name, r_txt))

    def markdown(self):
        out = ["| scenario | figure | shoal | peer | peer name | ratio shoal/peer |",
               "|---|---|---|---|---|---|"]
        previous = None
        for r in self.rows:
            # A scenario's name only on its first row.
            cells = ("" if r[0] == previous else r[0],) + r[1:]
            previous = r[0]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(out)


def binlog_rows(t, b):
    f = b.get("figures") or {}
    g = lambda k: f.get(k)
    if f:
        scen = (f"Binlog catch-up of a sysbench write-only backlog: {g('transactions'):,} tx, "
                f"{g('row_changes'):,} row changes ({g('tables')} tables x {g('table_size'):,} rows, "
                f"{g('seconds')} s, {g('threads')} threads); "
                + (f"shoal applying whole source transactions on {g('partitions')} partitions "
                   "(apply transaction)"
                   if g("apply") == "transaction" else
                   f"shoal with {g('partitions')} partitions (apply key)"))
    else:
        scen = "Binlog catch-up"
    replica = "MariaDB replica, slave_parallel_threads=4, optimistic"
    t.add(scen, "transactions/s", g("shoal_tps"), g("replica_tps"), replica, "higher")
    t.add(scen, "row changes/s", g("shoal_rows_per_s"), g("replica_rows_per_s"), replica, "higher")
    rss = g("shoal_peak_rss_kb")
    t.add(scen, "shoal peak RSS (MiB)", rss / 1024 if rss else None, NOPEER, "not measured for the replica", None, 1)
    t.add(scen, "target identical to source (shoal verify)", g("verify"), NOPEER, NOPEER, None)
    if f and g("shoal_us_per_row") is not None and g("replica_server_us_per_row") is not None:
        # What a catch-up that fills every core must save to go faster (catchup's cpu lines).
        t.add(scen, "CPU per row change (us): target server + shoal / the replica server",
              g("shoal_target_server_us_per_row") + g("shoal_us_per_row"), g("replica_server_us_per_row"),
              replica, "lower", 1)
        t.add(scen, f"all {g('cores')} cores busy while catching up (%)", g("shoal_machine_busy_pct"),
              g("replica_machine_busy_pct"), replica, None)
    steady = g("steady_seconds")
    if steady != 0:
        mode = ("apply transaction" if g("apply") == "transaction" else "apply key") if f else ""
        rate = g("steady_rate") or 0
        pace = f"capped at {rate:,} tx/s" if rate else "at full speed"
        if f and "replica_lag_p50_ms" in f:
            # Both follow the same sysbench run, watched the same way (catchup step 5).
            s2 = (f"Binlog steady state ({mode}): sysbench {pace} for {steady} s"
                  + (f" ({g('steady_tps'):,.0f} tx/s)" if isinstance(g("steady_tps"), (int, float)) else "")
                  + " while shoal and the replica both follow")
            t.add(s2, f"lag p50 / p99 (ms), {g('lag_samples')} / {g('replica_lag_samples')} heartbeats",
                  [g("lag_p50_ms"), g("lag_p99_ms")], [g("replica_lag_p50_ms"), g("replica_lag_p99_ms")],
                  "MariaDB replica, same heartbeats, same run", "lower", 1)
            if g("lag_settled_p99_ms") is not None:
                t.add(s2, f"same, first {g('settle_seconds')} s / after: p50 / p99 (ms)",
                      [g("lag_early_p50_ms"), g("lag_early_p99_ms"), g("lag_settled_p50_ms"),
                       g("lag_settled_p99_ms")],
                      [g("replica_lag_early_p50_ms"), g("replica_lag_early_p99_ms"),
                       g("replica_lag_settled_p50_ms"), g("replica_lag_settled_p99_ms")],
                      "MariaDB replica, same heartbeats, same run", "lower", 1)
            if g("source_lag_p99_ms") is not None:
                t.add(s2, "the same watch on the source itself, p50 / p99 (ms): the floor of any follower",
                      [g("source_lag_p50_ms"), g("source_lag_p99_ms")], NOPEER, NOPEER, None, 1)
        else:
            s2 = f"Binlog steady state ({mode}): sysbench {pace} for {steady} s while shoal follows" if f else "Binlog steady state"
            t.add(s2, f"lag p50 / p99 (ms), {g('lag_samples')} heartbeats" if f else "lag p50 / p99 (ms)",
                  [g("lag_p50_ms"), g("lag_p99_ms")], NOPEER, "not measured for the replica", None, 1)


def binlog_steady_rows(t, b):
    """A run whose catch-up is only a warm-up: its figures are the steady-state
    lag at a capped sysbench rate (the catch-up rows are the other runs')."""
    f = b.get("figures") or {}
    if not f:
        t.add("Binlog steady state at a capped rate", "lag p50 / p99 (ms)", [None, None], [None, None],
              "MariaDB replica, same heartbeats, same run", "lower", 1)
        return
    binlog_rows(_SteadyOnly(t), b)


class _SteadyOnly:
    """Passes on a Table's steady-state rows only."""
    def __init__(self, t):
        self.t = t

    def add(self, scenario, *rest, **kw):
        if scenario.startswith("Binlog steady state"):
            self.t.add(scenario, *rest, **kw)


def token_rows(t, b):
    f = b.get("figures") or {}
    by_threads = {x["threads"]: x for x in f.get("local_get", [])}
    peer = "Redis HGET per call (as WxJava's Redis config)"
    for n in (2, 16):
        x = by_threads.get(n, {})
        scen = f"Token get, {n} threads"
        t.add(scen, "ns/call", x.get("local_ns_per_call"), x.get("redis_ns_per_call"), peer, "lower", 1)
        t.add(scen, "calls/s", x.get("local_calls_per_s"), x.get("redis_calls_per_s"), peer, "higher")
    scen = "Token expiry storm: 3 nodes x 32 threads, 2 s tokens"
    cyc = f.get("storm_cycles")
    t.add(scen, f"upstream calls per cycle ({f.get('storm_upstream_calls')} calls / {cyc} cycles)" if cyc else "upstream calls per cycle",
          f.get("storm_calls_per_cycle"), 1, "physical limit: 1 call per cycle", "lower", 2)
    fo = f.get("failover", [])
    scen = "Token keeper failover: kill -9 of the keeper's node, lease 1.5 s, 6 s tokens"
    t.add(scen, f"lease taken by another node (ms), {len(fo)} kills" if fo else "lease taken by another node (ms)",
          [x["lease_taken_ms"] for x in fo] if fo else None, NOPEER, NOPEER, None)
    t.add(scen, "next refresh by the new keeper (ms; waits for the advisory window by design)",
          [x["next_refresh_ms"] for x in fo] if fo else None, NOPEER, NOPEER, None)


def hotkey_rows(t, b):
    f = b.get("figures") or {}
    traces = {}
    for k in f:
        m = re.match(r"zipf([0-9.]+)_(\d+)keys_key_counter_keys_per_s$", k)
        if m:
            traces.setdefault(int(m.group(2)), []).append(m.group(1))
    if not traces:
        t.add("Hot keys: shard ingestion (Zipf traces)", "keys/s", None, None, "exact unordered_map counter", "higher")
    for keys in sorted(traces):
        skews = sorted(traces[keys], key=float)
        tag = lambda s: f"zipf{s}_{keys}keys"
        scen = f"Hot-key shard ingestion, {keys:,} keys, Zipf {' / '.join(skews)}"
        peer = "exact unordered_map sliding-window counter"
        t.add(scen, "keys/s", [f.get(tag(s) + "_key_counter_keys_per_s") for s in skews],
              [f.get(tag(s) + "_exact_keys_per_s") for s in skews], peer, "higher")
        t.add(scen, "heap (MiB)", [f.get(tag(s) + "_key_counter_heap_mib") for s in skews],
              [f.get(tag(s) + "_exact_heap_mib") for s in skews], peer, "lower", 2)
        t.add(scen, "hot keys found, precision / recall per skew",
              [f"p={f[tag(s) + '_precision']:.3f} r={f[tag(s) + '_recall']:.3f}" if tag(s) + "_precision" in f else None for s in skews],
              [f"{f.get(tag(s) + '_hot_exact')} hot" for s in skews], "exact counter (ground truth)", None)
        t.add(scen, "reported after the true crossing, trace ms p50 / p99 per skew (one slice = 100 ms)",
              [f"{f[tag(s) + '_late_p50_ms']} / {f[tag(s) + '_late_p99_ms']}" if tag(s) + "_late_p50_ms" in f else None for s in skews],
              ["0 / 0" for s in skews], "exact counter (ground truth)", None)
    hr = {}
    for k in f:
        m = re.match(r"hit_ratio_(\d+)keys_zipf([0-9.]+)_(\d+)entries_tinylfu$", k)
        if m:
            hr.setdefault((int(m.group(1)), m.group(2)), []).append(int(m.group(3)))
    if not hr:
        t.add("Hot cache hit ratio", "hit ratio", None, None, "LRU of the same size", "higher", 4)
    for (keys, skew) in sorted(hr, key=lambda x: (x[0], float(x[1]))):
        entries = sorted(hr[(keys, skew)])
        base = lambda e: f"hit_ratio_{keys}keys_zipf{skew}_{e}entries"
        t.add(f"Hot cache hit ratio, {keys:,} keys, Zipf {skew}",
              "hit ratio at " + " / ".join(f"{e:,}" for e in entries) + " entries",
              [f.get(base(e) + "_tinylfu") for e in entries], [f.get(base(e) + "_lru") for e in entries],
              "LRU of the same size", "higher", 4)
    t.add("Hot-key record() from 1 / 2 / 4 threads", "calls/s per thread",
          [f.get(f"record_per_thread_{n}t") for n in (1, 2, 4)],
          [f.get(f"mutex_map_per_thread_{n}t") for n in (1, 2, 4)], "std::mutex + unordered_map", "higher")
    reads = f.get("sale_reads")
    scen = (f"Flash sale through engine.cache(), {reads:,} reads against real Redis" if reads else "Flash sale through engine.cache()")
    t.add(scen, "reads reaching Redis", f.get("sale_redis_reads_with_hot_cache"),
          f.get("sale_redis_reads_without_hot_cache"), "no hot cache: every read to Redis", "lower")
    t.add(scen, "reads/s", f.get("sale_reads_per_s_with_hot_cache"), f.get("sale_reads_per_s_direct_redis"),
          "straight to Redis", "higher")
    ent = f.get("sale_cache_entries")
    hot = f.get("sale_hot_cache_hit_ratio")
    t.add(scen, "hit ratio", hot, f.get("sale_lru_hit_ratio"),
          f"plain LRU of {ent:,} entries, same trace (caches keys never hot too)" if ent else "plain LRU, same trace", "higher", 4)
    # The hot cache may hold only hot keys: its right peers are caches under the same
    # admission rule (bench/hotkey/hotkey_service_bench.cpp says why).
    t.add(scen, "hit ratio", hot, f.get("sale_exact_hot_only_hit_ratio"),
          "same cache fed by an exact counter, no delay (ceiling of a hot-keys-only cache)", "higher", 4)
    t.add(scen, "hit ratio", hot, f.get("sale_jd_500ms_hot_only_hit_ratio"),
          "same cache fed at JD hotkey's 500 ms push ticks", "higher", 4)
    n = f.get("sale_lru_hot_entries")
    t.add(scen, "hit ratio", hot, f.get("sale_lru_hot_entries_hit_ratio"),
          f"LRU of {n:,} entries, one per truly hot key" if n else "LRU of one entry per truly hot key", "higher", 4)
    t.add(scen, "hit ratio on reads after their key's true crossing", f.get("sale_hot_cache_hit_ratio_on_hot_reads"),
          f.get("sale_lru_hit_ratio_on_hot_reads"), f"plain LRU of {ent:,} entries" if ent else "plain LRU", "higher", 4)
    parts = [f.get(k) for k in ("sale_hot_cache_misses_never_hot", "sale_hot_cache_misses_before_crossing",
                                "sale_hot_cache_misses_after_crossing")]
    t.add(scen, "hot cache misses: key never truly hot / read up to its true crossing / after it",
          parts, NOPEER, NOPEER, None)
    nk = f.get("e2e_keys")
    if nk:
        scen = (f"Hot keys end to end from the true crossing: 3 nodes on loopback, {nk} ramp keys "
                f"(0 to {f.get('e2e_peak_rate'):,.0f}/s over {f.get('e2e_ramp_ms')} ms, accesses spread over the nodes) "
                f"in a Zipf {f.get('e2e_skew')} background of {f.get('e2e_bg_keys'):,} keys at {f.get('e2e_bg_rate'):,.0f}/s, "
                f"threshold {f.get('e2e_threshold'):,} per {f.get('e2e_window_ms')} ms; {f.get('e2e_missed')} missed, "
                f"{f.get('e2e_early')} early")
    else:
        scen = "Hot keys end to end from the true crossing, 3 nodes on loopback"
    e2e = [f.get("e2e_p50_ms"), f.get("e2e_p99_ms"), f.get("e2e_max_ms")]
    t.add(scen, "last node's cache hot after the exact count reached the threshold, p50 / p99 / max (ms)",
          e2e, [0, 0, 0], "exact counter (ground truth)", None, 1)
    t.add(scen, "same, p50 / p99 (ms)", e2e[:2], [500, 500],
          "JD hotkey's default push interval alone (500 ms, a constant)", "lower", 1)
    t.add(scen, "false hot keys (reported, exact count never reached the threshold)", f.get("e2e_false_hot"), 0,
          "exact counter (ground truth)", None)
    t.add(scen, "accesses after the true crossing until the last node knew, p50 / p99",
          [f.get("e2e_late_accesses_p50"), f.get("e2e_late_accesses_p99")], NOPEER, NOPEER, None)
    nk = f.get("detect_keys")
    scen = (f"Hot-key push, 3 nodes on loopback, {nk} keys each reaching the threshold in one burst "
            f"(no counting delay), {f.get('detect_missed')} missed") if nk else "Hot-key push, 3 nodes on loopback"
    t.add(scen, "latency from the last access, p50 / p99 (ms)", [f.get("detect_p50_ms"), f.get("detect_p99_ms")], [500, 500],
          "JD hotkey's default push interval alone (500 ms, a constant)", "lower", 1)


def invalidation_rows(t, b):
    f = b.get("figures") or {}
    ttl = f.get("ttl_ms", 1000)
    scen = "Hot-cache value stale after a source COMMIT, on the last of 3 nodes"
    if f:
        scen += f" ({f.get('measured')} changes; shoal: binlog invalidation, hotkeys.invalidate_from)"
    peer = f"TTL cache: entries expire {ttl} ms after their load (same loader, same polls)"
    t.add(scen, "ms p50 / p99", [f.get("shoal_p50_ms"), f.get("shoal_p99_ms")],
          [f.get("ttl_p50_ms"), f.get("ttl_p99_ms")], peer, "lower", 1)


def streams_rows(t, b):
    f = b.get("figures") or {}
    g = lambda k: f.get(k)
    scen = "Change streams: the same sysbench backlog written to each target"
    if f:
        scen += (f" ({g('row_changes'):,} row changes, {g('partitions')} partitions; "
                 "Kafka: librdkafka's in-memory mock cluster on this machine)")
    peer = "shoal with a MySQL target (the same backlog, the same run)"
    t.add(scen, "redis_stream row changes/s", g("redis_rows_per_s"), g("mysql_rows_per_s"), peer, "higher")
    t.add(scen, "kafka row changes/s", g("kafka_rows_per_s"), g("mysql_rows_per_s"), peer, "higher")


def machine_line(m):
    return (f"{m['cpu_model']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, Linux {m['kernel']}, "
            f"Debian {m['debian']}")


def table_for(results):
    t = Table()
    for name, rows in (("binlog", binlog_rows), ("binlog_transaction", binlog_rows),
                       ("binlog_steady", binlog_steady_rows),
                       ("token", token_rows), ("hotkey", hotkey_rows),
                       ("invalidation", invalidation_rows), ("streams", streams_rows)):
        if (name in ("binlog_transaction", "binlog_steady", "invalidation", "streams")
                and name not in results["benches"]):
            continue  # reports from before run-all measured these
        b = results["benches"].get(name, {})
        rows(t, b)
    return t


def render(path):
    results = json.load(open(path))
    t = table_for(results)
    m = results["machine"]
    g = results["git"]
    base = path[:-len(".json")] if path.endswith(".json") else path
    md = [f"# shoal benchmarks, {results['date']} ({results['mode']})", ""]
    if not results["complete"]:
        md += ["**Incomplete run**: figures marked MISSING could not be measured:", ""]
        for name, b in results["benches"].items():
            for p in b["problems"]:
                md.append(f"- {name}: {p}")
        md.append("")
    md += [
        "Each figure is measured against its peer in the same run, on a shared and noisy "
        "machine. The ratio is shoal ÷ peer; each row says whether higher or lower is better.",
        "",
        t.markdown(),
        "",
        f"Machine: {machine_line(m)}. Peers: MariaDB {m['peer_versions']['mariadb']}, "
        f"Redis {m['peer_versions']['redis']}, sysbench {m['peer_versions']['sysbench']}.",
        "",
        f"Built from commit {g['commit']}"
        + (" with uncommitted changes in " + ", ".join(g["modified_files"]) if g["dirty"] else "")
        + (f" (HEAD was {g['head_at_end']} by the end of the run)" if g.get("head_at_end", g["commit"]) != g["commit"] else "")
        + f"; run {results['started_at']} to {results['finished_at']}.",
        "",
        "To reproduce (from the repository root; the first command runs the others and writes this report):",
        "",
        "```sh",
    ] + results["commands"] + ["```", ""]
    with open(base + ".md", "w") as f:
        f.write("\n".join(md))
    print(base + ".md")
    readme = os.environ.get("RUN_ALL_README", "")
    if not readme:
        return
    if results["mode"] != "full" or not results["complete"]:
        print(f"run-all: {readme} not updated ({results['mode']} run, "
              f"{'complete' if results['complete'] else 'incomplete'})", file=sys.stderr)
        return
    text = open(readme).read()
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        sys.exit(f"run-all: {readme} needs exactly one {begin} ... {end} block")
    rel = os.path.relpath(base + ".md", os.path.dirname(os.path.abspath(readme)))
    block = "\n".join([
        begin,
        f"Measured {results['date']} by `bench/run-all` at {g['commit'][:10]} on {machine_line(m)}; "
        f"report with every figure and the commands: [{rel}]({rel}). "
        "Ratio = shoal ÷ peer; each row says which direction is better.",
        "",
        t.markdown(),
        end,
    ])
    i, j = text.index(begin), text.index(end) + len(end)
    with open(readme, "w") as f:
        f.write(text[:i] + block + text[j:])
    print(readme)


if sys.argv[1] == "collect":
    collect(sys.argv[2], sys.argv[3])
else:
    render(sys.argv[2])

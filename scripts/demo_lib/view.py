"""What the demo prints while it runs: its "demo: " lines and events, the snapshot's
progress bar, and each second a full-screen frame on a terminal; without one, events
are printed as they happen and the run loop asks for a line every 5 s."""
import sys
import time


def bar(fraction, width=24):
    fraction = max(0.0, min(1.0, fraction))
    full = int(fraction * width)
    return "[" + "#" * full + "-" * (width - full) + "]"


class View:
    def __init__(self, duration, token_expiry_s):
        self.duration = duration
        self.token_expiry_s = token_expiry_s
        self.tty = sys.stdout.isatty()
        self.events = []

    def say(self, text):
        print("demo: " + text, flush=True)

    def event(self, text):
        self.events.append(time.strftime("%H:%M:%S ") + text)
        if not self.tty:
            self.say(text)

    def snapshot_progress(self, p):
        """The snapshot of pipeline p (n1's status of it) as a bar, on a terminal only."""
        state = p.get("state", "starting")
        snap = p.get("snapshot", {})
        copied, expected = snap.get("rows", 0), max(1, snap.get("expected", 0))
        msg = "snapshot %s %d of ~%d rows copied (%s)" % (
            bar(copied / expected), copied, expected, state)
        if self.tty:
            sys.stdout.write("\r" + msg + " " * 10)
            sys.stdout.flush()
        if state == "running" and self.tty:
            sys.stdout.write("\n")

    def frame(self, elapsed, nodes, upstream):
        """Redraws the terminal: nodes, binlog sync, token keeper, hot keys, last events.
        nodes: each node's status and stats by name; upstream: the stand-in's /stats."""
        d = self.duration
        lines = ["shoal main job  %s %3d/%d s   (Ctrl-C stops and cleans up)" %
                 (bar(elapsed / d), elapsed, d), ""]
        lines.append("nodes")
        for n in nodes:
            st = nodes[n]["status"]
            if st is None:
                lines.append("  %-3s DOWN" % n)
                continue
            peers = " ".join("%s=%s" % (p["name"], p["state"]) for p in st.get("peers", []))
            lines.append("  %-3s up %4ds  sees: %s" % (n, st.get("uptime_s", 0), peers or "-"))
        p = (nodes["n1"]["status"] or {}).get("sync", {}).get("demo", {})
        if p:
            lines += ["", "binlog sync (pipeline demo on n1)",
                      "  state %-8s rows/s %8.0f  lag %5.1f s  applied %9d  in flight %6d  source %s:%s" %
                      (p.get("state"), p.get("rows_per_second", 0), p.get("lag_seconds", 0),
                       p.get("rows_applied", 0), p.get("inflight_rows", 0),
                       p.get("source", {}).get("file"), p.get("source", {}).get("position"))]
        gets = sum(nodes[n]["stats"].get("token_gets", 0) for n in nodes)
        errors = sum(nodes[n]["stats"].get("token_errors", 0) for n in nodes)
        tok = {}
        for n in nodes:
            t = (nodes[n]["status"] or {}).get("tokens", {}).get("wx")
            if t:
                tok = t if t.get("keeper_here") else (tok or t)
        lines += ["", "token keeper (provider wx, %ss tokens)" % self.token_expiry_s,
                  "  version %-3s expires in %5.1f s  keeper %-3s  gets served %10d  errors %d"
                  "  upstream calls %d" %
                  (tok.get("version", "-"), tok.get("expires_in_ms", 0) / 1000.0,
                   tok.get("keeper_node", "-"), gets, errors, upstream.get("tokens_issued", 0))]
        reads = sum(nodes[n]["stats"].get("reads", 0) for n in nodes)
        redis_reads = sum(nodes[n]["stats"].get("redis_reads", 0) for n in nodes)
        h = (nodes["n1"]["status"] or {}).get("hotkeys", {})
        hot = ", ".join("%s(%d)" % (k["key"], k["count"]) for k in h.get("hot_keys", [])[:6])
        lines += ["", "hot keys (flash sale through the hot cache, Redis behind)",
                  "  reads %10d  reached Redis %9d  saved %5.1f%%  hit ratio %5.1f%%" %
                  (reads, redis_reads, 100.0 * (reads - redis_reads) / max(1, reads),
                   100.0 * h.get("cache_hit_ratio", 0)),
                  "  limiter rejections %d  breaker %s  fallbacks %d" %
                  (h.get("limiter_rejections", 0), h.get("breaker", "-"), h.get("fallbacks", 0)),
                  "  hot now: " + (hot or "-")]
        lines += ["", "events"] + ["  " + e for e in self.events[-5:]]
        sys.stdout.write("\x1b[H\x1b[2J" + "\n".join(lines) + "\n")
        sys.stdout.flush()

    def line(self, elapsed, nodes, upstream, seen):
        """One line for a log: nodes up, sync, token, reads (seen: the run's Evidence)."""
        p = (nodes["n1"]["status"] or {}).get("sync", {}).get("demo", {})
        reads = sum(nodes[n]["stats"].get("reads", 0) for n in nodes)
        redis_reads = sum(nodes[n]["stats"].get("redis_reads", 0) for n in nodes)
        alive = [n for n in nodes if nodes[n]["status"] is not None]
        print("demo: %3ds nodes up %s | sync %.0f rows/s lag %.1f s | token v%s, %d upstream "
              "calls | reads %d, Redis %d, hot %d" %
              (elapsed, ",".join(alive), p.get("rows_per_second", 0), p.get("lag_seconds", 0),
               max(seen.token_versions) if seen.token_versions else "-",
               upstream.get("tokens_issued", 0), reads, redis_reads, len(seen.hot_seen)),
              flush=True)

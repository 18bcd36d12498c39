#!/usr/bin/env python3
"""The run phase of scripts/demo: shoal's main job on the embedded default.

scripts/demo installs and builds, then runs this. It starts throwaway servers in a
temporary folder (a source and a target MariaDB with ROW binlog and Redis, from
scripts/services; the token stand-in), the nodes of configs/cluster-3 (or
configs/single.json) with the servers and the three services added, and drives
the three scenarios at once:
  binlog sync  sysbench oltp_write_only writes to the source; n1 copies it to the target
  tokens       8 threads per node ask for the token through several short expiries
  hot keys     a flash sale reads keys through the hot cache, Redis behind it
A live view refreshes every second (periodic lines when stdout is not a terminal);
at 40% of the run n3 is killed with kill -9 and restarted at 55%. Then it stops the
writes, runs `shoal verify` on the pipeline, prints a summary, stops everything it
started and exits 0 only if every scenario held. configs/demo.json says which
servers to use: "auto" starts a throwaway one, an object points at your own.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    """A port below the ephemeral range that can be bound now (a port from bind(0)
    could become the local end of an outgoing connection before the server binds it)."""
    try:
        low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    low = low if low > 12000 else 32768
    for _ in range(200):
        port = random.randint(10000, low - 1)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port below the ephemeral range")


def http_json(url, timeout=1.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return json.loads(r.read().decode())
    except Exception:
        return None


def wait_until(what, predicate, timeout, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(what)


def bar(fraction, width=24):
    fraction = max(0.0, min(1.0, fraction))
    full = int(fraction * width)
    return "[" + "#" * full + "-" * (width - full) + "]"


SETTINGS = {
    "source": "server", "target": "server", "redis": "server",
    "token": {"expiry_s": (int, float), "grace_s": (int, float),
              "advisory_from_s": int, "advisory_until_s": int},
    "sysbench": {"database": str, "tables": int, "table_size": int, "threads": int,
                 "rate": int},
    "flash_sale": {"reads_per_second_per_node": (int, float), "flash_keys": int,
                   "flash_share": (int, float), "catalogue": int},
}


def load_settings(path):
    """configs/demo.json, checked: every error names its JSON path."""
    try:
        doc = json.load(open(path))
    except (OSError, ValueError) as e:
        raise RuntimeError("cannot read %s: %s" % (path, e))
    errors = []

    def check(value, spec, where):
        if spec == "server":
            if value == "auto":
                return
            if not isinstance(value, dict) or not isinstance(value.get("host"), str) or \
                    not isinstance(value.get("port"), int):
                errors.append('%s: expected "auto" or {"host", "port", ...}, got %s' %
                              (where, json.dumps(value)))
            return
        if isinstance(spec, dict):
            if not isinstance(value, dict):
                errors.append("%s: expected an object, got %s" % (where, json.dumps(value)))
                return
            for k in value:
                if k not in spec:
                    errors.append("%s.%s: unknown key" % (where, k))
            for k, sub in spec.items():
                if k not in value:
                    errors.append("%s.%s: missing" % (where, k))
                else:
                    check(value[k], sub, "%s.%s" % (where, k))
            return
        if not isinstance(value, spec) or isinstance(value, bool):
            errors.append("%s: expected %s, got %s" % (
                where, " or ".join(t.__name__ for t in (spec if isinstance(spec, tuple) else (spec,))),
                json.dumps(value)))

    check(doc, SETTINGS, "$")
    if errors:
        raise RuntimeError("settings error in %s:\n  " % path + "\n  ".join(errors))
    return doc


class Demo:
    def __init__(self, args, settings):
        self.args = args
        self.settings = settings
        self.build = os.path.join(ROOT, args.build_dir)
        self.shoal = os.path.join(self.build, "runtime", "shoal")
        self.demo_node = os.path.join(self.build, "bench", "demo", "shoal-demo-node")
        self.standin_bin = os.path.join(self.build, "tests", "standins", "shoal-token-standin")
        self.work = tempfile.mkdtemp(prefix="shoal-demo-")
        self.services_dir = None
        self.procs = {}
        self.node_cmd = {}
        self.standin = None
        self.sysbench = None
        self.tty = sys.stdout.isatty()
        self.events = []
        self.hot_seen = set()
        self.token_versions = set()
        # Counters of node incarnations that were killed: their stats file restarts.
        self.dead = {}
        # kill -9 of n3: when it happened, and when n1 saw it down and back up.
        self.chaos = {}

    # -- output ----------------------------------------------------------------

    def say(self, text):
        print("demo: " + text, flush=True)

    def event(self, text):
        self.events.append(time.strftime("%H:%M:%S ") + text)
        if not self.tty:
            self.say(text)

    # -- servers -----------------------------------------------------------------

    def start_servers(self):
        s = self.settings
        auto = [k for k in ("source", "target", "redis") if s[k] == "auto"]
        env = {}
        if auto:
            self.say("starting throwaway MariaDB source + target and Redis in " + self.work)
            self.services_dir = os.path.join(self.work, "services")
            subprocess.run([os.path.join(ROOT, "scripts", "services"), "start", "--dir",
                            self.services_dir], check=True, stdout=subprocess.DEVNULL)
            for line in open(os.path.join(self.services_dir, "env")):
                k, v = line.replace("export ", "").strip().split("=", 1)
                env[k] = v.strip("'")
            os.environ["SHOAL_DEMO_MYSQL_PASSWORD"] = env["SHOAL_MYSQL_PASSWORD"]
        def server(name, port_key):
            if s[name] == "auto":
                out = {"host": "127.0.0.1", "port": int(env[port_key])}
                if name != "redis":
                    out.update({"user": "root", "password_env": "SHOAL_DEMO_MYSQL_PASSWORD"})
                return out
            return s[name]
        self.source = server("source", "SHOAL_SOURCE_PORT")
        self.target = server("target", "SHOAL_TARGET_PORT")
        self.redis = server("redis", "SHOAL_REDIS_PORT")

        expiry = int(s["token"]["expiry_s"] * 1000)
        port = free_port()
        self.standin_url = "http://127.0.0.1:%d" % port
        log = open(os.path.join(self.work, "standin.log"), "w")
        self.standin = subprocess.Popen(
            [self.standin_bin, "--port", str(port), "--expiry-ms", str(expiry),
             "--grace-ms", str(int(s["token"]["grace_s"] * 1000))],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until("the token stand-in did not start",
                   lambda: http_json(self.standin_url + "/stats") is not None, 10, self.standin)
        os.environ.setdefault("SHOAL_DEMO_WX_SECRET", "wx-test-secret")

    def mysql(self, role, server, sql):
        cmd = ["mariadb", "--no-defaults", "-h", server["host"], "-P", str(server["port"]),
               "-u", server.get("user", "root"), "-N", "-B", "-e", sql]
        env = dict(os.environ)
        env["MYSQL_PWD"] = os.environ.get(server.get("password_env", ""), "")
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("the %s %s:%s: %s" % (role, server["host"], server["port"],
                                                    r.stderr.strip()))
        return r.stdout

    def sysbench_args(self):
        sb = self.settings["sysbench"]
        src = self.source
        return ["sysbench", "oltp_write_only", "--db-driver=mysql",
                "--mysql-host=" + src["host"], "--mysql-port=%d" % src["port"],
                "--mysql-user=" + src.get("user", "root"),
                "--mysql-password=" + os.environ.get(src.get("password_env", ""), ""),
                "--mysql-db=" + sb["database"], "--tables=%d" % sb["tables"],
                "--table-size=%d" % sb["table_size"]]

    def prepare_source(self):
        sb = self.settings["sysbench"]
        self.say("sysbench prepare: %d tables x %d rows on the source" %
                 (sb["tables"], sb["table_size"]))
        # Only the demo's own database and checkpoint rows: the servers may be yours.
        self.mysql("source", self.source, "DROP DATABASE IF EXISTS %s; CREATE DATABASE %s" %
                   (sb["database"], sb["database"]))
        self.mysql("target", self.target, "DROP DATABASE IF EXISTS %s" % sb["database"])
        has_checkpoints = self.mysql(
            "target", self.target,
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'shoal' "
            "AND table_name = 'sync_checkpoint'").strip() == "1"
        if has_checkpoints:
            self.mysql("target", self.target,
                       "DELETE FROM shoal.sync_checkpoint WHERE pipeline = 'demo'")
        subprocess.run(self.sysbench_args() + ["prepare"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    # -- nodes -------------------------------------------------------------------

    def node_config(self, name):
        path = (os.path.join(ROOT, "configs", "single.json") if self.args.single
                else os.path.join(ROOT, "configs", "cluster-3", name + ".json"))
        cfg = json.load(open(path))
        s = self.settings
        cfg["log"] = {"level": "info", "file": os.path.join(self.work, name + ".log")}
        cfg["redis"] = {"host": self.redis["host"], "port": self.redis["port"],
                        "timeout_ms": 1000}
        if "password_env" in self.redis:
            cfg["redis"]["password_env"] = self.redis["password_env"]
        t = s["token"]
        cfg["tokens"] = {
            "lease_ms": 1500,
            "providers": [{
                "name": "wx", "kind": "wechat", "base_url": self.standin_url,
                "appid": "wx-test-app", "secret_env": "SHOAL_DEMO_WX_SECRET",
                "connect_timeout_ms": 500, "read_timeout_ms": 2000,
                "refresh": {"advisory_from_s": t["advisory_from_s"],
                            "advisory_until_s": t["advisory_until_s"],
                            "backoff_initial_ms": 100, "backoff_max_ms": 1000}}]}
        src = {k: v for k, v in self.source.items()}
        src["server_id"] = 4101
        cfg["sync"] = {"pipelines": [{
            "name": "demo", "node": "n1", "source": src, "target": dict(self.target),
            "partitions": 4, "start": "snapshot",
            "include": [s["sysbench"]["database"] + ".*"]}]}
        out = os.path.join(self.work, name + ".json")
        json.dump(cfg, open(out, "w"), indent=2)
        return out, cfg["http"]["port"]

    def start_node(self, name, first=False):
        cmd = self.node_cmd.get(name)
        if cmd is None:
            path, http_port = self.node_config(name)
            self.http_port = getattr(self, "http_port", {})
            self.http_port[name] = http_port
            cmd = [self.demo_node, "--config", path,
                   "--stats", os.path.join(self.work, name + ".stats.json"),
                   "--check-url", self.standin_url,
                   "--read-rate", str(self.settings["flash_sale"]["reads_per_second_per_node"]),
                   "--flash-keys", str(self.settings["flash_sale"]["flash_keys"]),
                   "--flash-share", str(self.settings["flash_sale"]["flash_share"]),
                   "--catalogue", str(self.settings["flash_sale"]["catalogue"])]
            self.node_cmd[name] = cmd
        out = open(os.path.join(self.work, name + ".out"), "a")
        proc = subprocess.Popen(cmd + (["--preload"] if first else []), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        wait_until("node %s did not start; see %s/%s.log" % (name, self.work, name),
                   lambda: "ready node=" in open(os.path.join(self.work, name + ".out")).read(),
                   30, proc)

    def status(self, name):
        if name not in self.procs or self.procs[name].poll() is not None:
            return None
        return http_json("http://127.0.0.1:%d/status" % self.http_port[name])

    def stats(self, name, live_only=False):
        try:
            live = json.load(open(os.path.join(self.work, name + ".stats.json")))
        except Exception:
            live = {}
        if live_only:
            return live
        out = dict(live)
        for k, v in self.dead.get(name, {}).items():
            if isinstance(v, int) and k != "token_version":
                out[k] = out.get(k, 0) + v
        return out

    # -- the run -----------------------------------------------------------------

    def run(self):
        names = ["n1"] if self.args.single else ["n1", "n2", "n3"]
        self.names = names
        self.start_servers()
        self.prepare_source()
        # On a Redis of your own the record may hold earlier runs' versions.
        self.version_at_start = self.stored_token_version()
        self.nodes_started = time.time()
        for i, n in enumerate(names):
            self.start_node(n, first=(i == 0))
        self.say("%d node(s) running; logs in %s" % (len(names), self.work))
        wait_until("the pipeline did not finish its snapshot",
                   lambda: self.snapshot_progress(), 300)
        sb = self.settings["sysbench"]
        self.sysbench = subprocess.Popen(
            self.sysbench_args() + ["--threads=%d" % sb["threads"], "--rate=%d" % sb["rate"],
                                    "--time=%d" % self.args.duration, "--report-interval=0",
                                    "run"],
            stdout=open(os.path.join(self.work, "sysbench.log"), "w"),
            stderr=subprocess.STDOUT, start_new_session=True)
        self.event("sysbench oltp_write_only running on the source for %d s" % self.args.duration)
        started = time.time()
        killed = restarted = False
        last_line = 0
        while True:
            elapsed = time.time() - started
            if elapsed >= self.args.duration:
                break
            if len(names) == 3 and not self.args.no_chaos:
                if not killed and elapsed >= 0.4 * self.args.duration:
                    self.procs["n3"].kill()
                    self.procs["n3"].wait()
                    self.dead["n3"] = self.stats("n3", live_only=True)
                    self.chaos["killed"] = time.time()
                    os.remove(os.path.join(self.work, "n3.stats.json"))
                    self.event("kill -9 n3 (its token threads and flash-sale readers die with it)")
                    killed = True
                elif killed and not restarted and elapsed >= 0.55 * self.args.duration:
                    self.start_node("n3")
                    self.chaos["restarted"] = time.time()
                    self.event("n3 restarted")
                    restarted = True
            frame = self.frame(elapsed)
            if self.tty:
                sys.stdout.write("\x1b[H\x1b[2J" + frame + "\n")
                sys.stdout.flush()
            elif time.time() - last_line >= 5:
                print(self.line(elapsed), flush=True)
                last_line = time.time()
            time.sleep(1)
        self.sysbench.wait(timeout=60)
        return self.finish()

    def snapshot_progress(self):
        st = self.status("n1") or {}
        p = st.get("sync", {}).get("demo", {})
        state = p.get("state", "starting")
        snap = p.get("snapshot", {})
        copied, expected = snap.get("rows", 0), max(1, snap.get("expected", 0))
        msg = "snapshot %s %d of ~%d rows copied (%s)" % (
            bar(copied / expected), copied, expected, state)
        if self.tty:
            sys.stdout.write("\r" + msg + " " * 10)
            sys.stdout.flush()
        if state == "failed":
            raise RuntimeError("the pipeline failed: " + p.get("error", ""))
        done = state == "running"
        if done and self.tty:
            sys.stdout.write("\n")
        return done

    def gather(self):
        view = {}
        for n in self.names:
            st = self.status(n)
            view[n] = {"status": st, "stats": self.stats(n)}
            if st and n == "n1" and "killed" in self.chaos:
                seen = {p["name"]: p["state"] for p in st.get("peers", [])}.get("n3")
                if seen == "down" and "down" not in self.chaos:
                    self.chaos["down"] = time.time()
                    self.event("n1 sees n3 down %.1f s after the kill" %
                               (self.chaos["down"] - self.chaos["killed"]))
                if seen == "up" and "restarted" in self.chaos and "up" not in self.chaos:
                    self.chaos["up"] = time.time()
                    self.event("n1 sees n3 up again %.1f s after its restart" %
                               (self.chaos["up"] - self.chaos["restarted"]))
            if st:
                for k in st.get("hotkeys", {}).get("hot_keys", []):
                    self.hot_seen.add(k["key"])
                v = st.get("tokens", {}).get("wx", {}).get("version", 0)
                if v:
                    self.token_versions.add(v)
        return view

    def frame(self, elapsed):
        view = self.gather()
        d = self.args.duration
        lines = ["shoal main job  %s %3d/%d s   (Ctrl-C stops and cleans up)" %
                 (bar(elapsed / d), elapsed, d), ""]
        lines.append("nodes")
        for n in self.names:
            st = view[n]["status"]
            if st is None:
                lines.append("  %-3s DOWN" % n)
                continue
            peers = " ".join("%s=%s" % (p["name"], p["state"]) for p in st.get("peers", []))
            lines.append("  %-3s up %4ds  sees: %s" % (n, st.get("uptime_s", 0), peers or "-"))
        p = (view["n1"]["status"] or {}).get("sync", {}).get("demo", {})
        if p:
            lines += ["", "binlog sync (pipeline demo on n1)",
                      "  state %-8s rows/s %8.0f  lag %5.1f s  applied %9d  in flight %6d  source %s:%s" %
                      (p.get("state"), p.get("rows_per_second", 0), p.get("lag_seconds", 0),
                       p.get("rows_applied", 0), p.get("inflight_rows", 0),
                       p.get("source", {}).get("file"), p.get("source", {}).get("position"))]
        up = http_json(self.standin_url + "/stats") or {}
        gets = sum(view[n]["stats"].get("token_gets", 0) for n in self.names)
        errors = sum(view[n]["stats"].get("token_errors", 0) for n in self.names)
        tok = {}
        for n in self.names:
            t = (view[n]["status"] or {}).get("tokens", {}).get("wx")
            if t:
                tok = t if t.get("keeper_here") else (tok or t)
        lines += ["", "token keeper (provider wx, %ss tokens)" % self.settings["token"]["expiry_s"],
                  "  version %-3s expires in %5.1f s  keeper %-3s  gets served %10d  errors %d"
                  "  upstream calls %d" %
                  (tok.get("version", "-"), tok.get("expires_in_ms", 0) / 1000.0,
                   tok.get("keeper_node", "-"), gets, errors, up.get("tokens_issued", 0))]
        reads = sum(view[n]["stats"].get("reads", 0) for n in self.names)
        redis_reads = sum(view[n]["stats"].get("redis_reads", 0) for n in self.names)
        h = (view["n1"]["status"] or {}).get("hotkeys", {})
        hot = ", ".join("%s(%d)" % (k["key"], k["count"]) for k in h.get("hot_keys", [])[:6])
        lines += ["", "hot keys (flash sale through the hot cache, Redis behind)",
                  "  reads %10d  reached Redis %9d  saved %5.1f%%  hit ratio %5.1f%%" %
                  (reads, redis_reads, 100.0 * (reads - redis_reads) / max(1, reads),
                   100.0 * h.get("cache_hit_ratio", 0)),
                  "  limiter rejections %d  breaker %s  fallbacks %d" %
                  (h.get("limiter_rejections", 0), h.get("breaker", "-"), h.get("fallbacks", 0)),
                  "  hot now: " + (hot or "-")]
        lines += ["", "events"] + ["  " + e for e in self.events[-5:]]
        return "\n".join(lines)

    def line(self, elapsed):
        view = self.gather()
        p = (view["n1"]["status"] or {}).get("sync", {}).get("demo", {})
        reads = sum(view[n]["stats"].get("reads", 0) for n in self.names)
        redis_reads = sum(view[n]["stats"].get("redis_reads", 0) for n in self.names)
        up = http_json(self.standin_url + "/stats") or {}
        alive = [n for n in self.names if view[n]["status"] is not None]
        return ("demo: %3ds nodes up %s | sync %.0f rows/s lag %.1f s | token v%s, %d upstream "
                "calls | reads %d, Redis %d, hot %d" %
                (elapsed, ",".join(alive), p.get("rows_per_second", 0), p.get("lag_seconds", 0),
                 max(self.token_versions) if self.token_versions else "-",
                 up.get("tokens_issued", 0), reads, redis_reads, len(self.hot_seen)))

    # -- the end -----------------------------------------------------------------

    def finish(self):
        self.say("writes stopped; waiting for the target to catch up, then shoal verify")
        verified = False
        verify_out = ""
        deadline = time.time() + 120
        while time.time() < deadline:
            r = subprocess.run([self.shoal, "verify", "--config",
                                os.path.join(self.work, "n1.json"), "--pipeline", "demo"],
                               capture_output=True, text=True)
            verify_out = (r.stdout + r.stderr).strip()
            if r.returncode == 0:
                verified = True
                break
            time.sleep(2)
        self.gather()
        results = {}
        for n in self.names:
            proc = self.procs.get(n)
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            results[n] = self.stats(n)
        self.nodes_stopped = time.time()
        up = http_json(self.standin_url + "/stats") or {}
        issued = up.get("tokens_issued", 0)
        calls = sum(v for k, v in up.get("calls", {}).get("token", {}).items())
        versions = self.stored_token_version() - self.version_at_start
        t = self.settings["token"]
        # A token is refreshed between advisory_from_s and advisory_until_s before it
        # expires: over the time the nodes ran, that bounds how many there were.
        ran_s = self.nodes_stopped - self.nodes_started
        min_versions = max(1, int(ran_s // (t["expiry_s"] - t["advisory_until_s"])))
        max_versions = 2 + int(ran_s // (t["expiry_s"] - t["advisory_from_s"]))
        gets = sum(r.get("token_gets", 0) for r in results.values())
        token_errors = sum(r.get("token_errors", 0) for r in results.values())
        invalid = sum(r.get("token_invalid", 0) for r in results.values())
        reads = sum(r.get("reads", 0) for r in results.values())
        redis_reads = sum(r.get("redis_reads", 0) for r in results.values())
        read_errors = sum(r.get("read_errors", 0) for r in results.values())
        flash = ["sku:flash-%d" % i for i in range(1, self.settings["flash_sale"]["flash_keys"] + 1)]
        found = [k for k in flash if k in self.hot_seen]
        checks = [
            ("target identical to source (shoal verify)", verified,
             verify_out.splitlines()[-1] if verify_out else ""),
            ("one upstream call per token cycle", calls == versions and issued == versions
             and min_versions <= versions <= max_versions,
             "%d calls for %d token versions (%.2f per cycle)" %
             (calls, versions, calls / max(1, versions))),
            ("every get answered with a valid token", gets > 0 and token_errors == 0 and
             invalid == 0, "%d gets, %d errors, %d tokens the platform refused" %
             (gets, token_errors, invalid)),
            ("flash-sale keys detected hot", len(found) == len(flash),
             "%d of %d (%s); %d keys were hot in all" %
             (len(found), len(flash), ", ".join(found) or "none", len(self.hot_seen))),
            ("Redis reads saved by the hot cache", reads > 0 and redis_reads < reads and
             read_errors == 0, "%d of %d reads reached Redis: %.1f%% saved" %
             (redis_reads, reads, 100.0 * (reads - redis_reads) / max(1, reads))),
        ]
        if "killed" in self.chaos:
            checks.append(("n3 killed with kill -9, seen down, taken back",
                           "down" in self.chaos and "up" in self.chaos,
                           "down seen after %s, back after %s" % (
                               "%.1f s" % (self.chaos["down"] - self.chaos["killed"])
                               if "down" in self.chaos else "never",
                               "%.1f s" % (self.chaos["up"] - self.chaos["restarted"])
                               if "up" in self.chaos else "never")))
        print("\nsummary")
        ok = True
        for what, held, detail in checks:
            ok = ok and held
            print("  %-48s %-3s  %s" % (what + ":", "yes" if held else "NO", detail))
        print("\n" + ("demo: every scenario held" if ok else
                      "demo: FAILED; logs kept in " + self.work))
        if not ok:
            self.keep = True
        return 0 if ok else 1

    def stored_token_version(self):
        """The version of the token record in Redis: how many tokens the keepers
        wrote. Every upstream call whose token was not written is a duplicate."""
        env = dict(os.environ)
        if "password_env" in self.redis:
            env["REDISCLI_AUTH"] = os.environ.get(self.redis["password_env"], "")
        r = subprocess.run(["redis-cli", "-h", self.redis["host"], "-p", str(self.redis["port"]),
                            "HGET", "shoal:token:{wx}:record", "version"],
                           capture_output=True, text=True, env=env)
        try:
            return int(r.stdout.strip())
        except ValueError:
            return 0

    def cleanup(self):
        for proc in list(self.procs.values()) + [self.sysbench, self.standin]:
            if proc is not None and proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except OSError:
                    pass
        for proc in list(self.procs.values()) + [self.sysbench, self.standin]:
            if proc is not None:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        if self.services_dir and os.path.isdir(self.services_dir):
            subprocess.run([os.path.join(ROOT, "scripts", "services"), "stop",
                            self.services_dir], stdout=subprocess.DEVNULL)
        if getattr(self, "keep", False):
            print("demo: node logs and configs kept in " + self.work, flush=True)
            return
        shutil.rmtree(self.work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="shoal's main job (run by scripts/demo)")
    ap.add_argument("--single", action="store_true", help="one node instead of three")
    ap.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    ap.add_argument("--no-chaos", action="store_true", help="do not kill -9 and restart n3")
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--settings", default="configs/demo.json",
                    help="which servers to use and the load (default configs/demo.json)")
    args = ap.parse_args()
    try:
        settings = load_settings(os.path.join(ROOT, args.settings))
    except RuntimeError as e:
        print("demo: %s" % e, file=sys.stderr)
        sys.exit(2)
    demo = Demo(args, settings)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    code = 1
    try:
        code = demo.run()
    except KeyboardInterrupt:
        print("\ndemo: interrupted; stopping everything it started", flush=True)
        code = 130
    except (RuntimeError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", None) or ""
        if isinstance(detail, bytes):
            detail = detail.decode(errors="replace")
        print("demo: FAILED: %s%s" % (e, "\n" + detail.strip() if detail else ""), flush=True)
        demo.keep = True
        code = 1
    finally:
        demo.cleanup()
    sys.exit(code)


if __name__ == "__main__":
    main()

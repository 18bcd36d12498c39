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
This file wires the run together; its parts, one concern a module, are in demo_lib/.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from demo_lib import verdict
from demo_lib.cluster import Cluster
from demo_lib.processes import http_json, stop_all, wait_until
from demo_lib.servers import Servers
from demo_lib.settings import load_settings
from demo_lib.view import View

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Demo:
    def __init__(self, args, settings):
        self.args = args
        self.settings = settings
        build = os.path.join(ROOT, args.build_dir)
        self.shoal = os.path.join(build, "runtime", "shoal")
        self.work = tempfile.mkdtemp(prefix="shoal-demo-")
        self.view = View(args.duration, settings["token"]["expiry_s"])
        self.evidence = verdict.Evidence(self.view.event)
        self.servers = Servers(ROOT, build, self.work, settings, self.view.say)
        self.cluster = Cluster(ROOT, build, self.work, settings, args.single, self.servers)
        self.keep = False

    def run(self):
        names = self.cluster.names
        self.servers.start()
        self.servers.prepare_source()
        # On a Redis of your own the record may hold earlier runs' versions.
        self.version_at_start = self.servers.stored_token_version()
        self.nodes_started = time.time()
        for i, n in enumerate(names):
            self.cluster.start_node(n, first=(i == 0))
        self.view.say("%d node(s) running; logs in %s" % (len(names), self.work))
        wait_until("the pipeline did not finish its snapshot", self.snapshot_done, 300)
        self.servers.start_writes(self.args.duration)
        self.view.event("sysbench oltp_write_only running on the source for %d s" %
                        self.args.duration)
        chaos = self.evidence.chaos
        started = time.time()
        killed = restarted = False
        last_line = 0
        while True:
            elapsed = time.time() - started
            if elapsed >= self.args.duration:
                break
            if len(names) == 3 and not self.args.no_chaos:
                if not killed and elapsed >= 0.4 * self.args.duration:
                    chaos["killed"] = self.cluster.kill("n3")
                    self.view.event(
                        "kill -9 n3 (its token threads and flash-sale readers die with it)")
                    killed = True
                elif killed and not restarted and elapsed >= 0.55 * self.args.duration:
                    self.cluster.start_node("n3")
                    chaos["restarted"] = time.time()
                    self.view.event("n3 restarted")
                    restarted = True
            # Every second, shown or not: looking is what sees n3 go down and come back.
            nodes, upstream = self.look()
            if self.view.tty:
                self.view.frame(elapsed, nodes, upstream)
            elif time.time() - last_line >= 5:
                self.view.line(elapsed, *self.look(), self.evidence)
                last_line = time.time()
            time.sleep(1)
        self.servers.sysbench.wait(timeout=60)
        return self.finish()

    def look(self):
        """Each node's status and stats (noting what the verdict needs), then the
        stand-in's /stats."""
        nodes = self.evidence.gather(self.cluster)
        return nodes, http_json(self.servers.standin_url + "/stats") or {}

    def snapshot_done(self):
        p = (self.cluster.status("n1") or {}).get("sync", {}).get("demo", {})
        self.view.snapshot_progress(p)
        if p.get("state") == "failed":
            raise RuntimeError("the pipeline failed: " + p.get("error", ""))
        return p.get("state") == "running"

    def finish(self):
        self.view.say("writes stopped; waiting for the target to catch up, then shoal verify")
        verify = verdict.shoal_verify(self.shoal, os.path.join(self.work, "n1.json"))
        self.evidence.gather(self.cluster)
        results = self.cluster.stop()
        ran_s = time.time() - self.nodes_started
        up = http_json(self.servers.standin_url + "/stats") or {}
        versions = self.servers.stored_token_version() - self.version_at_start
        ok = verdict.summary(verdict.checks(self.settings, self.evidence, verify, results, up,
                                            versions, ran_s,
                                            verdict.takeovers_logged(self.work,
                                                                     self.cluster.names),
                                            self.version_at_start > 0),
                                  self.work)
        if not ok:
            self.keep = True
        return 0 if ok else 1

    def cleanup(self):
        stop_all(list(self.cluster.procs.values()) + [self.servers.sysbench, self.servers.standin])
        self.servers.stop_services()
        if self.keep:
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

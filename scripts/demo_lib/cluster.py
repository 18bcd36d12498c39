"""The shoal nodes of the demo (shoal-demo-node, with its load generators): each one's
config (configs/cluster-3 or configs/single.json, with the servers and the three
services added), starting one, kill -9 of one, its /status and its stats file, and
stopping them at the end."""
import json
import os
import signal
import subprocess
import time

from .processes import http_json, wait_until


class Cluster:
    def __init__(self, root, build, work, settings, single, servers):
        self.root = root
        self.work = work
        self.settings = settings
        self.single = single
        self.servers = servers
        self.demo_node = os.path.join(build, "bench", "demo", "shoal-demo-node")
        self.names = ["n1"] if single else ["n1", "n2", "n3"]
        self.procs = {}
        self.node_cmd = {}
        self.http_port = {}
        # Counters of node incarnations that were killed: their stats file restarts.
        self.dead = {}

    def node_config(self, name):
        path = (os.path.join(self.root, "configs", "single.json") if self.single
                else os.path.join(self.root, "configs", "cluster-3", name + ".json"))
        cfg = json.load(open(path))
        s = self.settings
        servers = self.servers
        cfg["log"] = {"level": "info", "file": os.path.join(self.work, name + ".log")}
        cfg["redis"] = {"host": servers.redis["host"], "port": servers.redis["port"],
                        "timeout_ms": 1000}
        if "password_env" in servers.redis:
            cfg["redis"]["password_env"] = servers.redis["password_env"]
        t = s["token"]
        cfg["tokens"] = {
            "lease_ms": 1500,
            "providers": [{
                "name": "wx", "kind": "wechat", "base_url": servers.standin_url,
                "appid": "wx-test-app", "secret_env": "SHOAL_DEMO_WX_SECRET",
                "connect_timeout_ms": 500, "read_timeout_ms": 2000,
                "refresh": {"advisory_from_s": t["advisory_from_s"],
                            "advisory_until_s": t["advisory_until_s"],
                            "backoff_initial_ms": 100, "backoff_max_ms": 1000}}]}
        src = {k: v for k, v in servers.source.items()}
        src["server_id"] = 4101
        cfg["sync"] = {"pipelines": [{
            "name": "demo", "node": "n1", "source": src, "target": dict(servers.target),
            "partitions": 4, "start": "snapshot",
            "include": [s["sysbench"]["database"] + ".*"]}]}
        out = os.path.join(self.work, name + ".json")
        json.dump(cfg, open(out, "w"), indent=2)
        return out, cfg["http"]["port"]

    def start_node(self, name, first=False):
        """Starts a node (the first one preloads the flash-sale keys) and waits until it
        is ready; a restart runs the same command again."""
        cmd = self.node_cmd.get(name)
        if cmd is None:
            path, http_port = self.node_config(name)
            self.http_port[name] = http_port
            cmd = [self.demo_node, "--config", path,
                   "--stats", os.path.join(self.work, name + ".stats.json"),
                   "--check-url", self.servers.standin_url,
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

    def kill(self, name):
        """kill -9 of a node; returns when it was dead. Its counters so far are kept,
        as the stats file of its next incarnation starts from zero."""
        self.procs[name].kill()
        self.procs[name].wait()
        self.dead[name] = self.stats(name, live_only=True)
        killed = time.time()
        os.remove(os.path.join(self.work, name + ".stats.json"))
        return killed

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

    def stop(self):
        """SIGTERM to each node still running (SIGKILL after 20 s); returns each node's
        counters over all its incarnations."""
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
        return results

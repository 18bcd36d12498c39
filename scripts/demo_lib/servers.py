"""The servers the nodes use: a source and a target MariaDB and Redis (throwaway ones
from scripts/services, or yours named in configs/demo.json), the token stand-in, and
sysbench, which prepares the source and writes to it."""
import os
import random
import socket
import subprocess

from .processes import http_json, wait_until


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


class Servers:
    def __init__(self, root, build, work, settings, say):
        self.root = root
        self.work = work
        self.settings = settings
        self.say = say
        self.standin_bin = os.path.join(build, "tests", "standins", "shoal-token-standin")
        self.services_dir = None
        self.standin = None
        self.sysbench = None

    def start(self):
        """Starts the servers set to "auto" and the token stand-in; then source, target,
        redis and standin_url say where each one is."""
        s = self.settings
        auto = [k for k in ("source", "target", "redis") if s[k] == "auto"]
        env = {}
        if auto:
            self.say("starting throwaway MariaDB source + target and Redis in " + self.work)
            self.services_dir = os.path.join(self.work, "services")
            subprocess.run([os.path.join(self.root, "scripts", "services"), "start", "--dir",
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

    def start_writes(self, duration):
        """sysbench oltp_write_only on the source for duration seconds, in the background."""
        sb = self.settings["sysbench"]
        self.sysbench = subprocess.Popen(
            self.sysbench_args() + ["--threads=%d" % sb["threads"], "--rate=%d" % sb["rate"],
                                    "--time=%d" % duration, "--report-interval=0",
                                    "run"],
            stdout=open(os.path.join(self.work, "sysbench.log"), "w"),
            stderr=subprocess.STDOUT, start_new_session=True)

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

    def stop_services(self):
        """Stops the throwaway MariaDB and Redis, if it started them."""
        if self.services_dir and os.path.isdir(self.services_dir):
            subprocess.run([os.path.join(self.root, "scripts", "services"), "stop",
                            self.services_dir], stdout=subprocess.DEVNULL)

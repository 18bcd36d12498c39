#!/usr/bin/env python3
"""debian_package_test: the node's Debian package, and its unit's command under sd_notify.

Builds the .deb of this build with cpack, checks its control fields and contents (the
binary, the systemd unit, /etc/shoal/shoal.json as a conffile, Depends), installs it
with dpkg into a scratch root (never into the machine), then runs the unit's
ExecStart from that root, the config path swapped for a copy of the shipped config on
free ports, with NOTIFY_SOCKET pointing at a datagram socket this test listens on:
  abstract socket (@name), WATCHDOG_USEC set: READY=1 once the node answers HTTP,
    WATCHDOG=1 keep-alives, STOPPING=1 on SIGTERM, exit 0
  socket file, no WATCHDOG_USEC: READY=1, STOPPING=1, and no WATCHDOG=1 between
systemd is not PID 1 here, so this is what systemd would see.

  debian_package_test.py --build-dir BUILD
"""
import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def run(command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    if done.returncode != 0:
        fail(f"{shlex.join(command)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_package(build_dir, out_dir):
    run(["cpack", "-G", "DEB", "-B", out_dir, "--config",
         os.path.join(build_dir, "CPackConfig.cmake")])
    debs = [f for f in os.listdir(out_dir) if f.endswith(".deb")]
    if len(debs) != 1:
        fail(f"cpack made {debs}, expected one .deb")
    return os.path.join(out_dir, debs[0])


def check_package(deb):
    fields = {f: run(["dpkg-deb", "-f", deb, f]).strip()
              for f in ("Package", "Version", "Architecture", "Depends")}
    print("control:", json.dumps(fields))
    if fields["Package"] != "shoal":
        fail(f"package name {fields['Package']!r}")
    for lib in ("libcaf-core", "libcaf-io", "libsystemd0", "libhiredis", "libmariadb"):
        if lib not in fields["Depends"]:
            fail(f"Depends lacks {lib}: {fields['Depends']}")
    listing = run(["dpkg-deb", "-c", deb])
    files = {line.split()[-1] for line in listing.splitlines()}
    for wanted in ("./usr/bin/shoal", "./usr/lib/systemd/system/shoal.service",
                   "./etc/shoal/shoal.json"):
        if wanted not in files:
            fail(f"{wanted} not in the package:\n{listing}")
    for unwanted in ("./usr/include/", "./usr/lib/libshoal.a"):
        if unwanted in files:
            fail(f"{unwanted} belongs to the development install, not the node's package")
    conffiles = run(["dpkg-deb", "-I", deb, "conffiles"]).split()
    if conffiles != ["/etc/shoal/shoal.json"]:
        fail(f"conffiles {conffiles}")


def install_into(deb, root):
    """dpkg -i into `root` with a database of its own: the machine's stays untouched."""
    admin = os.path.join(root, "var/lib/dpkg")
    for sub in ("info", "updates", "triggers"):
        os.makedirs(os.path.join(admin, sub))
    open(os.path.join(admin, "status"), "w").close()
    # The scratch root holds none of the libraries the package depends on: the
    # binary runs with the machine's.
    run(["dpkg", "--root", root, "--force-depends", "--force-not-root",
         "--force-script-chrootless", "-i", deb])
    status = run(["dpkg-query", "--root", root, "-W", "-f", "${Status}", "shoal"])
    if status != "install ok installed":
        fail(f"dpkg status in the scratch root: {status!r}")


def exec_start(root):
    with open(os.path.join(root, "usr/lib/systemd/system/shoal.service")) as f:
        unit = f.read()
    if "\nType=notify\n" not in unit:
        fail("the unit is not Type=notify")
    lines = [l for l in unit.splitlines() if l.startswith("ExecStart=")]
    if len(lines) != 1:
        fail(f"ExecStart lines: {lines}")
    return shlex.split(lines[0][len("ExecStart="):])


class Listener:
    """A datagram socket in NOTIFY_SOCKET's protocol: one message per datagram."""

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.messages = []  # (monotonic time of arrival, message)

    def wait_for(self, line, deadline, count=1):
        """Returns once `count` messages hold `line`; False at the deadline."""
        while len(self.times(line)) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                message = self.sock.recv(4096).decode()
            except socket.timeout:
                return False
            self.messages.append((time.monotonic(), message))
        return True

    def times(self, line):
        return [t for t, m in self.messages if line in m.split("\n")]

    def texts(self):
        return [m for _, m in self.messages]

    def close(self):
        self.sock.close()


def run_node(command, notify_socket, address, env_extra, out_dir, name):
    listener = Listener(address)
    env = dict(os.environ, NOTIFY_SOCKET=notify_socket, **env_extra)
    env.pop("WATCHDOG_PID", None)
    if "WATCHDOG_USEC" not in env_extra:
        env.pop("WATCHDOG_USEC", None)
    log = open(os.path.join(out_dir, name + ".log"), "w")
    node = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        if not listener.wait_for("READY=1", time.monotonic() + 60):
            fail(f"{name}: no READY=1 (got {listener.texts()}); exit {node.poll()}")
        return node, listener, log
    except BaseException:
        node.kill()
        node.wait()
        raise


def stop_node(node, listener, name):
    node.send_signal(signal.SIGTERM)
    if not listener.wait_for("STOPPING=1", time.monotonic() + 30):
        node.kill()
        fail(f"{name}: no STOPPING=1 after SIGTERM (got {listener.texts()})")
    code = node.wait(timeout=60)
    if code != 0:
        fail(f"{name}: exit {code} after SIGTERM")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="shoal-deb-")
    try:
        deb = build_package(os.path.abspath(args.build_dir), os.path.join(work, "cpack"))
        check_package(deb)
        root = os.path.join(work, "root")
        install_into(deb, root)

        command = exec_start(root)
        if command[0] != "/usr/bin/shoal" or "/etc/shoal/shoal.json" not in command:
            fail(f"ExecStart {command}")
        binary = os.path.join(root, command[0].lstrip("/"))
        version = run([binary, "--version"]).strip()
        if not version.startswith("shoal "):
            fail(f"--version says {version!r}")
        with open(os.path.join(root, "etc/shoal/shoal.json")) as f:
            cfg = json.load(f)
        cfg["node"]["port"] = free_port()
        http_port = free_port()
        cfg["http"]["port"] = http_port
        config = os.path.join(work, "shoal.json")
        with open(config, "w") as f:
            json.dump(cfg, f)
        command = [binary] + [config if a == "/etc/shoal/shoal.json" else a
                              for a in command[1:]]
        print("running:", shlex.join(command))

        # Abstract socket, watchdog on: a keep-alive every 200 ms.
        name = f"shoal-test-{os.getpid()}"
        node, listener, log = run_node(command, "@" + name, "\0" + name,
                                       {"WATCHDOG_USEC": "400000"}, work, "watchdog")
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/status",
                                    timeout=10) as reply:
            if reply.status != 200:
                fail(f"READY=1 came, but /status answered {reply.status}")
        if not listener.wait_for("WATCHDOG=1", time.monotonic() + 10, count=4):
            fail(f"not 4 WATCHDOG=1 in 10 s with WATCHDOG_USEC set: {listener.texts()}")
        pings = listener.times("WATCHDOG=1")
        interval = (pings[-1] - pings[0]) / (len(pings) - 1)
        if not 0.1 <= interval <= 0.35:
            fail(f"keep-alives every {interval:.3f} s; WATCHDOG_USEC/2 is 0.2 s")
        stop_node(node, listener, "watchdog")
        listener.close()
        log.close()

        # Socket file, no watchdog.
        path = os.path.join(work, "notify.sock")
        node, listener, log = run_node(command, path, path, {}, work, "plain")
        stop_node(node, listener, "plain")
        if listener.times("WATCHDOG=1"):
            fail(f"WATCHDOG=1 without WATCHDOG_USEC (got {listener.texts()})")
        listener.close()
        log.close()
        print("ok:", deb)
    finally:
        if os.environ.get("SHOAL_KEEP_TMP") != "1":
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

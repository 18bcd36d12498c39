"""The demo's child processes, whatever they are: asking one for JSON over HTTP, waiting
until one is ready, and stopping them all, each with its process group, at the end."""
import json
import os
import signal
import subprocess
import time
import urllib.request


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


def stop_all(procs):
    """SIGTERM to the process group of each one still running (None: never started),
    then up to 15 s for each to exit before SIGKILL."""
    for proc in procs:
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except OSError:
                pass
    for proc in procs:
        if proc is not None:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

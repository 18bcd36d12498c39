"""The demo's verdict: what it saw the nodes do while running (n3 seen down and back up
by n1, the keys found hot, the token versions), `shoal verify` at the end, and the
summary's checks, which decide whether it passed."""
import os
import re
import subprocess
import time


class Evidence:
    def __init__(self, event):
        self.event = event
        self.hot_seen = set()
        self.token_versions = set()
        # kill -9 of n3: when it happened, and when n1 saw it down and back up.
        self.chaos = {}

    def gather(self, cluster):
        """Each node's status (None when down) and stats, by name; notes what n1 sees
        of n3 after the kill, the hot keys and the token versions."""
        nodes = {}
        for n in cluster.names:
            st = cluster.status(n)
            nodes[n] = {"status": st, "stats": cluster.stats(n)}
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
                wx = st.get("tokens", {}).get("wx", {})
                v = wx.get("version", 0)
                if v:
                    self.token_versions.add(v)
        return nodes


def takeovers_logged(work, names, provider="wx"):
    """How many times a keeper took the provider's lease, from the node logs. A
    keeper's first token after a takeover skips a version (token_keeper.cpp,
    skip_version), so the record's version counts tokens plus handovers. The logs
    span every run of each node and the shutdown, which /status samples miss (the
    keeper stops first, a node still running takes over and, inside the advisory
    window, refreshes at once)."""
    line = re.compile(r"token %s: keeper on \S+ holds the" % re.escape(provider))
    count = 0
    for n in names:
        try:
            with open(os.path.join(work, n + ".out"), errors="replace") as f:
                count += sum(1 for l in f if line.search(l))
        except OSError:
            pass
    return count


def shoal_verify(shoal, config):
    """`shoal verify` of the pipeline, again every 2 s for up to 120 s while the target
    catches up; returns whether it passed and its last output."""
    verified = False
    verify_out = ""
    deadline = time.time() + 120
    while time.time() < deadline:
        r = subprocess.run([shoal, "verify", "--config", config, "--pipeline", "demo"],
                           capture_output=True, text=True)
        verify_out = (r.stdout + r.stderr).strip()
        if r.returncode == 0:
            verified = True
            break
        time.sleep(2)
    return verified, verify_out


def checks(settings, seen, verify, results, up, versions, ran_s, takeovers,
           stored_before=False):
    """The summary's rows, (what, held, detail). seen: the run's Evidence; verify:
    shoal_verify's answer; results: each node's final counters; up: the stand-in's
    /stats; versions: the tokens the keepers wrote; ran_s: how long the nodes ran;
    takeovers: takeovers_logged's count; stored_before: the record held a token when
    the nodes started (the first keeper then skips a version too)."""
    verified, verify_out = verify
    issued = up.get("tokens_issued", 0)
    calls = sum(v for k, v in up.get("calls", {}).get("token", {}).items())
    t = settings["token"]
    # A token is refreshed between advisory_from_s and advisory_until_s before it
    # expires: over the time the nodes ran, that bounds how many there were.
    min_versions = max(1, int(ran_s // (t["expiry_s"] - t["advisory_until_s"])))
    max_versions = 2 + int(ran_s // (t["expiry_s"] - t["advisory_from_s"]))
    handovers = max(0, takeovers - (0 if stored_before else 1))
    gets = sum(r.get("token_gets", 0) for r in results.values())
    token_errors = sum(r.get("token_errors", 0) for r in results.values())
    invalid = sum(r.get("token_invalid", 0) for r in results.values())
    reads = sum(r.get("reads", 0) for r in results.values())
    redis_reads = sum(r.get("redis_reads", 0) for r in results.values())
    read_errors = sum(r.get("read_errors", 0) for r in results.values())
    flash = ["sku:flash-%d" % i for i in range(1, settings["flash_sale"]["flash_keys"] + 1)]
    found = [k for k in flash if k in seen.hot_seen]
    rows = [
        ("target identical to source (shoal verify)", verified,
         verify_out.splitlines()[-1] if verify_out else ""),
        # Each call's token written once: every version is a call's token, except
        # the one each keeper handover skips.
        ("one upstream call per token cycle", issued == calls and
         calls <= versions <= calls + handovers and min_versions <= calls <= max_versions,
         "%d calls for %d token versions, %d skipped at %d keeper handover(s)" %
         (calls, versions, versions - calls, handovers)),
        ("every get answered with a valid token", gets > 0 and token_errors == 0 and
         invalid == 0, "%d gets, %d errors, %d tokens the platform refused" %
         (gets, token_errors, invalid)),
        ("flash-sale keys detected hot", len(found) == len(flash),
         "%d of %d (%s); %d keys were hot in all" %
         (len(found), len(flash), ", ".join(found) or "none", len(seen.hot_seen))),
        ("Redis reads saved by the hot cache", reads > 0 and redis_reads < reads and
         read_errors == 0, "%d of %d reads reached Redis: %.1f%% saved" %
         (redis_reads, reads, 100.0 * (reads - redis_reads) / max(1, reads))),
    ]
    chaos = seen.chaos
    if "killed" in chaos:
        rows.append(("n3 killed with kill -9, seen down, taken back",
                     "down" in chaos and "up" in chaos,
                     "down seen after %s, back after %s" % (
                         "%.1f s" % (chaos["down"] - chaos["killed"])
                         if "down" in chaos else "never",
                         "%.1f s" % (chaos["up"] - chaos["restarted"])
                         if "up" in chaos else "never")))
    return rows


def summary(rows, work):
    """Prints the summary and the final pass/fail line; returns whether every row held."""
    print("\nsummary")
    ok = True
    for what, held, detail in rows:
        ok = ok and held
        print("  %-48s %-3s  %s" % (what + ":", "yes" if held else "NO", detail))
    print("\n" + ("demo: every scenario held" if ok else
                  "demo: FAILED; logs kept in " + work))
    return ok

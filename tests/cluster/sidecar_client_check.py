#!/usr/bin/env python3
"""Runs the Python reference client (clients/python/shoal_client.py) against a real
node started by hotkey_sidecar_test: records over HTTP and UDP until keys are hot,
receives the hot events, serves the values from its local dict, drops a value on
POST /hotkeys/invalidate and a key when it turns cold. Exits 0 when every check
held; otherwise prints the first that did not and exits 1.

The node's rule makes a key hot after 50 accesses within 2 s, for 60 s; its loader
answers "value-of-KEY", and 404 for keys starting with "missing".
"""

import argparse
import sys

from shoal_client import HotCache, ShoalClient, ShoalError

TIMEOUT = 10.0


def check(condition, what):
    if not condition:
        print("python client: FAILED: " + what, flush=True)
        sys.exit(1)
    print("python client: ok: " + what, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--udp", required=True, help="host:port")
    parser.add_argument("--udp-secret", default=None)
    args = parser.parse_args()
    host, port = args.udp.rsplit(":", 1)

    client = ShoalClient(args.url, args.secret, udp=(host, int(port)),
                         udp_secret=args.udp_secret)
    try:
        ShoalClient(args.url, "wrong-" + args.secret).record({"py:anon": 100})
        check(False, "a wrong secret is refused")
    except ShoalError as e:
        check(e.status == 401 and e.error == "unauthorized", "a wrong secret is refused")

    cache = HotCache(client)
    cache.start()
    try:
        check(cache.wait_synced(TIMEOUT), "the stream delivers the hot set")
        check(not cache.is_hot("py:hot"), "nothing recorded is hot yet")

        answer = client.record({"py:hot": 60, "py:warm": 3})
        check(answer == {"keys": 2, "accesses": 63}, "POST /hotkeys/record counts the batch")
        check(cache.wait_for(lambda c: c.is_hot("py:hot"), TIMEOUT),
              "the hot event for py:hot arrives")
        check(cache.wait_for(lambda c: c.has_value("py:hot"), TIMEOUT),
              "the hot key's value is loaded through GET /cache")
        check(not cache.is_hot("py:warm"), "a key under the threshold is not hot")

        remote = cache.remote_reads
        values = [cache.get("py:hot") for _ in range(20)]
        check(values == [b"value-of-py:hot"] * 20, "get() answers the loader's value")
        check(cache.local_hits >= 20 and cache.remote_reads == remote,
              "a hot key is served from the local dict, without a request")

        client.invalidate("py:hot")
        check(cache.wait_for(lambda c: not c.has_value("py:hot"), TIMEOUT),
              "POST /hotkeys/invalidate drops the local value")
        check(cache.is_hot("py:hot"), "an invalidated key stays hot")
        check(cache.get("py:hot") == b"value-of-py:hot" and cache.remote_reads == remote + 1,
              "the next get() reads through the node again")
        check(cache.has_value("py:hot"), "and keeps the fresh value")

        client.record_udp({"py:udp": 70})
        check(cache.wait_for(lambda c: c.is_hot("py:udp"), TIMEOUT),
              "counts sent over UDP make a key hot")
        check(sorted(client.hot_keys()) == ["py:hot", "py:udp"],
              "the node and the client agree on the hot set")

        check(client.get("missing:1") is None, "an absent key reads as None")

        status, _, _ = client._request("POST", "/hotkeys/manual?key=py:hot&hot=0")
        check(status == 200, "the operator removes py:hot")
        check(cache.wait_for(lambda c: not c.is_hot("py:hot"), TIMEOUT),
              "the cold event drops the key from the local dict")
        check(cache.hot_keys() == ["py:udp"], "only py:udp is left")
    finally:
        cache.stop()
    print("python client: all checks passed", flush=True)


if __name__ == "__main__":
    main()

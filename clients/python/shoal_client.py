"""shoal_client: a Python process next to a shoal node uses its hot-key service.

Standard library only (Python 3.8+). The node's side is described in
runtime/hotkey_sidecar.hpp; this module speaks its HTTP, UDP and SSE forms.

    from shoal_client import ShoalClient, HotCache

    client = ShoalClient("http://127.0.0.1:8080", secret=os.environ["SHOAL_HOTKEY_SECRET"],
                         udp=("127.0.0.1", 9125))
    client.record({"sku:42": 3})           # POST /hotkeys/record
    client.record_udp({"sku:42": 1})       # one datagram, fire and forget
    value = client.get("sku:42")           # GET /cache/sku:42 -> bytes, None if absent

    cache = HotCache(client)               # follows GET /hotkeys/stream in a thread
    cache.start()
    cache.wait_synced(5)
    value = cache.get("sku:42")            # local dict while the key is hot
    cache.stop()

HotCache keeps the node's hot keys in a dict, loads each hot key's value once
through GET /cache/KEY, serves it locally until the key turns cold, its hot time
passes, or the key is invalidated (POST /hotkeys/invalidate, on any node).
"""

import http.client
import json
import socket
import threading
import time
import urllib.parse

__all__ = ["ShoalClient", "HotCache", "ShoalError"]


class ShoalError(Exception):
    """The node refused a request: status is the HTTP status, error its code
    ("unauthorized", "bad_request", "rate_limited", "breaker_open", ...)."""

    def __init__(self, status, error, message=""):
        super().__init__("HTTP %d %s: %s" % (status, error, message))
        self.status = status
        self.error = error
        self.message = message


class ShoalClient:
    """Requests to one node. Thread-safe: each call opens its own connection."""

    def __init__(self, base_url, secret, udp=None, udp_secret=None, timeout=5.0):
        url = urllib.parse.urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError("base_url must be http(s)://host:port, got %r" % base_url)
        self.scheme = url.scheme
        self.host = url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.secret = secret
        self.timeout = timeout
        self.udp = udp
        self.udp_secret = udp_secret
        self._udp_socket = None

    # -- HTTP ------------------------------------------------------------------

    def _connection(self, timeout=None):
        cls = (http.client.HTTPSConnection if self.scheme == "https"
               else http.client.HTTPConnection)
        return cls(self.host, self.port, timeout=timeout or self.timeout)

    def _headers(self, extra=None):
        headers = {"Authorization": "Bearer " + self.secret}
        headers.update(extra or {})
        return headers

    def _request(self, method, path, body=None, content_type=None):
        conn = self._connection()
        try:
            headers = self._headers(
                {"Content-Type": content_type} if content_type else None)
            conn.request(method, path, body=body, headers=headers)
            res = conn.getresponse()
            return res.status, dict(res.getheaders()), res.read()
        finally:
            conn.close()

    @staticmethod
    def _raise(status, body):
        try:
            doc = json.loads(body.decode("utf-8"))
            raise ShoalError(status, doc.get("error", "error"), doc.get("message", ""))
        except (ValueError, AttributeError):
            raise ShoalError(status, "error", body.decode("utf-8", "replace"))

    def record(self, counts):
        """Counts accesses: counts maps key -> count (>= 1). Returns the node's
        answer {"keys": n, "accesses": total}."""
        body = json.dumps({"counts": dict(counts)}).encode("utf-8")
        status, _, reply = self._request("POST", "/hotkeys/record", body,
                                         "application/json")
        if status != 200:
            self._raise(status, reply)
        return json.loads(reply.decode("utf-8"))

    def get(self, key):
        """The value of key through the node's hot cache (bytes), or None when the
        loader has none. Raises ShoalError when limited (429), the breaker is open
        (503) or the loader failed (502, 504)."""
        status, _, body = self._request("GET", "/cache/" + urllib.parse.quote(key, safe=""))
        if status == 200:
            return body
        if status == 404:
            try:
                if json.loads(body.decode("utf-8")).get("error") == "not_found":
                    return None
            except ValueError:
                pass
        self._raise(status, body)

    def invalidate(self, key):
        """Drops key's cached value on every node and in every HotCache."""
        status, _, body = self._request(
            "POST", "/hotkeys/invalidate?key=" + urllib.parse.quote(key, safe=""))
        if status != 200:
            self._raise(status, body)

    def hot_keys(self):
        """The keys hot on the node now."""
        status, _, body = self._request("GET", "/hotkeys")
        if status != 200:
            self._raise(status, body)
        return [k["key"] for k in json.loads(body.decode("utf-8"))["hot_keys"]]

    # -- UDP -------------------------------------------------------------------

    def record_udp(self, counts):
        """Counts accesses over UDP, fire and forget: lines "KEY COUNT", packed into
        datagrams of at most 1400 bytes. Keys must hold no space or control byte."""
        if self.udp is None:
            raise ValueError("no udp address given")
        if self._udp_socket is None:
            self._udp_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        head = ("#" + self.udp_secret + "\n").encode("utf-8") if self.udp_secret else b""
        datagram = head
        for key, n in dict(counts).items():
            line = ("%s %d\n" % (key, n)).encode("utf-8")
            if len(datagram) + len(line) > 1400 and datagram != head:
                self._udp_socket.sendto(datagram, self.udp)
                datagram = head
            datagram += line
        if datagram != head:
            self._udp_socket.sendto(datagram, self.udp)

    # -- stream ----------------------------------------------------------------

    def events(self, stop=None, read_timeout=10.0):
        """Yields (event, data) from GET /hotkeys/stream: ("hot"|"cold"|"invalidate",
        {...}) per event, ("synced", {"seq": n}) after the hot set, ("reset", {})
        when the subscriber fell behind. Ends when the node closes the stream, or
        when stop (a threading.Event) is set (checked at least every read_timeout
        seconds; the node pings every 5 s)."""
        conn = self._connection(timeout=read_timeout)
        try:
            conn.request("GET", "/hotkeys/stream",
                         headers=self._headers({"Accept": "text/event-stream"}))
            res = conn.getresponse()
            if res.status != 200:
                self._raise(res.status, res.read())
            event, data = "message", []
            while stop is None or not stop.is_set():
                raw = res.fp.readline()
                if not raw:
                    return
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line == "":
                    if data:
                        yield event, json.loads("\n".join(data))
                    event, data = "message", []
                elif line.startswith(":"):
                    continue
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
        finally:
            conn.close()


class HotCache:
    """A local copy of the node's hot keys and their values. get() answers from the
    dict while a key is hot and its value loaded, else through the node."""

    def __init__(self, client, load_values=True, read_timeout=2.0):
        self.client = client
        self.load_values = load_values
        self.read_timeout = read_timeout
        self.local_hits = 0
        self.remote_reads = 0
        # Reentrant: wait_for() holds it while its condition calls is_hot() and co.
        self._lock = threading.RLock()
        # key -> {"until_ms": int (0: until removed), "value": bytes or None}
        self._hot = {}
        self._synced = threading.Event()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread = None
        self.last_error = None

    def start(self):
        self._thread = threading.Thread(target=self._follow, name="shoal-hotcache",
                                        daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(self.read_timeout + 1)

    def wait_synced(self, timeout):
        """True once the hot set of the node arrived."""
        return self._synced.wait(timeout)

    def wait_for(self, condition, timeout):
        """Waits until condition(cache) holds (checked on every change); returns it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.1))
            return True

    def is_hot(self, key):
        with self._lock:
            entry = self._hot.get(key)
            return entry is not None and not self._expired(entry)

    def has_value(self, key):
        with self._lock:
            entry = self._hot.get(key)
            return (entry is not None and not self._expired(entry)
                    and entry["value"] is not None)

    def hot_keys(self):
        with self._lock:
            return sorted(k for k, e in self._hot.items() if not self._expired(e))

    def get(self, key):
        """key's value: local while hot and loaded, else GET /cache/KEY (kept
        locally when the key is hot)."""
        with self._lock:
            entry = self._hot.get(key)
            if entry is not None and self._expired(entry):
                del self._hot[key]
                entry = None
            if entry is not None and entry["value"] is not None:
                self.local_hits += 1
                return entry["value"]
        value = self.client.get(key)
        with self._changed:
            self.remote_reads += 1
            entry = self._hot.get(key)
            if entry is not None and value is not None:
                entry["value"] = value
                self._changed.notify_all()
        return value

    @staticmethod
    def _expired(entry):
        return entry["until_ms"] != 0 and entry["until_ms"] <= time.time() * 1000

    def _load(self, key):
        try:
            value = self.client.get(key)
        except (ShoalError, OSError) as e:
            self.last_error = e
            return
        with self._changed:
            entry = self._hot.get(key)
            if entry is not None and value is not None and entry["value"] is None:
                entry["value"] = value
                self._changed.notify_all()

    def _follow(self):
        backoff = 0.1
        while not self._stop.is_set():
            # Every connection starts with the node's hot set, up to "synced".
            snapshot = set()
            try:
                for event, data in self.client.events(self._stop, self.read_timeout):
                    backoff = 0.1
                    snapshot = self._apply(event, data, snapshot)
            except (OSError, ShoalError, http.client.HTTPException, ValueError) as e:
                self.last_error = e
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, 5.0)

    def _apply(self, event, data, snapshot):
        """Applies one stream event; snapshot collects the keys of a hot set being
        received (None outside one)."""
        load = None
        with self._changed:
            if event == "reset":
                snapshot = set()
            elif event == "hot":
                key = data["key"]
                entry = self._hot.setdefault(key, {"until_ms": 0, "value": None})
                entry["until_ms"] = data.get("until_ms", 0)
                if snapshot is not None:
                    snapshot.add(key)
                if entry["value"] is None and self.load_values:
                    load = key
            elif event == "cold":
                self._hot.pop(data["key"], None)
            elif event == "invalidate":
                entry = self._hot.get(data["key"])
                if entry is not None:
                    entry["value"] = None
            elif event == "synced":
                # The hot set is complete: keys not in it are no longer hot.
                keep = snapshot or set()
                for key in [k for k in self._hot if k not in keep]:
                    del self._hot[key]
                snapshot = None
                self._synced.set()
            self._changed.notify_all()
        if load is not None:
            self._load(load)
        return snapshot

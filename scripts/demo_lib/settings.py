"""configs/demo.json, the demo's settings: which servers to use ("auto" starts a
throwaway one, an object points at your own) and the load. load_settings checks the
file against SETTINGS, and each error it reports names its JSON path."""
import json

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

#!/usr/bin/env python3
"""Reads the outputs bench/hotkey/run wrote to OUT (ingest-*.txt, service.txt,
latency.txt) and prints the run's figures as one JSON object for bench/report.py.

usage: bench/hotkey/figures.py OUT FULL   (FULL: 1 for a full run, 0 for quick)

service.txt and latency.txt end with a JSON line of every figure, taken as is: the flash
sale's hot-only peers (sale_exact_hot_only_*, sale_jd_500ms_*, sale_lru_hot_entries_*,
sale_hot_cache_misses_*) and the end-to-end latency from the true crossing (e2e_*) next
to the burst push latency (detect_*). A run whose latency bench lacks the e2e figures is
an error: the report would show them MISSING without saying why.
"""
import glob, json, os, re, sys
out, full = sys.argv[1], sys.argv[2] == "1"
fig = {"bench": "hotkey", "mode": "full" if full else "quick"}
num = r"([-+0-9.eE]+)"
for path in sorted(glob.glob(os.path.join(out, "ingest-*.txt"))):
    keys, skew = re.match(r"ingest-(\d+)-([0-9.]+)\.txt", os.path.basename(path)).groups()
    tag = f"zipf{skew}_{keys}keys"
    text = open(path).read()
    m = re.search(r"key_counter:\s+" + num + r" keys/s\s+heap\s+" + num + r" MiB \(bound " + num, text)
    fig[f"{tag}_key_counter_keys_per_s"] = float(m.group(1))
    fig[f"{tag}_key_counter_heap_mib"] = float(m.group(2))
    fig[f"{tag}_key_counter_bound_mib"] = float(m.group(3))
    m = re.search(r"exact map:\s+" + num + r" keys/s\s+heap\s+" + num, text)
    fig[f"{tag}_exact_keys_per_s"] = float(m.group(1))
    fig[f"{tag}_exact_heap_mib"] = float(m.group(2))
    m = re.search(r"speed " + num + r"x, heap " + num + "x", text)
    fig[f"{tag}_speed_ratio"] = float(m.group(1))
    fig[f"{tag}_heap_ratio"] = float(m.group(2))
    m = re.search(r"detections: exact (\d+), key_counter (\d+), precision " + num + ", recall " + num, text)
    fig[f"{tag}_hot_exact"] = int(m.group(1))
    fig[f"{tag}_hot_detected"] = int(m.group(2))
    fig[f"{tag}_precision"] = float(m.group(3))
    fig[f"{tag}_recall"] = float(m.group(4))
    m = re.search(r"reported after the exact crossing \(trace ms\): p50 (-?\d+), p99 (-?\d+), max (-?\d+)", text)
    if m:
        fig[f"{tag}_late_p50_ms"] = int(m.group(1))
        fig[f"{tag}_late_p99_ms"] = int(m.group(2))
        fig[f"{tag}_late_max_ms"] = int(m.group(3))
    # The hit-ratio table depends on the key count only (its skews are fixed), so each
    # key count gets its own figures; the ingest skew runs repeat the same table.
    for m in re.finditer(r"^\s*" + num + r"\s+(\d+)\s+" + num + r"\s+" + num + r"\s+[-+0-9.]+\s+" + num + r"\s+" + num + r"\s*$", text, re.M):
        hr = f"hit_ratio_{keys}keys_zipf{m.group(1)}_{m.group(2)}entries"
        fig[f"{hr}_tinylfu"] = float(m.group(3))
        fig[f"{hr}_lru"] = float(m.group(4))
        fig[f"{hr}_tinylfu_ops_per_s"] = float(m.group(5))
        fig[f"{hr}_lru_ops_per_s"] = float(m.group(6))
for name in ("service.txt", "latency.txt"):
    last = open(os.path.join(out, name)).read().strip().splitlines()[-1]
    fig.update(json.loads(last))
for key in ("e2e_p50_ms", "e2e_p99_ms", "e2e_max_ms", "e2e_false_hot", "sale_exact_hot_only_hit_ratio"):
    if key not in fig:
        sys.exit(f"figures.py: {key} missing from the hot-key benches' output in {out}")
print(json.dumps(fig))

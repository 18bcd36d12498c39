#!/usr/bin/env python3
"""The kill schedule of bench/binlog/soak, the same for the same seed: one line
per kill with its number, the seconds from the node's start to its kill, and
the second of that interval at which the target (kill -9) or the source
(clean) restarts, or "-".

usage: bench/binlog/soak_schedule.py SEED KILLS LOW:HIGH TARGET_EVERY SOURCE_RESTARTS
"""
import random, sys
seed, kills, interval, target_every, source_restarts = sys.argv[1:]
kills, target_every, source_restarts = int(kills), int(target_every), int(source_restarts)
low, high = (float(x) for x in interval.split(":"))
r = random.Random(int(seed))
source_at = {round(kills * (j + 1) / (source_restarts + 1)) for j in range(source_restarts)}
target_at = set()
for k in (range(target_every, kills + 1, target_every) if target_every > 0 else []):
    while k in source_at or k in target_at:
        k += 1
    target_at.add(k)
for k in range(1, kills + 1):
    delay = r.uniform(low, high)
    at = lambda chosen: "%.1f" % r.uniform(0.2 * delay, 0.8 * delay) if k in chosen else "-"
    t, s = at(target_at), at(source_at)
    print(k, "%.1f" % delay, t, s)

#!/usr/bin/env python3
"""The scheduler's figures against a running service (default http://127.0.0.1:5098, model sheep): what one heavy
/arithmetic costs in memory, what a flood of encodings does to a normal /complete and to one that needs no encoding,
and how fast the excess is refused. Prints a markdown table. Usage: redesign_figures.py [base_url] [server_pid]"""
import json, sys, time, threading, urllib.request, urllib.error

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5098"
PID = int(sys.argv[2]) if len(sys.argv) > 2 else None

def rss_mib():
    if PID is None: return float("nan")
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024
    return float("nan")

def post(path, body, accept="application/json"):
    data = json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, headers={"Content-Type": "application/json", "Accept": accept})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            r.read()
            return r.status, time.perf_counter() - start
    except urllib.error.HTTPError as e:
        e.read()
        return e.code, time.perf_counter() - start

def sketch(points):
    return {"strokes": [[3, 2 if i % 2 == 0 else -2, 1 if i % 25 == 24 else 0] for i in range(points)]}

rows = []
rows.append(("RSS at start", f"{rss_mib():.0f} MiB"))

# 1. The request that once took 1.5 GB: 183 one-point operands and one of 2000 points.
operands = {f"o{i}": sketch(1) for i in range(183)}
operands["big"] = sketch(2000)
status, took = post("/arithmetic", {"model": "sheep", "expression": "big", "operands": operands, "max_steps": 1})
rows.append(("184-operand /arithmetic", f"{status} in {took * 1000:.0f} ms; RSS after {rss_mib():.0f} MiB"))

# 2. The heaviest /arithmetic the default limits admit: 9 operands of 2000 points (18 000 points + 1000 steps ≤ 20 000).
heavy = {"model": "sheep", "expression": "+".join(f"a{i}" for i in range(9)), "operands": {f"a{i}": sketch(2000) for i in range(9)}, "max_steps": 1000, "seed": 1}
status, took = post("/arithmetic", heavy)
rows.append(("heaviest admitted /arithmetic (9 × 2000 points)", f"{status} in {took * 1000:.0f} ms; RSS after {rss_mib():.0f} MiB"))

small = {"model": "sheep", "sketch": {"strokes": [[0, 0, 0], [20, 5, 0], [25, -5, 0], [10, 20, 1]]}, "samples": 1, "temperature": 0.5, "seed": 42, "max_steps": 100}
z_only = dict(small, condition="z", z=[0.0] * 128)
def median(xs): xs = sorted(xs); return xs[len(xs) // 2]
quiet = [post("/complete", small)[1] for _ in range(10)]
quiet_z = [post("/complete", z_only)[1] for _ in range(10)]
rows.append(("/complete (4 points, encoding), quiet: median", f"{median(quiet) * 1000:.1f} ms"))
rows.append(("/complete (condition z, no encoding), quiet: median", f"{median(quiet_z) * 1000:.1f} ms"))

# 3. A flood: 100 heavy encodings at once, and normal requests meanwhile.
results = []
def flood():
    results.append(post("/arithmetic", heavy))
threads = [threading.Thread(target=flood) for _ in range(100)]
for t in threads: t.start()
time.sleep(0.3)
during = [post("/complete", small)[1] for _ in range(5)]
during_z = [post("/complete", z_only)[1] for _ in range(5)]
for t in threads: t.join()
codes = [s for s, _ in results]
refusals = [t for s, t in results if s == 429]
rows.append(("flood: 100 heavy /arithmetic at once", f"{codes.count(200)} × 200, {codes.count(429)} × 429, {len(codes) - codes.count(200) - codes.count(429)} other; RSS after {rss_mib():.0f} MiB"))
if refusals: rows.append(("flood: 429 latency max", f"{max(refusals) * 1000:.1f} ms"))
rows.append(("/complete (encoding) during the flood: median / max", f"{median(during) * 1000:.0f} / {max(during) * 1000:.0f} ms"))
rows.append(("/complete (condition z) during the flood: median / max", f"{median(during_z) * 1000:.1f} / {max(during_z) * 1000:.1f} ms"))

print("| what | measured |\n|---|---|")
for k, v in rows: print(f"| {k} | {v} |")

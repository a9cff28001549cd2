#!/usr/bin/python3
"""Merges the benchmark programs' JSON files (one per round, pin mode, thread count and group,
written by scripts/bench.sh) into one results file, prints the comparison table and draws a
bar chart.

    report.py --raw DIR --json OUT.json [--png OUT.png]

With --png, the batch sweep is drawn next to it as OUT_sweep.png and the training step as
OUT_training.png.

Every figure is a median over all samples (rounds x repetitions) of one benchmark at one
thread count and pin mode. The table gives, per shape and activation, each nnfuse schedule and
peer: GFLOP/s, % of the FMA peak measured at that thread count, the ratio to the best peer,
and user+sys CPU time over wall time (about 2 for a 2-thread run that really had two cores).
Then the seed network's whole forward against the sum of the best peers' times for its two
layers, the elementwise kernels against a copy of the same bytes, the training step's
schedules against libtorch and PyTorch eager, and any schedule slower than `naive`, and the batch sweep's cliffs (B = 1 ... 64, where one more row made a forward
faster). Exits 1 when a benchmark reported an error (a failed reference check)."""

import argparse
import glob
import json
import os
import re
import statistics
import sys

TIME_UNITS = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}

FORWARD = re.compile(r"^BM_Forward/dense_(\d+)x(\d+)_(\w+?)/([^/]+)/([^/]+)/B:(\d+)$")
SEED = re.compile(r"^BM_Forward/seed/([^/]+)/([^/]+)/B:(\d+)$")
NODE = re.compile(r"^BM_Node/seed/([^/]+)/([^/]+)/([^/]+)/B:(\d+)$")
PEER = re.compile(r"^BM_Peer/([^/]+)/(\d+)x(\d+)_(\w+?)/B:(\d+)$")
ELEMENTWISE = re.compile(r"^BM_Elementwise/ew_(\w+?)/([^/]+)/([^/]+)/(\d+MiB)$")
TRAIN = re.compile(r"^BM_TrainStep/([^/]+)/([^/]+)/([^/]+)/B:(\d+)$")
TRAIN_PEER = re.compile(r"^BM_TrainStepPeer/([^/]+)/([^/]+)/B:(\d+)$")
SWEEP = re.compile(r"^BM_Sweep/([^/]+)/([^/]+)/([^/]+)/B:(\d+)$")
# A forward counts as getting faster with one more row (a plan cliff) only beyond this much:
# medians on a shared machine still move by a few per cent.
CLIFF_TOLERANCE = 0.05


def load(raw_dir):
    """Samples per (name, threads, pin mode), the machine's figures, and the errors."""
    samples, machine, errors = {}, {}, []
    files = sorted(glob.glob(os.path.join(raw_dir, "*.json")))
    for path in files:
        mode = "unpinned" if "_unpinned_" in os.path.basename(path) else "pinned"
        if os.path.getsize(path) == 0:
            continue  # Google Benchmark's file when the filter matched none of a program's rows
        with open(path, encoding="utf-8") as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                errors.append(f"{path}: not JSON ({e}); did the program crash?")
                continue
        ctx = data.get("context", {})
        threads = int(ctx.get("nnfuse_threads", 1))
        group = ctx.get("nnfuse_group", "?")
        key = (threads, mode)
        m = machine.setdefault(key, {"peak_gflops": [], "copy_gbps": [], "cpus_allowed": []})
        # The PyTorch eager peer measures no machine figures: only the programs' count.
        if "nnfuse_peak_gflops" in ctx:
            m["peak_gflops"].append(float(ctx["nnfuse_peak_gflops"]))
        if "nnfuse_copy_gbps" in ctx:
            m["copy_gbps"].append(float(ctx["nnfuse_copy_gbps"]))
        m["cpus_allowed"].append(int(ctx.get("nnfuse_cpus_allowed", 0)))
        for b in data.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration":
                continue  # Google Benchmark's own aggregates; the medians are taken here
            name = b["name"].replace("/process_time", "").replace("/real_time", "")
            if b.get("error_occurred"):
                errors.append(f"{name} ({threads} thread(s)): {b.get('error_message', '')}")
                continue
            unit = TIME_UNITS[b.get("time_unit", "ns")]
            s = samples.setdefault((name, threads, mode), {"group": group, "values": []})
            s["values"].append({
                "time_us": b["real_time"] * unit,
                "cpu_us": b["cpu_time"] * unit,
                "gflops": b.get("GFLOP/s"),
                "peak_fraction": b.get("peak_fraction"),
                "gbps": b.get("GB/s"),
                "bandwidth_fraction": b.get("bandwidth_fraction"),
            })
    return files, samples, machine, errors


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(samples):
    rows = {}
    for (name, threads, mode), s in samples.items():
        v = s["values"]
        time_us = median([x["time_us"] for x in v])
        cpu_us = median([x["cpu_us"] for x in v])
        rows[(name, threads, mode)] = {
            "name": name, "group": s["group"], "threads": threads, "pin": mode,
            "samples": len(v),
            "median_time_us": time_us,
            "median_gflops": median([x["gflops"] for x in v]),
            "median_peak_fraction": median([x["peak_fraction"] for x in v]),
            "median_gbps": median([x["gbps"] for x in v]),
            "median_bandwidth_fraction": median([x["bandwidth_fraction"] for x in v]),
            "cpu_per_wall": cpu_us / time_us if time_us else None,
            "time_us": [x["time_us"] for x in v],
        }
    return rows


def fmt(v, spec, none="-"):
    return none if v is None else format(v, spec)


def busy(r):
    """A mark for a run whose process had clearly fewer cores than threads: the machine was busy
    (spinning pools count their spinning as CPU time, so a pool that had its cores shows ~N)."""
    cpw = r["cpu_per_wall"]
    if cpw is None or cpw >= 0.75 * r["threads"]:
        return ""
    return f"  (< {r['threads']} cores)"


def layer_table(rows, threads, mode):
    """{(batch, k, n, act): {entity: row}} of the single-layer and peer benchmarks."""
    table = {}
    for (name, t, m), r in rows.items():
        if t != threads or m != mode:
            continue
        if f := FORWARD.match(name):
            k, n, act, sched, variant, b = f.groups()
            entity = f"nnfuse {sched}" + ("" if variant == "host" else f"/{variant}")
        elif p := PEER.match(name):
            entity, k, n, act, b = p.groups()
        else:
            continue
        table.setdefault((int(b), int(k), int(n), act), {})[entity] = r
    return table


def is_peer(entity):
    return not entity.startswith("nnfuse")


def print_layers(table, threads, mode, peak):
    if not table:
        return []  # a run of other rows only (--filter TrainStep)
    print(f"\n== single layers, {threads} thread(s), {mode}; FMA peak {fmt(peak, '.1f')} GFLOP/s "
          "(the best of every program's measurement at this thread count)")
    print(f"{'(B,K,N) act':<26} {'kernel / peer':<20} {'GFLOP/s':>8} {'% peak':>7} "
          f"{'x best peer':>11} {'cpu/wall':>8} {'n':>3}")
    print("  (cpu/wall: the process's user+sys time over wall time, ~threads when it had its "
          "cores; n: samples)")
    comparisons = []
    for key in sorted(table, key=lambda k: (k[1] * k[2], k[0], k[3])):
        b, k, n, act = key
        entities = table[key]
        peers = {e: r for e, r in entities.items() if is_peer(e) and r["median_gflops"]}
        best_peer = max(peers, key=lambda e: peers[e]["median_gflops"]) if peers else None
        best = peers[best_peer]["median_gflops"] if best_peer else None
        label = f"({b},{k},{n}) {act}"
        for e in sorted(entities, key=lambda e: (is_peer(e), e)):
            r = entities[e]
            ratio = r["median_gflops"] / best if best and r["median_gflops"] else None
            pf = r["median_gflops"] / peak if peak and r["median_gflops"] else None
            print(f"{label:<26} {e:<20} {fmt(r['median_gflops'], '8.1f'):>8} "
                  f"{fmt(pf and 100 * pf, '6.1f'):>7} {fmt(ratio, '10.2f'):>11} "
                  f"{fmt(r['cpu_per_wall'], '7.2f'):>8} {r['samples']:>3}{busy(r)}")
            label = ""
            if not is_peer(e):
                comparisons.append({
                    "shape": [b, k, n], "activation": act, "kernel": e, "threads": threads,
                    "pin": mode, "gflops": r["median_gflops"], "peak_fraction": pf,
                    "best_peer": best_peer, "best_peer_gflops": best, "ratio_to_best_peer": ratio,
                })
    return comparisons


def training_table(rows, threads, mode):
    """{(network, batch): {entity: row}} of nnfuse's BM_TrainStep ("nnfuse <schedule>[/variant]")
    and the peers' BM_TrainStepPeer ("<peer>") rows."""
    table = {}
    for (name, t, m), r in rows.items():
        if t != threads or m != mode:
            continue
        if f := TRAIN.match(name):
            net, sched, variant, b = f.groups()
            entity = f"nnfuse {sched}" + ("" if variant == "host" else f"/{variant}")
        elif p := TRAIN_PEER.match(name):
            net, entity, b = p.groups()
        else:
            continue
        table.setdefault((net, int(b)), {})[entity] = r
    return table


def print_training(rows, threads, mode, peak):
    """One SGD training step of the seed network per schedule, peer and batch: time, its share of
    peak, and each peer's time over nnfuse's best schedule's (> 1: nnfuse is faster)."""
    out = []
    table = training_table(rows, threads, mode)
    if not table:
        return out
    print(f"\n== training step (forward, CrossEntropy, backward, SGD), {threads} thread(s), {mode}: "
          "GFLOP/s on the step's matmul FLOPs (goal at B = 32: >= 50 % of peak); "
          "peer/nnfuse = the peer's time over nnfuse's best schedule's")
    print(f"{'network':<8} {'B':>4} {'schedule / peer':<22} {'us':>9} {'GFLOP/s':>9} "
          f"{'% peak':>7} {'peer/nnfuse':>11} {'cpu/wall':>8} {'n':>3}")
    for (net, b) in sorted(table, key=lambda k: (k[0], -k[1])):
        entities = table[(net, b)]
        ours = {e: r for e, r in entities.items() if not is_peer(e)}
        best = min(ours, key=lambda e: ours[e]["median_time_us"]) if ours else None
        best_us = ours[best]["median_time_us"] if best else None
        for e in sorted(entities, key=lambda e: (is_peer(e), e)):
            r = entities[e]
            pf = r["median_gflops"] / peak if r["median_gflops"] and peak else None
            ratio = r["median_time_us"] / best_us if is_peer(e) and best_us else None
            print(f"{net:<8} {b:>4} {e:<22} {r['median_time_us']:>9.2f} "
                  f"{fmt(r['median_gflops'], '9.1f'):>9} {fmt(pf and 100 * pf, '6.1f'):>7} "
                  f"{fmt(ratio, '10.2f', ''):>11} {fmt(r['cpu_per_wall'], '7.2f'):>8} "
                  f"{r['samples']:>3}{busy(r)}")
            entry = {"network": net, "batch": b, "threads": threads, "pin": mode,
                     "us": r["median_time_us"], "gflops": r["median_gflops"], "peak_fraction": pf}
            if is_peer(e):
                entry.update({"peer": e, "best_nnfuse": best, "best_nnfuse_us": best_us,
                              "peer_over_nnfuse": ratio})
            else:
                entry.update({"schedule": e.split()[1].split("/")[0],
                              "variant": r["name"].split("/")[3]})
            out.append(entry)
    return out


def draw_training(rows, keys, path):
    """Bars of the training step's median time per batch and thread count, nnfuse's schedules
    and the peers side by side (log scale: `naive` is ~10x `manual`)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [((net, b), t, m, entities) for t, m in keys
              for (net, b), entities in sorted(training_table(rows, t, m).items(),
                                               key=lambda kv: (kv[0][0], -kv[0][1]))]
    entities = sorted({e for *_, es in groups for e in es}, key=lambda e: (is_peer(e), e))
    width = 0.8 / max(len(entities), 1)
    fig, ax = plt.subplots(figsize=(max(7, 1.8 * len(groups)), 4.5))
    for i, e in enumerate(entities):
        xs = [j + i * width for j, (*_, es) in enumerate(groups) if e in es]
        ys = [es[e]["median_time_us"] for *_, es in groups if e in es]
        ax.bar(xs, ys, width, label=e)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(groups))])
    ax.set_xticklabels([f"{net} B={b}\n{t} thr, {m}" for (net, b), t, m, _ in groups], fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("one SGD step, us (median; log scale)")
    ax.set_title("one SGD step: nnfuse vs libtorch and PyTorch eager (lower is better)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def print_seed(rows, threads, mode):
    """The seed network's whole forward against the best peers' two layers, per batch."""
    out = []
    nnfuse = {}
    for (name, t, m), r in rows.items():
        if t == threads and m == mode and (s := SEED.match(name)):
            sched, variant, b = s.groups()
            nnfuse.setdefault(int(b), {})[sched + ("" if variant == "host" else "/" + variant)] = r
    if not nnfuse:
        return out
    layers = layer_table(rows, threads, mode)
    print(f"\n== seed network 784 -> 128 ReLU -> 10, {threads} thread(s), {mode}: whole forward "
          "vs the best peer's time for each layer, added (goal: peers / nnfuse >= 1.2)")
    print(f"{'B':>4} {'schedule':<12} {'nnfuse us':>10} {'layer 1 best':>22} {'layer 2 best':>22} "
          f"{'sum us':>8} {'peers/nnfuse':>12}")
    for b in sorted(nnfuse):
        best = []
        for key in ((b, 784, 128, "relu"), (b, 128, 10, "none")):
            peers = {e: r for e, r in layers.get(key, {}).items() if is_peer(e)}
            if peers:
                e = min(peers, key=lambda e: peers[e]["median_time_us"])
                best.append((e, peers[e]["median_time_us"]))
        total = sum(t for _, t in best) if len(best) == 2 else None
        for sched, r in sorted(nnfuse[b].items()):
            ratio = total / r["median_time_us"] if total else None
            cells = [f"{e} {t:.2f}" for e, t in best] + ["-"] * (2 - len(best))
            print(f"{b:>4} {sched:<12} {r['median_time_us']:>10.2f} {cells[0]:>22} {cells[1]:>22} "
                  f"{fmt(total, '8.2f'):>8} {fmt(ratio, '11.2f'):>12}{busy(r)}")
            out.append({"batch": b, "schedule": sched, "threads": threads, "pin": mode,
                        "nnfuse_us": r["median_time_us"], "best_peer_layers": best,
                        "peers_sum_us": total, "peers_over_nnfuse": ratio})
    nodes = sorted((n.groups(), r) for (name, t, m), r in rows.items()
                   if t == threads and m == mode and (n := NODE.match(name)))
    for (kernel, sched, variant, b), r in nodes:
        print(f"     node {kernel:<10} {sched:<8} B={b:<4} {r['median_time_us']:>9.2f} us "
              f"{fmt(r['median_gflops'], '7.1f')} GFLOP/s")
    return out


def print_elementwise(rows, threads, mode):
    out = []
    copy = rows.get(("BM_Copy/64MiB", threads, mode))
    ew = sorted((e.groups(), r) for (name, t, m), r in rows.items()
                if t == threads and m == mode and (e := ELEMENTWISE.match(name)))
    if not ew:
        return out
    copy_gbps = copy["median_gbps"] if copy else None
    print(f"\n== elementwise on 64 MiB, {threads} thread(s), {mode}: copy of the same bytes "
          f"{fmt(copy_gbps, '.1f')} GB/s (goal: >= 90 % for ReLU, >= 75 % for the others)")
    for (act, sched, variant, size), r in ew:
        frac = r["median_gbps"] / copy_gbps if copy_gbps and r["median_gbps"] else None
        print(f"  {act:<10} {sched:<10} {fmt(r['median_gbps'], '7.2f')} GB/s  "
              f"{fmt(frac and 100 * frac, '6.1f')} % of copy  cpu/wall "
              f"{fmt(r['cpu_per_wall'], '.2f')}")
        out.append({"activation": act, "schedule": sched, "threads": threads, "pin": mode,
                    "gbps": r["median_gbps"], "copy_gbps": copy_gbps, "fraction_of_copy": frac})
    return out


def sweeps(rows, threads, mode):
    """{(network, schedule): {batch: median us}} of the batch sweep at one thread count."""
    out = {}
    for (name, t, m), r in rows.items():
        if t == threads and m == mode and (s := SWEEP.match(name)):
            net, sched, _variant, b = s.groups()
            out.setdefault((net, sched), {})[int(b)] = r["median_time_us"]
    return out


def print_sweep(rows, threads, mode):
    """Per network and schedule: every B where B + 1 rows took less time (beyond tolerance)."""
    out = []
    table = sweeps(rows, threads, mode)
    if not table:
        return out
    print(f"\n== batch sweep, {threads} thread(s), {mode}: a forward must not get faster when "
          f"the batch grows by one (cliffs beyond {100 * CLIFF_TOLERANCE:.0f} %)")
    for (net, sched), times in sorted(table.items()):
        batches = sorted(times)
        cliffs = [(b, times[b], times[b + 1]) for b in batches
                  if b + 1 in times and times[b + 1] < (1 - CLIFF_TOLERANCE) * times[b]]
        text = ", ".join(f"B={b} {t0:.1f} -> {t1:.1f} us" for b, t0, t1 in cliffs) or "none"
        print(f"  {net} {sched:<8} B=1 {times[batches[0]]:.2f} us ... B={batches[-1]} "
              f"{times[batches[-1]]:.2f} us; cliffs: {text}")
        out.append({"network": net, "schedule": sched, "threads": threads, "pin": mode,
                    "times_us": {str(b): times[b] for b in batches},
                    "cliffs": [{"batch": b, "us": t0, "next_us": t1} for b, t0, t1 in cliffs]})
    return out


def draw_sweep(rows, keys, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5))
    for threads, mode in keys:
        for (net, sched), times in sorted(sweeps(rows, threads, mode).items()):
            batches = sorted(times)
            ax.plot(batches, [times[b] for b in batches], marker=".",
                    label=f"{net} {sched}, {threads} thread(s), {mode}")
    ax.set_xlabel("batch")
    ax.set_ylabel("forward, us (median)")
    ax.set_title("batch sweep: the time of a forward must not fall when the batch grows")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def slower_than_naive(rows):
    """(name, schedule, naive) for every non-naive kernel slower than `naive` on the same case."""
    found = []
    for (name, t, m), r in rows.items():
        parts = name.split("/")
        if parts[0] not in ("BM_Forward", "BM_Elementwise", "BM_Node"):
            continue
        idx = 3 if parts[0] == "BM_Node" else 2
        if parts[idx] == "naive":
            continue
        naive = rows.get(("/".join(parts[:idx] + ["naive"] + parts[idx + 1:]), t, m))
        if naive and naive["median_time_us"] < r["median_time_us"]:
            found.append(f"{name} ({t} thread(s), {m}): {r['median_time_us']:.2f} us vs naive "
                         f"{naive['median_time_us']:.2f} us")
    return sorted(found)


def draw(rows, keys, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(keys), 1, figsize=(14, 4.5 * len(keys)), squeeze=False)
    for ax, (threads, mode) in zip(axes[:, 0], keys):
        table = layer_table(rows, threads, mode)
        shapes = sorted(table, key=lambda k: (k[1] * k[2], k[0], k[3]))
        entities = sorted({e for s in shapes for e in table[s]}, key=lambda e: (is_peer(e), e))
        width = 0.8 / max(len(entities), 1)
        for i, e in enumerate(entities):
            xs = [j + i * width for j, s in enumerate(shapes) if e in table[s]]
            ys = [table[s][e]["median_gflops"] or 0 for s in shapes if e in table[s]]
            ax.bar(xs, ys, width, label=e)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(shapes))])
        ax.set_xticklabels([f"({b},{k},{n}) {a}" for b, k, n, a in shapes], rotation=60,
                           ha="right", fontsize=7)
        ax.set_ylabel("GFLOP/s (median)")
        ax.set_title(f"nnfuse schedules vs peers, {threads} thread(s), {mode}")
        if entities:
            ax.legend(fontsize=7, ncol=4)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--raw", required=True, help="folder of the programs' JSON files")
    ap.add_argument("--json", required=True, help="merged results file to write")
    ap.add_argument("--png", help="bar chart to draw")
    args = ap.parse_args()

    files, samples, machine, errors = load(args.raw)
    if not files:
        print(f"report.py: no JSON files in {args.raw}", file=sys.stderr)
        return 1
    rows = summarize(samples)
    keys = sorted({(t, m) for _, t, m in rows})
    result = {
        "machine": {f"{t}_threads_{m}": {"peak_gflops": median(v["peak_gflops"]),
                                          "copy_gbps": median(v["copy_gbps"]),
                                          "cpus_allowed": min(v["cpus_allowed"])}
                    for (t, m), v in machine.items()},
        "benchmarks": sorted(rows.values(), key=lambda r: (r["threads"], r["pin"], r["name"])),
        "layers": [], "seed": [], "elementwise": [], "sweep": [], "training": [],
        "slower_than_naive": slower_than_naive(rows),
        "errors": errors,
    }
    for threads, mode in keys:
        # The best FMA rate any program saw at this thread count: on a busy machine a single
        # start-up measurement may have had fewer cores than threads.
        fma = samples.get(("BM_PeakFma", threads, mode), {"values": []})["values"]
        peak = max([x["gflops"] for x in fma if x["gflops"]] + machine[(threads, mode)]["peak_gflops"],
                   default=None)
        result["machine"][f"{threads}_threads_{mode}"]["best_peak_gflops"] = peak
        result["layers"] += print_layers(layer_table(rows, threads, mode), threads, mode, peak)
        result["seed"] += print_seed(rows, threads, mode)
        result["elementwise"] += print_elementwise(rows, threads, mode)
        result["sweep"] += print_sweep(rows, threads, mode)
        result["training"] += print_training(rows, threads, mode, peak)
    overhead = [(t, m, r["median_time_us"]) for (name, t, m), r in sorted(rows.items())
                if name == "BM_Runtime/session_call"]
    if overhead:
        print("\n== runtime overhead per kernel call, without the kernel (goal: <= 20 ns)")
        for t, m, us in overhead:
            print(f"  {t} thread(s), {m}: {us * 1e3:.1f} ns")
    result["runtime_overhead_ns"] = [{"threads": t, "pin": m, "ns": us * 1e3}
                                     for t, m, us in overhead]
    if result["slower_than_naive"]:
        print("\n== slower than the naive schedule (a sanity check):")
        for line in result["slower_than_naive"]:
            print("  " + line)
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    print(f"\nresults: {args.json}")
    if args.png and keys:
        draw(rows, keys, args.png)
        print(f"chart:   {args.png}")
        if any(sweeps(rows, t, m) for t, m in keys):
            sweep_png = os.path.splitext(args.png)[0] + "_sweep.png"
            draw_sweep(rows, keys, sweep_png)
            print(f"sweep:   {sweep_png}")
        if any(training_table(rows, t, m) for t, m in keys):
            training_png = os.path.splitext(args.png)[0] + "_training.png"
            draw_training(rows, keys, training_png)
            print(f"training: {training_png}")
    if errors:
        print("\nERRORS (benchmarks that failed their reference check or crashed):")
        for e in errors:
            print("  " + e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

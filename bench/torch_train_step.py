#!/usr/bin/python3
"""PyTorch eager peer of BM_TrainStep (the torch_eager group): one SGD training step of the seed
network 784 -> 128 ReLU -> 10 in eager mode, rows BM_TrainStepPeer/seed/torch_eager/B:<batch>
for B = 1 and 32, written as Google Benchmark JSON so that bench/report.py reads them like the
C++ programs' rows. A step is zero_grad, forward (nn.Linear, nn.ReLU, nn.Linear), mean
F.cross_entropy, backward and torch.optim.SGD's step. The weights, inputs, labels, SGD
hyperparameters, FLOP count and float64 reference loss come from bench_training_problem (the
same make_problem data nnfuse's BM_TrainStep and the libtorch peer use, bit for bit), and the
first step's loss must match that reference (relative 1e-5) before anything is timed. Threads:
torch.set_num_threads(--threads); the matmuls run in Debian's OpenBLAS, which only
OPENBLAS_NUM_THREADS (set by scripts/bench.sh before the process starts) reaches. Timing
mimics Google Benchmark: a warm-up, then per repetition as many steps as fill --benchmark_min_time
(at least 10), wall time and the process's user+sys time per step.

    bench_torch_eager [--threads=N] [--check] [--benchmark_filter=RE]
                      [--benchmark_repetitions=N] [--benchmark_min_time=S]
                      [--benchmark_out=FILE] [--benchmark_out_format=json]

(bench_torch_eager, generated next to the programs, runs this script with --problem-program.)"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

GROUP = "torch_eager"


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problem-program", required=True, help="bench_training_problem's path")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--check", action="store_true", help="only check each step's loss")
    ap.add_argument("--benchmark_filter", default=".")
    ap.add_argument("--benchmark_repetitions", type=int, default=1)
    ap.add_argument("--benchmark_min_time", type=float, default=0.5)
    ap.add_argument("--benchmark_out")
    ap.add_argument("--benchmark_out_format", default="json", choices=["json"])
    args = ap.parse_args(argv)
    if args.threads < 1:
        ap.error("--threads needs a positive integer")
    return args


def make_step(torch, problem, hyper):
    """The model, optimizer and data of one problem; returns step() -> loss tensor."""
    from collections import OrderedDict

    params = problem["parameters"]
    hidden, k = params["fc1.weight"]["shape"]
    classes = params["fc2.weight"]["shape"][0]
    net = torch.nn.Sequential(OrderedDict(fc1=torch.nn.Linear(k, hidden), relu=torch.nn.ReLU(),
                                          fc2=torch.nn.Linear(hidden, classes)))
    with torch.no_grad():
        for name, tensor in net.named_parameters():
            p = params[name]
            tensor.copy_(torch.tensor(p["values"], dtype=torch.float32).reshape(p["shape"]))
    x = torch.tensor(problem["input"]["values"], dtype=torch.float32).reshape(
        problem["input"]["shape"])
    y = torch.tensor(problem["labels"], dtype=torch.int64)
    sgd = torch.optim.SGD(net.parameters(), lr=hyper["lr"], momentum=hyper["momentum"],
                          weight_decay=hyper["weight_decay"])
    functional = torch.nn.functional

    def step():
        sgd.zero_grad()
        loss = functional.cross_entropy(net(x), y)
        loss.backward()
        sgd.step()
        return loss

    return step


def time_steps(step, n):
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        step()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(step, min_time, repetitions):
    """[(iterations, wall seconds, cpu seconds)] per repetition, after a warm-up."""
    time_steps(step, 10)
    n = 10
    while True:  # as Google Benchmark does: grow the count until a run fills min_time
        wall, _ = time_steps(step, n)
        if wall >= min_time:
            break
        n = max(n + 1, min(10 * n, int(n * 1.4 * min_time / max(wall, 1e-9))))
    runs = []
    for _ in range(repetitions):
        wall, cpu = time_steps(step, n)
        runs.append((n, wall, cpu))
    return runs


def entry(name, index, repetitions, run, flops, threads):
    n, wall, cpu = run
    return {
        "name": name, "run_name": name, "run_type": "iteration", "repetitions": repetitions,
        "repetition_index": index, "threads": threads, "iterations": n,
        "real_time": wall / n * 1e6, "cpu_time": cpu / n * 1e6, "time_unit": "us",
        "GFLOP/s": flops * n / wall * 1e-9,
    }


def main(argv):
    args = parse_args(argv)
    selected = re.compile(args.benchmark_filter if args.benchmark_filter != "all" else ".")
    names = {b: f"BM_TrainStepPeer/seed/{GROUP}/B:{b}" for b in (1, 32)}
    chosen = [b for b, name in names.items() if selected.search(name)]
    context = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "executable": sys.argv[0],
        "nnfuse_group": GROUP, "nnfuse_threads": str(args.threads),
        "nnfuse_cpus_allowed": str(len(os.sched_getaffinity(0))),
    }
    benchmarks, failed, passed = [], 0, 0
    if chosen:  # import torch (a second or two) only when there is something to run
        import torch

        torch.set_num_threads(args.threads)
        blas = os.environ.get("OPENBLAS_NUM_THREADS")
        if blas != str(args.threads):
            print(f"{GROUP}: warning: OPENBLAS_NUM_THREADS is {blas or 'unset'}, not "
                  f"{args.threads}: torch's matmuls (OpenBLAS) do not run on --threads",
                  file=sys.stderr)
        context["torch_version"] = torch.__version__
        out = subprocess.run([args.problem_program], check=True, capture_output=True, text=True)
        hyper = json.loads(out.stdout)
        problems = {p["batch"]: p for p in hyper["problems"]}
        for b in sorted(chosen, reverse=True):
            name = names[b]
            problem = problems[b]
            step = make_step(torch, problem, hyper)
            loss = step().item()
            ref = problem["reference_loss"]
            if abs(loss - ref) > hyper["loss_tolerance"] * max(1.0, abs(ref)):
                message = (f"{name}: the first step's loss {loss:.9g} is not the float64 "
                           f"reference's {ref:.9g}")
                print(("FAILED  " if args.check else "") + message, flush=True)
                failed += 1
                benchmarks.append({"name": name, "run_name": name, "run_type": "iteration",
                                   "error_occurred": True, "error_message": message})
                continue
            passed += 1
            if args.check:
                print(f"ok      {name}", flush=True)
                continue
            runs = measure(step, args.benchmark_min_time, args.benchmark_repetitions)
            for i, run in enumerate(runs):
                e = entry(name, i, len(runs), run, problem["flops"], args.threads)
                benchmarks.append(e)
                print(f"{name:<44} {e['real_time']:10.2f} us {e['cpu_time']:10.2f} us "
                      f"{e['iterations']:8d} GFLOP/s={e['GFLOP/s']:.2f}", flush=True)
    if args.check:
        print(f"{GROUP}: {passed} passed, {failed} failed")
        return 0 if failed == 0 and passed > 0 else 1
    if not chosen:
        print(f"{GROUP}: no benchmark matches '{args.benchmark_filter}'")
    if args.benchmark_out:
        with open(args.benchmark_out, "w", encoding="utf-8") as f:
            json.dump({"context": context, "benchmarks": benchmarks}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

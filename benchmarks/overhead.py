"""Where microgradx's time goes beyond the NumPy floor: the two measurements behind docs/benchmarks.md.

    python benchmarks/overhead.py

1. Fixed overhead per training step: the W1 step (MLP, sigmoid, softmax
   cross-entropy, SGD) at 4-4-2 with a batch of 2, where NumPy's arithmetic
   costs almost nothing, so the difference to the floor is the engine's
   Python work per step.
2. Python's cyclic garbage collector on deep graphs: a chain of multiplications
   built and backpropagated with the collector on and off. Each recorded op
   is a GC-tracked Function and Tensor; the collector re-walks the live graph
   while the forward pass builds it (backward already pauses it).
"""

from __future__ import annotations

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import gc  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

import microgradx as mgx  # noqa: E402


def best_of(run, reps: int, n: int) -> float:
    run()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(n):
            run()
        times.append((time.perf_counter() - start) / n)
    return min(times)


def fixed_overhead() -> None:
    print("1. fixed overhead of one training step (MLP 4-4-2, batch 2: arithmetic ~free)")
    makers = bench.contenders(bench.floor_mlp, bench.mgx_mlp, bench.torch_mlp)
    times = {
        name: best_of(make(*bench.mlp_problem([4, 4, 2], 2, np.float64)), 7, 2000)
        for name, make in makers.items()
    }
    for name, t in times.items():
        print(
            f"   {name:<11} {t * 1e6:7.1f} us/step   (+{(t - times['numpy']) * 1e6:6.1f} us over the floor)"
        )


def chain(depth: int) -> tuple[float, float]:
    x = mgx.tensor(1.0, requires_grad=True)
    y = x
    start = time.perf_counter()
    for _ in range(depth):
        y = y * 0.9
    mid = time.perf_counter()
    y.backward()
    end = time.perf_counter()
    return (mid - start) / depth * 1e6, (end - mid) / depth * 1e6


def gc_effect() -> None:
    print("2. a chain of multiplications: forward and backward, us per node (best of 3)")
    for depth in (10**4, 10**5):
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            try:
                runs = [chain(depth) for _ in range(3)]
            finally:
                gc.enable()
            fwd, bwd = min(r[0] for r in runs), min(r[1] for r in runs)
            state = "on " if enabled else "off"
            print(f"   depth {depth:>7,}  collector {state}  forward {fwd:5.2f}  backward {bwd:5.2f}")


if __name__ == "__main__":
    fixed_overhead()
    gc_effect()

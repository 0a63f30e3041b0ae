"""microgradx against the hand-written NumPy floor (and PyTorch CPU when installed).

    python benchmarks/bench.py [--quick] [--markdown FILE] [--only W1,W2,W3,W4]

The floor is the same computation written by hand in NumPy with analytic
backpropagation (the book's TwoLayerNet style): every microsecond above it is
engine overhead. Contenders run interleaved (A B C A B C ...) so machine noise
hits them alike, and BLAS runs on one thread for everyone, so ratios measure
the engine rather than thread contention. Before timing, each contender's loss
and gradients are compared with the floor's (max abs difference printed): a
benchmark of a wrong computation is worthless.

Workloads
  W1  MLP training step (forward, backward, SGD): 784-100-10 sigmoid, batch 100,
      float64 and float32; 784-1000-1000-10, batch 256
  W2  a chain of 1,000 elementwise ops (add, mul, sigmoid, tanh) on shape (10,):
      microseconds per op, forward + backward
  W3  a chain of 10^4 / 10^5 / 10^6 ops on a scalar: microseconds per node and
      peak memory (tracemalloc, in a separate untimed run)
  W4  traced memory across 2,000 MLP training steps: growth after warm-up
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy loads its BLAS

import argparse  # noqa: E402
import gc  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

import microgradx as mgx  # noqa: E402
import microgradx.functional as F  # noqa: E402
from microgradx import nn, optim  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # PyTorch is an optional contender
    torch = None


# --------------------------------------------------------------------------- #
# W1: an MLP training step
# --------------------------------------------------------------------------- #
def mlp_problem(sizes, batch, dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        params.append(rng.normal(0, np.sqrt(1 / n_in), (n_in, n_out)).astype(dtype))
        params.append(np.zeros(n_out, dtype=dtype))
    x = rng.random((batch, sizes[0])).astype(dtype)
    t = rng.integers(0, sizes[-1], batch)
    return params, x, t


def floor_mlp(params, x, t, lr=0.1):
    """Hand-written forward, analytic backward and SGD (sigmoid hidden layers, softmax CE)."""
    Ws, bs = params[0::2], params[1::2]

    def step():
        hs = [x]
        h = x
        for W, b in zip(Ws[:-1], bs[:-1], strict=True):
            h = 1 / (1 + np.exp(-(h @ W + b)))
            hs.append(h)
        a = h @ Ws[-1] + bs[-1]
        a = a - a.max(axis=1, keepdims=True)
        e = np.exp(a)
        p = e / e.sum(axis=1, keepdims=True)
        n = len(t)
        loss = -np.log(p[np.arange(n), t]).mean()
        d = p
        d[np.arange(n), t] -= 1
        d /= n
        grads = []
        for i in range(len(Ws) - 1, -1, -1):
            grads.append((hs[i].T @ d, d.sum(axis=0)))
            if i:
                d = (d @ Ws[i].T) * hs[i] * (1 - hs[i])
        grads.reverse()
        for (gW, gb), W, b in zip(grads, Ws, bs, strict=True):
            W -= lr * gW
            b -= lr * gb
        return loss, [g for pair in grads for g in pair]

    return step


def mgx_mlp(params, x, t, lr=0.1):
    sizes = [params[0].shape[0]] + [W.shape[1] for W in params[0::2]]
    model = nn.MLP(sizes, activation="sigmoid", dtype=params[0].dtype)
    model.load_state_dict({name: p for (name, _), p in zip(model.named_parameters(), params, strict=True)})
    opt = optim.SGD(model.parameters(), lr=lr)
    xt = mgx.tensor(x)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), t)
        loss.backward()
        grads = [p.grad.data.copy() for p in model.parameters()] if verifying[0] else None
        opt.step()
        return loss.item(), grads

    return step


def torch_mlp(params, x, t, lr=0.1):
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    opt = torch.optim.SGD(ps, lr=lr)
    xt, tt = torch.tensor(x), torch.tensor(t)

    def step():
        opt.zero_grad()
        h = xt
        for i in range(0, len(ps) - 2, 2):
            h = torch.sigmoid(h @ ps[i] + ps[i + 1])
        loss = torch.nn.functional.cross_entropy(h @ ps[-2] + ps[-1], tt)
        loss.backward()
        grads = [p.grad.numpy().copy() for p in ps] if verifying[0] else None
        opt.step()
        return loss.item(), grads

    return step


# --------------------------------------------------------------------------- #
# W2 / W3: chains of elementwise ops
# --------------------------------------------------------------------------- #
def floor_chain(x0, n_ops, kinds):
    """Forward storing what backward needs, then the derivatives by hand, op by op."""

    def run():
        saved = []
        y = x0.copy()
        for i in range(n_ops):
            k = kinds[i % len(kinds)]
            if k == "add":
                y = y + 0.5
                saved.append(None)
            elif k == "mul":
                y = y * 0.9
                saved.append(None)
            elif k == "sigmoid":
                y = 1 / (1 + np.exp(-y))
                saved.append(y)
            else:
                y = np.tanh(y)
                saved.append(y)
        g = np.ones_like(y)
        for i in range(n_ops - 1, -1, -1):
            k = kinds[i % len(kinds)]
            if k == "mul":
                g = g * 0.9
            elif k == "sigmoid":
                s = saved[i]
                g = g * s * (1 - s)
            elif k == "tanh":
                s = saved[i]
                g = g * (1 - s * s)
        return float(y.sum()), [g]

    return run


def _chain(x0, n_ops, kinds, leaf, sigmoid, tanh, grad_of):
    """The chain program, written once for a library: its leaf constructor, ops and grad reader."""
    ops = {"add": lambda y: y + 0.5, "mul": lambda y: y * 0.9, "sigmoid": sigmoid, "tanh": tanh}
    seq = [ops[kinds[i % len(kinds)]] for i in range(n_ops)]

    def run():
        x = leaf(x0)
        y = x
        for op in seq:
            y = op(y)
        out = y.sum()
        out.backward()
        return out.item(), [grad_of(x)]

    return run


def mgx_chain(x0, n_ops, kinds):
    leaf = lambda a: mgx.tensor(a, requires_grad=True)  # noqa: E731
    return _chain(x0, n_ops, kinds, leaf, F.sigmoid, F.tanh, lambda x: x.grad.data)


def torch_chain(x0, n_ops, kinds):
    leaf = lambda a: torch.tensor(a, requires_grad=True)  # noqa: E731
    return _chain(x0, n_ops, kinds, leaf, torch.sigmoid, torch.tanh, lambda x: x.grad.numpy())


# --------------------------------------------------------------------------- #
# measuring
# --------------------------------------------------------------------------- #
verifying = [False]


def verify(makers: dict[str, Callable[[], Callable]], label: str) -> None:
    """Run each contender once on fresh state; print its max abs difference to the floor."""
    verifying[0] = True
    try:
        results = {name: make()() for name, make in makers.items()}
    finally:
        verifying[0] = False
    ref_loss, ref_grads = results["numpy"]
    for name, (loss, grads) in results.items():
        if name == "numpy":
            continue
        diff = max(
            [abs(loss - ref_loss)]
            + [float(np.abs(np.asarray(g) - r).max()) for g, r in zip(grads, ref_grads, strict=True)]
        )
        print(f"  verify {label:<28} {name:<11} max |diff| to the floor = {diff:.1e}")
        tol = 1e-3 if "float32" in label else 1e-9
        if not diff <= tol:
            raise SystemExit(f"{name} computes something else than the floor on {label}: {diff}")


def interleaved(runs: dict[str, Callable], repeats: int) -> dict[str, float]:
    """Median seconds per call of each contender, timed A B C A B C ..."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm up
    for _ in range(repeats):
        for name, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def contenders(floor, ours, theirs):
    makers = {"numpy": floor, "microgradx": ours}
    if torch is not None:
        makers["torch"] = theirs
    return makers


def peak_memory(run: Callable) -> float:
    """Peak traced memory of one call, in MiB."""
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


ROWS: list[tuple[str, str, str, str, str]] = []


def row(workload: str, unit: str, medians: dict[str, float], scale: float, extra: str = "") -> None:
    base = medians["numpy"]
    for name, value in medians.items():
        ratio = "1.00 (floor)" if name == "numpy" else f"{value / base:.2f}"
        ROWS.append(
            (workload, name, f"{value * scale:.2f} {unit}", ratio, extra if name == "microgradx" else "")
        )
        print(f"  {workload:<34} {name:<11} {value * scale:>10.2f} {unit:<8} x{ratio}")


def w1(quick: bool) -> None:
    print("W1: MLP training step")
    cases = [
        ("784-100-10 b100 float64", [784, 100, 10], 100, np.float64),
        ("784-100-10 b100 float32", [784, 100, 10], 100, np.float32),
        ("784-1000-1000-10 b256 float64", [784, 1000, 1000, 10], 256, np.float64),
    ]
    for label, sizes, batch, dtype in cases:

        def mk(f, sizes=sizes, batch=batch, dtype=dtype):
            return lambda: f(*mlp_problem(sizes, batch, dtype))

        makers = contenders(mk(floor_mlp), mk(mgx_mlp), mk(torch_mlp))
        verify(makers, label)
        runs = {name: make() for name, make in makers.items()}
        repeats = (5 if quick else 15) if sizes[1] > 100 else (20 if quick else 60)
        row(f"W1 {label}", "ms/step", interleaved(runs, repeats), 1e3)


def w2(quick: bool) -> None:
    print("W2: 1,000 elementwise ops on shape (10,)")
    kinds = ["add", "mul", "sigmoid", "tanh"]
    x0 = np.linspace(-1, 1, 10)
    makers = contenders(*(lambda f=f: f(x0, 1000, kinds) for f in (floor_chain, mgx_chain, torch_chain)))
    verify(makers, "chain of 1000 ops")
    runs = {name: make() for name, make in makers.items()}
    row("W2 1000 elementwise ops, shape (10,)", "us/op", interleaved(runs, 10 if quick else 30), 1e6 / 1000)


def w3(quick: bool) -> None:
    print("W3: deep chains on a scalar")
    kinds = ["mul"]
    for depth in (10**4, 10**5) if quick else (10**4, 10**5, 10**6):
        x0 = np.array(1.0)
        makers = contenders(
            *(
                lambda f=f, x0=x0, depth=depth: f(x0, depth, kinds)
                for f in (floor_chain, mgx_chain, torch_chain)
            )
        )
        if depth == 10**4:
            verify(makers, f"chain of {depth} ops")
        runs = {name: make() for name, make in makers.items()}
        medians = interleaved(runs, 3 if depth >= 10**6 else (5 if quick else 9))
        peak = peak_memory(runs["microgradx"]) if depth <= 10**5 or not quick else float("nan")
        row(f"W3 depth {depth:,}", "us/node", medians, 1e6 / depth, f"peak {peak:.0f} MiB traced")


def w4(quick: bool) -> None:
    print("W4: traced memory across 2,000 training steps (784-100-10, batch 100)")
    step = mgx_mlp(*mlp_problem([784, 100, 10], 100, np.float64))
    n = 500 if quick else 2000
    tracemalloc.start()
    samples = []
    try:
        for i in range(1, n + 1):
            step()
            if i % 100 == 0:
                samples.append((i, tracemalloc.get_traced_memory()[0] / 2**20))
    finally:
        tracemalloc.stop()
    warm = samples[0][1]
    growth = max(m for _, m in samples) - warm
    print("  " + ", ".join(f"step {i}: {m:.2f} MiB" for i, m in samples[:: max(1, len(samples) // 5)]))
    print(f"  growth after step 100: {growth:+.3f} MiB over {n - 100} steps")
    ROWS.append(
        (f"W4 {n} training steps", "microgradx", f"{growth:+.3f} MiB", "-", f"at step 100: {warm:.2f} MiB")
    )


def markdown(command: str) -> str:
    lines = [
        "| workload | contender | median | ratio to the floor | note |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {w} | {c} | {m} | {r} | {e} |" for w, c, m, r, e in ROWS]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"NumPy {np.__version__}"
    )
    if torch is not None:
        machine += f", PyTorch {torch.__version__}"
    return "\n".join(
        [f"Command: `{command}`", "", f"Machine: {machine}; BLAS pinned to one thread.", ""] + lines
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no 10^6 chain")
    parser.add_argument("--only", default="W1,W2,W3,W4")
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    print(f"contenders: numpy (floor), microgradx{', torch' if torch is not None else ''}; BLAS threads: 1")
    for name, fn in (("W1", w1), ("W2", w2), ("W3", w3), ("W4", w4)):
        if name in args.only.split(","):
            fn(args.quick)
    table = markdown("python " + " ".join(sys.argv))
    print("\n" + table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()

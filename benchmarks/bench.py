"""microgradx against the hand-written NumPy floor (and PyTorch CPU when installed).

    python benchmarks/bench.py [--quick] [--markdown FILE] [--only W1,W2,W3,W4,W5,W6]

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
  W5  the book's SimpleConvNet training step (conv 30 filters of 5x5 - relu - pool 2x2 - affine 100 -
      relu - affine 10, softmax cross-entropy, SGD), batch 100 of 1x28x28, float64; the floor is
      the book's own NumPy layers (im2col, Convolution, Pooling, ...: benchmarks/book_layers.py)
  W6  784-100-100-10 MLP step with batch norm and dropout (Affine - BatchNorm - ReLU - Dropout per
      hidden layer, the book's MultiLayerNetExtend), batch 100, float64; the floor is the book's
      BatchNormalization and Dropout layers, every contender using the same dropout masks
  In W5 and W6 the floor's first layer skips the gradient of the input, which nothing reads;
  "book as is" is the book's network as written, which computes it.
  In W1-W3, "mgx.compile" is the same program through mgx.compile (traced at its warm-up call,
  replayed when timed); "mgx.compile first call" is the trace: its time over an eager step (W1),
  or per node (W3).
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import book_layers as book  # noqa: E402  (the book's NumPy layers: the floor of W5 and W6)

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


def mgx_mlp_compiled(params, x, t, lr=0.1):
    """The same step as mgx_mlp, through mgx.compile (traced at the warm-up call, replayed after)."""
    sizes = [params[0].shape[0]] + [W.shape[1] for W in params[0::2]]
    model = nn.MLP(sizes, activation="sigmoid", dtype=params[0].dtype)
    model.load_state_dict({name: p for (name, _), p in zip(model.named_parameters(), params, strict=True)})
    opt = optim.SGD(model.parameters(), lr=lr)
    xt = mgx.tensor(x)

    @mgx.compile
    def train(xt):
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), t)
        loss.backward()
        opt.step()
        return loss

    def step():
        loss = train(xt)
        grads = [p.grad.data.copy() for p in model.parameters()] if verifying[0] else None
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


def _chain(x0, n_ops, kinds, leaf, sigmoid, tanh, grad_of, wrap=None):
    """The chain program, written once for a library: its leaf constructor, ops and grad reader."""
    ops = {"add": lambda y: y + 0.5, "mul": lambda y: y * 0.9, "sigmoid": sigmoid, "tanh": tanh}
    seq = [ops[kinds[i % len(kinds)]] for i in range(n_ops)]

    def program(x):
        y = x
        for op in seq:
            y = op(y)
        out = y.sum()
        out.backward()
        return out

    if wrap is not None:
        program = wrap(program)

    def run():
        x = leaf(x0)
        out = program(x)
        return out.item(), [grad_of(x)]

    run.program = program
    return run


def mgx_chain(x0, n_ops, kinds):
    leaf = lambda a: mgx.tensor(a, requires_grad=True)  # noqa: E731
    return _chain(x0, n_ops, kinds, leaf, F.sigmoid, F.tanh, lambda x: x.grad.data)


def mgx_chain_compiled(x0, n_ops, kinds):
    leaf = lambda a: mgx.tensor(a, requires_grad=True)  # noqa: E731
    return _chain(x0, n_ops, kinds, leaf, F.sigmoid, F.tanh, lambda x: x.grad.data, mgx.compile)


def torch_chain(x0, n_ops, kinds):
    leaf = lambda a: torch.tensor(a, requires_grad=True)  # noqa: E731
    return _chain(x0, n_ops, kinds, leaf, torch.sigmoid, torch.tanh, lambda x: x.grad.numpy())


# --------------------------------------------------------------------------- #
# W5: the book's SimpleConvNet training step
# --------------------------------------------------------------------------- #
def convnet_problem(batch=100, side=28, filters=30, kernel=5, hidden=100, classes=10, seed=0):
    """Weights (He's scale), images in [0, 1) and labels for SimpleConvNet: conv W, b, W1, b1, W2, b2."""
    rng = np.random.default_rng(seed)
    pooled = filters * ((side - kernel + 1) // 2) ** 2
    params = [
        rng.normal(0, np.sqrt(2 / kernel**2), (filters, 1, kernel, kernel)),
        rng.normal(0, 0.1, filters),
        rng.normal(0, np.sqrt(2 / pooled), (pooled, hidden)),
        rng.normal(0, 0.1, hidden),
        rng.normal(0, np.sqrt(2 / hidden), (hidden, classes)),
        rng.normal(0, 0.1, classes),
    ]
    return params, rng.random((batch, 1, side, side)), rng.integers(0, classes, batch)


def floor_convnet(params, x, t, lr=0.1, first=book.FirstConvolution):
    """The book's SimpleConvNet.gradient (its own layers, forward then backward) and an SGD update.
    ``first=book.Convolution`` also computes the gradient of the images, as the book's network does."""
    W, b, W1, b1, W2, b2 = params
    layers = [
        first(W, b),
        book.Relu(),
        book.Pooling(2, 2, stride=2),
        book.Affine(W1, b1),
        book.Relu(),
        book.Affine(W2, b2),
    ]
    last = book.SoftmaxWithLoss()

    def step():
        h = x
        for layer in layers:
            h = layer.forward(h)
        loss = last.forward(h, t)
        d = last.backward(1)
        for layer in reversed(layers):
            d = layer.backward(d)  # the first layer's returns None (FirstConvolution)
        grads = [g for i in (0, 3, 5) for g in (layers[i].dW, layers[i].db)]
        for p, g in zip(params, grads, strict=True):
            p -= lr * g
        return loss, grads

    return step


def _mgx_step(model, x, t, lr):
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


def _load(model, params):
    """The given arrays as the model's parameters, in order (buffers as they are)."""
    state = model.state_dict()
    state.update({name: p for (name, _), p in zip(model.named_parameters(), params, strict=True)})
    model.load_state_dict(state)
    return model


def mgx_convnet(params, x, t, lr=0.1):
    filters, _, kernel, _ = params[0].shape
    model = nn.Sequential(
        nn.Conv2d(1, filters, kernel),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(*params[2].shape),
        nn.ReLU(),
        nn.Linear(*params[4].shape),
    )
    return _mgx_step(_load(model, params), x, t, lr)


def _torch_step(ps, forward, lr):
    opt = torch.optim.SGD(ps, lr=lr)

    def step():
        opt.zero_grad()
        loss = forward()
        loss.backward()
        grads = [p.grad.numpy().copy() for p in ps] if verifying[0] else None
        opt.step()
        return loss.item(), grads

    return step


def torch_convnet(params, x, t, lr=0.1):
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    xt, tt = torch.tensor(x), torch.tensor(t)
    tF = torch.nn.functional

    def forward():
        h = tF.max_pool2d(torch.relu(tF.conv2d(xt, ps[0], ps[1])), 2)
        h = torch.relu(h.reshape(len(h), -1) @ ps[2] + ps[3])
        return tF.cross_entropy(h @ ps[4] + ps[5], tt)

    return _torch_step(ps, forward, lr)


# --------------------------------------------------------------------------- #
# W6: an MLP with batch norm and dropout
# --------------------------------------------------------------------------- #
def bn_mlp_problem(sizes=(784, 100, 100, 10), batch=100, seed=0):
    """Per hidden layer W, b, gamma, beta; then the last W, b. Scale and shift drawn near 1 and 0
    (not exactly: a wrong gradient with respect to either must show)."""
    rng = np.random.default_rng(seed)
    params = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        params += [rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out)), rng.normal(0, 0.1, n_out)]
        if i < len(sizes) - 2:
            params += [rng.uniform(0.5, 1.5, n_out), rng.normal(0, 0.1, n_out)]
    return params, rng.random((batch, sizes[0])), rng.integers(0, sizes[-1], batch)


DROPOUT, DROPOUT_SEED = 0.5, 1234


def floor_bn_mlp(params, x, t, lr=0.1, p=DROPOUT, first=book.FirstAffine):
    """The book's MultiLayerNetExtend (Affine - BatchNormalization - Relu - Dropout per hidden layer,
    Affine, SoftmaxWithLoss): forward, backward and an SGD update; the parameters' gradients in order.
    ``first=book.Affine`` also computes the gradient of the input, as the book's network does."""
    rng = np.random.default_rng(DROPOUT_SEED)
    layers, owners = [], []  # owners: (layer, "W"/"gamma") in the order of params
    i = 0
    while i < len(params) - 2:
        W, b, gamma, beta = params[i : i + 4]
        affine, norm = (first if i == 0 else book.Affine)(W, b), book.BatchNormalization(gamma, beta)
        layers += [affine, norm, book.Relu(), book.Dropout(p, rng)]
        owners += [affine, norm]
        i += 4
    layers.append(book.Affine(params[-2], params[-1]))
    owners.append(layers[-1])
    last = book.SoftmaxWithLoss()

    def step():
        h = x
        for layer in layers:
            h = layer.forward(h)
        loss = last.forward(h, t)
        d = last.backward(1)
        for layer in reversed(layers):
            d = layer.backward(d)
        grads = []
        for layer in owners:
            grads += [layer.dW, layer.db] if isinstance(layer, book.Affine) else [layer.dgamma, layer.dbeta]
        for q, g in zip(params, grads, strict=True):
            q -= lr * g
        return loss, grads

    return step


def mgx_bn_mlp(params, x, t, lr=0.1, p=DROPOUT):
    layers = []
    i = 0
    while i < len(params) - 2:
        n_in, n_out = params[i].shape
        layers += [nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out), nn.ReLU(), nn.Dropout(p)]
        i += 4
    layers.append(nn.Linear(*params[-2].shape))
    model = _load(nn.Sequential(*layers), params)
    mgx.manual_seed(DROPOUT_SEED)  # the masks: the generator F.dropout draws from, seeded as the floor's
    return _mgx_step(model, x, t, lr)


def torch_bn_mlp(params, x, t, lr=0.1, p=DROPOUT):
    """PyTorch's batch_norm (training, running statistics updated); the dropout masks drawn by NumPy
    as the floor draws them, so that the check compares the same computation."""
    rng = np.random.default_rng(DROPOUT_SEED)
    ps = [torch.tensor(q, requires_grad=True) for q in params]
    widths = [len(params[i + 1]) for i in range(0, len(params) - 2, 4)]
    stats = [(torch.zeros(n, dtype=torch.float64), torch.ones(n, dtype=torch.float64)) for n in widths]
    xt, tt = torch.tensor(x), torch.tensor(t)
    tF = torch.nn.functional

    def forward():
        h = xt
        for k, i in enumerate(range(0, len(ps) - 2, 4)):
            h = h @ ps[i] + ps[i + 1]
            h = tF.batch_norm(h, *stats[k], ps[i + 2], ps[i + 3], training=True, momentum=0.1, eps=1e-5)
            mask = (rng.random(tuple(h.shape)) >= p) / (1.0 - p)
            h = torch.relu(h) * torch.from_numpy(mask)
        return tF.cross_entropy(h @ ps[-2] + ps[-1], tt)

    return _torch_step(ps, forward, lr)


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


def contenders(floor, ours, theirs, compiled=None):
    makers = {"numpy": floor, "microgradx": ours}
    if compiled is not None:
        makers["mgx.compile"] = compiled
    if torch is not None:
        makers["torch"] = theirs
    return makers


def first_call_cost(make_eager: Callable, make_compiled: Callable, repeats: int) -> float:
    """Median time of a fresh compiled function's first call (the trace) over an eager call's."""
    ratios = []
    for _ in range(repeats):
        eager, compiled = make_eager(), make_compiled()
        eager()  # (warm: the eager contender's first call is not what is compared)
        gc.collect()
        start = time.perf_counter()
        eager()
        mid = time.perf_counter()
        compiled()
        ratios.append((time.perf_counter() - mid) / (mid - start))
    return statistics.median(ratios)


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

        makers = contenders(mk(floor_mlp), mk(mgx_mlp), mk(torch_mlp), mk(mgx_mlp_compiled))
        verify(makers, label)
        runs = {name: make() for name, make in makers.items()}
        repeats = (5 if quick else 15) if sizes[1] > 100 else (20 if quick else 60)
        row(f"W1 {label}", "ms/step", interleaved(runs, repeats), 1e3)
        cost = first_call_cost(mk(mgx_mlp), mk(mgx_mlp_compiled), 3 if quick else 9)
        print(f"  {'first call of mgx.compile (the trace)':<46} x{cost:.2f} an eager step")
        ROWS.append((f"W1 {label}", "mgx.compile first call", "-", "-", f"{cost:.2f}x an eager step"))


def w2(quick: bool) -> None:
    print("W2: 1,000 elementwise ops on shape (10,)")
    kinds = ["add", "mul", "sigmoid", "tanh"]
    x0 = np.linspace(-1, 1, 10)
    makers = contenders(
        *(lambda f=f: f(x0, 1000, kinds) for f in (floor_chain, mgx_chain, torch_chain, mgx_chain_compiled))
    )
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
                for f in (floor_chain, mgx_chain, torch_chain, mgx_chain_compiled)
            )
        )
        if depth == 10**4:
            verify(makers, f"chain of {depth} ops")
        runs = {name: make() for name, make in makers.items()}
        start = time.perf_counter()
        runs["mgx.compile"]()  # the trace (interleaved's warm-up call then replays)
        trace = (time.perf_counter() - start) / depth * 1e6
        medians = interleaved(runs, 3 if depth >= 10**6 else (5 if quick else 9))
        peak = peak_memory(runs["microgradx"]) if depth <= 10**5 or not quick else float("nan")
        row(f"W3 depth {depth:,}", "us/node", medians, 1e6 / depth, f"peak {peak:.0f} MiB traced")
        print(f"  {'first call of mgx.compile (the trace)':<46} {trace:.1f} us/node")
        first = (f"W3 depth {depth:,}", "mgx.compile first call", f"{trace:.1f} us/node", "-", "the trace")
        ROWS.append(first)


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


def w5(quick: bool) -> None:
    print("W5: the book's SimpleConvNet training step (batch 100, 1x28x28, 30 filters of 5x5)")

    def mk(f):
        return lambda: f(*convnet_problem())

    makers = contenders(mk(floor_convnet), mk(mgx_convnet), mk(torch_convnet))

    def book_as_is():
        params, x, t = convnet_problem()
        return floor_convnet(params, x, t, first=book.Convolution)

    makers["book as is"] = book_as_is
    verify(makers, "SimpleConvNet b100")
    runs = {name: make() for name, make in makers.items()}
    row("W5 SimpleConvNet b100 1x28x28", "ms/step", interleaved(runs, 7 if quick else 25), 1e3)


def w6(quick: bool) -> None:
    print("W6: 784-100-100-10 MLP step with batch norm and dropout (batch 100)")

    def mk(f):
        return lambda: f(*bn_mlp_problem())

    makers = contenders(mk(floor_bn_mlp), mk(mgx_bn_mlp), mk(torch_bn_mlp))

    def book_as_is():
        params, x, t = bn_mlp_problem()
        return floor_bn_mlp(params, x, t, first=book.Affine)

    makers["book as is"] = book_as_is
    verify(makers, "BN + dropout MLP b100")
    runs = {name: make() for name, make in makers.items()}
    row("W6 784-100-100-10 BN+dropout b100", "ms/step", interleaved(runs, 20 if quick else 60), 1e3)


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
    parser.add_argument("--only", default="W1,W2,W3,W4,W5,W6")
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    print(
        "contenders: numpy (floor), microgradx, mgx.compile (W1-W3)"
        f"{', torch' if torch is not None else ''}; BLAS threads: 1"
    )
    for name, fn in (("W1", w1), ("W2", w2), ("W3", w3), ("W4", w4), ("W5", w5), ("W6", w6)):
        if name in args.only.split(","):
            fn(args.quick)
    table = markdown("python " + " ".join(sys.argv))
    print("\n" + table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()

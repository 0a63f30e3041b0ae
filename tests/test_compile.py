"""mgx.compile: a replayed plan gives the eager results bit for bit (differential tests).

Each test runs the same step twice: eagerly, and through ``mgx.compile`` (a trace,
then replays), from equal starting states; outputs, ``.grad``s and parameters must
be equal bit for bit in float64 (``assert_array_equal``: the plan calls the same
NumPy code in the same order, so no tolerance is needed or allowed).
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import runpy
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import microgradx as mgx
import microgradx.functional as F
from microgradx import nn, optim
from microgradx.compile import TraceError
from tests.op_table import TABLE
from tests.user_programs import MGX, _Interpreter, user_programs


def same(a, b, what=""):
    """Bit-for-bit equality of two arrays: values, shape, dtype, and the bytes themselves (so -0.0
    is not 0.0 and NaN payloads match)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, f"{what}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
    np.testing.assert_array_equal(a, b, err_msg=what, strict=True)
    if a.dtype == np.longdouble and a.dtype != np.float64:
        # (x86's 80-bit long double sits in 16 bytes, 6 of them padding that nothing writes: its
        # bytes differ between two equal arrays; the values and signs are compared instead)
        assert (np.signbit(a) == np.signbit(b)).all(), f"{what}: a -0.0 where the other has 0.0"
        return
    assert a.tobytes() == b.tobytes(), f"{what}: equal values but different bits (a -0.0 or a NaN payload)"


def _permuted(arrays, rng):
    """Other values of the same shapes, in the op's domain: each float array's elements shuffled."""
    out = []
    for a in arrays:
        if a.dtype.kind == "f" and a.size > 1:
            a = rng.permutation(a.ravel()).reshape(a.shape)
        out.append(a)
    return out


def _op_step(fn):
    """One step of an op: weighted loss, backward; returns the output, the loss and the grads."""

    def step(weights, *ts):
        for t in ts:
            t.grad = None
        out = fn(*ts)
        loss = (out * weights).sum() if out.dtype.kind == "f" else out.sum()
        if loss.requires_grad:
            loss.backward()
        return out, loss, [t.grad for t in ts]

    return step


def _tensors(arrays):
    return [mgx.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]


def _run_eager(step, weights, arrays):
    ts = _tensors(arrays)
    mgx.manual_seed(7)  # (dropout draws: the compiled calls reseed the same way)
    out, loss, grads = step(weights, *ts)
    return out.data.copy(), loss.data.copy(), [None if g is None else g.data.copy() for g in grads]


def _check(result, expected, name):
    out, loss, grads = result
    eout, eloss, egrads = expected
    same(out.data, eout, f"{name}: output")
    same(loss.data, eloss, f"{name}: loss")
    for i, (g, e) in enumerate(zip(grads, egrads, strict=True)):
        assert (g is None) == (e is None), f"{name}: grad {i} is {g} eagerly {e}"
        if g is not None:
            same(g.data, e, f"{name}: grad of input {i}")


@pytest.mark.parametrize("name", sorted(TABLE))
@settings(max_examples=6, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_every_op_compiled_equals_eager(name, data):
    """Every op of the op table: trace with shuffled inputs, then replay on the drawn ones (and on
    the shuffled ones again); each replay equals an eager run on the same inputs, bit for bit."""
    ex = data.draw(TABLE[name])
    arrays = [np.asarray(a) for a in ex.arrays]
    step = _op_step(ex.fn)
    try:
        probe = ex.fn(*_tensors(arrays))
    except Exception:  # the drawn case raises eagerly: nothing to replay
        return
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    weights = rng.uniform(-1, 1, probe.shape).astype(probe.dtype) if probe.dtype.kind == "f" else None
    other = _permuted(arrays, rng)
    try:
        expected_other = _run_eager(step, weights, other)
    except Exception:  # shuffling left the domain (a row of probabilities, say): trace on the drawn ones
        other, expected_other = arrays, None
    expected = _run_eager(step, weights, arrays)
    compiled = mgx.compile(step)

    def call(arrays):
        ts = _tensors(arrays)
        mgx.manual_seed(7)
        return compiled(weights, *ts)

    call(other)  # the trace (an eager run)
    assert compiled.traces == 1
    _check(call(arrays), expected, name)
    if expected_other is not None:
        _check(call(other), expected_other, name)
    assert compiled.traces == 1, "a call with the same signature traced again"


# --------------------------------------------------------------------------- #
# random user programs (tests/user_programs.py): in-place steps, views, reuse
# --------------------------------------------------------------------------- #
def _program_body(program):
    """The program, its loss and backward as a function returning tensors (UserProgram.run's steps)."""
    tree = ast.parse(program.source)

    def body():
        run = _Interpreter(MGX)
        for stmt in tree.body:
            run.statement(stmt)
        named = [(k, v) for k, v in run.env.items() if isinstance(v, mgx.Tensor)]
        loss = None
        for i, (_, v) in enumerate(named):
            w = np.random.default_rng([program.seed, i]).uniform(-1, 1, tuple(v.shape))
            term = (v * mgx.tensor(w)).sum()
            loss = term if loss is None else loss + term
        values = {k: v for k, v in named}
        loss.backward()
        grads = {n: run.env[n].grad for n in run.leaves + run.retained}
        return loss, values, grads

    return body


def _snap(result):
    loss, values, grads = result
    return (
        loss.data.copy(),
        {k: v.data.copy() for k, v in values.items()},
        {k: None if g is None else g.data.copy() for k, g in grads.items()},
    )


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(program=user_programs(max_steps=8))
def test_user_programs_compiled_equal_eager(program):
    """Random programs (in-place updates, views, no_grad, retain_grad, user ops): two replays equal
    the eager run bit for bit (the second proves a replay leaves no state behind), or the trace
    refuses clearly (nested mgx.grad)."""
    body = _program_body(program)
    mgx.manual_seed(program.seed)
    try:
        expected = _snap(body())
    except Exception:
        return  # raises eagerly: covered by test_user_programs.py
    compiled = mgx.compile(body)
    mgx.manual_seed(program.seed)
    try:
        first = _snap(compiled())
    except TraceError as e:
        assert "mgx.grad" in str(e) or "create_graph" in str(e), str(e)
        return
    for result in (first, _snap(compiled()), _snap(compiled())):
        loss, values, grads = result
        same(loss, expected[0], "loss")
        assert values.keys() == expected[1].keys()
        for k in values:
            same(values[k], expected[1][k], f"value {k}")
        for k in grads:
            assert (grads[k] is None) == (expected[2][k] is None), k
            if grads[k] is not None:
                same(grads[k], expected[2][k], f"grad {k}")


# --------------------------------------------------------------------------- #
# training steps: modules, every optimizer, several steps
# --------------------------------------------------------------------------- #
OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1),
    "SGD-momentum-nesterov-wd": lambda ps: optim.SGD(
        ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01
    ),
    "AdaGrad": lambda ps: optim.AdaGrad(ps, lr=0.1),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.01),
    "Adam": lambda ps: optim.Adam(ps, lr=0.01),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.01),
}


def _train(make_opt, dtype, compiled, steps=4, dropout=False):
    mgx.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
    for p in model.parameters():
        p.data = p.data.astype(dtype)
    opt = make_opt(model.parameters())
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    def step(x, y):
        opt.zero_grad()
        h = model(x)
        if dropout:
            h = F.dropout(h, 0.5)
        loss = F.cross_entropy(h, y)
        loss.backward()
        opt.step()
        sched.step()
        return loss

    run = mgx.compile(step) if compiled else step
    rng = np.random.default_rng(1)
    losses = []
    for _ in range(steps):
        x = mgx.tensor(rng.standard_normal((4, 6)).astype(dtype))
        y = rng.integers(0, 3, 4)
        losses.append(run(x, y).data.copy())
    return (
        losses,
        [p.data.copy() for p in model.parameters()],
        [p.grad.data.copy() for p in model.parameters()],
        opt.lr,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_training_steps_compiled_equal_eager(name, dtype):
    """An MLP trained 4 steps (zero_grad, forward, backward, optimizer and scheduler steps inside the
    compiled function): every loss, parameter and .grad equals the eager run's, bit for bit."""
    eager = _train(OPTIMIZERS[name], dtype, compiled=False)
    comp = _train(OPTIMIZERS[name], dtype, compiled=True)
    for a, b in zip(eager[0], comp[0], strict=True):
        same(b, a, "loss")
    for a, b in zip(eager[1] + eager[2], comp[1] + comp[2], strict=True):
        same(b, a, "parameter or grad")
    assert eager[3] == comp[3]  # the scheduler stepped at each replay too
    assert len({float(v) for v in comp[0]}) == len(comp[0])  # the replays really took new steps


def test_dropout_draws_fresh_masks_on_each_replay():
    """Dropout inside the step: each replay draws a new mask from the package's generator, the
    masks eager draws (same seed); a frozen mask would repeat the first loss trajectory."""
    eager = _train(OPTIMIZERS["SGD"], np.float64, compiled=False, steps=5, dropout=True)
    comp = _train(OPTIMIZERS["SGD"], np.float64, compiled=True, steps=5, dropout=True)
    for a, b in zip(eager[0] + eager[1], comp[0] + comp[1], strict=True):
        same(b, a, "loss or parameter")


def test_rand_draws_fresh_numbers():
    w = mgx.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def step():
        w.grad = None
        loss = (w * mgx.rand(3)).sum()
        loss.backward()
        return loss

    compiled = mgx.compile(step)
    mgx.manual_seed(3)
    eager = [(step().data.copy(), w.grad.data.copy()) for _ in range(3)]
    mgx.manual_seed(3)
    comp = [(compiled().data.copy(), w.grad.data.copy()) for _ in range(3)]
    for (a, ga), (b, gb) in zip(eager, comp, strict=True):
        same(b, a)
        same(gb, ga)
    assert eager[1][0] != eager[2][0]


def test_no_grad_retain_grad_and_inplace_inside_a_step():
    """A manual SGD update under no_grad (in place), retain_grad on a hidden value, a view written in
    place: three replays equal three eager steps."""

    def make():
        w = mgx.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
        b = mgx.tensor([0.1, -0.2], requires_grad=True)

        def step(x):
            nonlocal w, b  # (w -= ... rebinds the name, to the same tensor)
            w.grad = b.grad = None
            h = x @ w + b
            h.retain_grad()
            z = h * 1.0
            z[0] = z[0] * 3.0  # in place, through a view
            z += 1.0
            loss = (z * z).sum()
            loss.backward()
            with mgx.no_grad():
                w -= 0.01 * w.grad
                b -= 0.01 * b.grad
            return loss, h.grad

        return w, b, step

    xs = [mgx.tensor(np.random.default_rng(i).standard_normal((3, 2))) for i in range(4)]
    w1, b1, eager = make()
    w2, b2, step = make()
    compiled = mgx.compile(step)
    for x in xs:
        (l1, hg1), (l2, hg2) = eager(x), compiled(x)
        same(l2.data, l1.data, "loss")
        same(hg2.data, hg1.data, "h.grad")
        same(w2.data, w1.data, "w")
        same(b2.data, b1.data, "b")
    assert compiled.traces == 1


# --------------------------------------------------------------------------- #
# what tracing refuses, signatures, the plan's source
# --------------------------------------------------------------------------- #
def test_item_inside_a_compiled_function_names_the_line():
    def step(x):
        loss = (x * 2).sum()
        if loss.item() > 0:  # a branch on a value: frozen by tracing, so refused
            return loss
        return -loss

    with pytest.raises(
        TraceError, match=r"\.item\(\) of a traced tensor, at test_compile\.py:\d+: .*loss\.item\(\)"
    ):
        mgx.compile(step)(mgx.tensor([1.0, 2.0]))
    for escape in (lambda t: bool(t.sum() > 0), lambda t: float(t.sum()), lambda t: t.numpy()):
        with pytest.raises(TraceError, match="fallback=True"):
            mgx.compile(escape)(mgx.tensor([1.0, 2.0]))


def test_fallback_runs_eagerly_with_one_warning():
    def step(x):
        loss = (x * 2).sum()
        return loss if loss.item() > 0 else -loss

    compiled = mgx.compile(step, fallback=True)
    with pytest.warns(UserWarning, match="runs eagerly"):
        assert compiled(mgx.tensor([1.0, 2.0])).item() == 6.0
    assert compiled(mgx.tensor([-1.0, -2.0])).item() == 6.0  # the other branch: really eager
    assert compiled.traces == 1


@pytest.mark.filterwarnings("ignore:mgx.compile")  # (more traces than plans: warned, tested below)
def test_new_signature_traces_again_and_the_cache_is_bounded():
    compiled = mgx.compile(lambda x, k: (x * k).sum(), cache_size=2)
    same(compiled(mgx.tensor([1.0, 2.0]), 2.0).data, np.array(6.0))
    same(compiled(mgx.tensor([1.0, 2.0]), 3.0).data, np.array(9.0))  # another value: another plan
    same(compiled(mgx.tensor([1.0, 2.0, 3.0]), 3.0).data, np.array(18.0))  # another shape
    same(compiled(mgx.tensor([1.0, 2.0], dtype=np.float32), 3.0).data, np.array(9.0, dtype=np.float32))
    assert compiled.traces == 4 and len(compiled.plans) == 2
    same(compiled(mgx.tensor([5.0, 1.0]), 3.0).data, np.array(18.0))  # evicted: traced again
    assert compiled.traces == 5


def test_more_traces_than_plans_warns_once_naming_what_changes():
    """A number argument that changes at every call (a decaying coefficient) is a new signature
    each time: past cache_size traces, one warning names it and says to pass a tensor."""
    compiled = mgx.compile(lambda x, k: (x * k).sum(), cache_size=2)
    x = mgx.tensor([1.0, 2.0])
    compiled(x, 1.0)
    compiled(x, 0.5)
    with pytest.warns(
        UserWarning, match=r"traced 3 times.*a float argument 0\.25 \(it was a float argument 0\.5\)"
    ):
        compiled(x, 0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled(x, 0.125)  # (once only)


def test_source_reads_as_the_forward_then_the_backward_pass():
    w = mgx.tensor([[1.0], [2.0]], requires_grad=True)

    def step(x):
        w.grad = None
        y = F.sigmoid(x @ w)
        loss = (y * y).sum()
        loss.backward()
        return loss

    compiled = mgx.compile(step)
    compiled(mgx.tensor([[1.0, 2.0]]))
    src = compiled.source
    assert src.startswith("def step_plan(a0):")
    lines = src.splitlines()
    first_backward = next(i for i, line in enumerate(lines) if "backward of" in line)
    assert "matmul" in src and "y = F.sigmoid(x @ w)" in src
    assert all("backward of" not in line for line in lines[:first_backward])
    assert any("sigmoid" in line for line in lines[:first_backward])
    assert any("backward of sigmoid" in line for line in lines[first_backward:])


def test_backward_through_a_graph_made_outside_is_refused():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    outside = x * 2

    def step():
        outside.sum().backward(retain_graph=True)
        return x.grad

    with pytest.raises(TraceError, match="recorded before the compiled function"):
        mgx.compile(step)()


def test_a_module_switched_to_eval_through_a_closure_traces_again():
    """The model is reached through a closure, so its training flag is not in the signature: before,
    the replay after model.eval() kept applying dropout (a silently wrong result)."""
    mgx.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    x = mgx.tensor(np.ones((2, 4)))

    @mgx.compile
    def forward(x):
        return model(x)

    forward(x)
    forward(x)
    model.eval()
    np.testing.assert_array_equal(forward(x).data, model(x).data)  # eval: no dropout, deterministic
    assert forward.traces == 2


def test_batch_norm_running_statistics_are_refused_not_skipped():
    """A replay would skip the running-statistics update (it is not a recorded op): refused."""
    bn = nn.BatchNorm1d(3)
    x = mgx.tensor(np.random.default_rng(0).normal(size=(4, 3)))
    step = mgx.compile(lambda x: bn(x).sum())
    with pytest.raises(mgx.TraceError, match="batch norm updates its running statistics"):
        step(x)
    bn.eval()
    np.testing.assert_array_equal(mgx.compile(lambda x: bn(x).sum())(x).data, bn(x).sum().data)


def test_hooks_and_anomaly_mode_registered_after_the_trace_are_not_skipped():
    """A plan has no hooks and no anomaly checks: with either on, the call runs eagerly."""
    w = mgx.tensor(np.array([1.0, 2.0]), requires_grad=True)

    @mgx.compile
    def step(x):
        w.grad = None
        loss = (w * x).sum()
        loss.backward()
        return loss

    x = mgx.tensor(np.array([3.0, 4.0]))
    step(x)
    step(x)
    seen = []
    with w.register_hook(lambda g: seen.append(g.data.copy())):
        step(x)
    np.testing.assert_array_equal(seen[0], [3.0, 4.0])
    with mgx.detect_anomaly(), pytest.raises(mgx.AnomalyError):
        step(mgx.tensor(np.array([np.nan, 1.0])))


# --------------------------------------------------------------------------- #
# hot ops as direct NumPy lines, buffers kept across calls
# --------------------------------------------------------------------------- #
_LOWERED = ("add", "sub", "mul", "div", "neg", "exp", "tanh", "sigmoid", "relu", "matmul")


@st.composite
def lowered_programs(draw):
    """A chain over the ops the plan writes as NumPy lines (mgx.compile's _forward_table): their
    operands are constants, parameters of broadcasting shapes, earlier values (reused: gradients
    add up) or the value itself (x * x), on 0-d to 2-D float32/float64 values."""
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    shape = draw(st.sampled_from([(), (3,), (2, 3), (3, 3)]))
    steps = []
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(_LOWERED))
        if op in ("add", "sub", "mul", "div"):
            other = draw(st.sampled_from(["const", "param", "param-row", "earlier", "self"]))
            steps.append((op, other, draw(st.integers(0, 10))))
        else:
            steps.append((op, None, 0))
    return dtype, shape, steps


def _lowered_step(dtype, shape, steps):
    rng = np.random.default_rng(0)
    row = shape[-1:] if shape else ()
    params = {
        "param": mgx.tensor(rng.uniform(0.5, 1.5, shape).astype(dtype), requires_grad=True),
        "param-row": mgx.tensor(rng.uniform(0.5, 1.5, row).astype(dtype), requires_grad=True),
        "W": mgx.tensor(rng.uniform(-1, 1, (3, 3)).astype(dtype), requires_grad=True),
    }

    def step(x):
        for p in params.values():
            p.grad = None
        y, seen = x, [x]
        for op, other, k in steps:
            if op == "matmul":
                y = y @ params["W"] if y.ndim == 2 else y * params["param"]
            elif op in ("neg", "exp", "tanh", "sigmoid", "relu"):
                y = {
                    "neg": lambda v: -v,
                    "exp": lambda v: F.exp(F.tanh(v)),
                    "tanh": F.tanh,
                    "relu": F.relu,
                }.get(op, F.sigmoid)(y)
            else:
                b = {"const": 0.75 + k / 8, "param": params["param"], "param-row": params["param-row"]}.get(
                    other, seen[k % len(seen)] if other == "earlier" else y
                )
                if op == "div":
                    b = b * b + 0.5 if isinstance(b, mgx.Tensor) else b
                y = {"add": y + b, "sub": y - b, "mul": y * b, "div": y / b}[op]
            seen.append(y)
        loss = (y * 1.5).sum() + seen[len(seen) // 2].sum()
        loss.backward()
        return loss, y, [p.grad for p in params.values()]

    return step


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (overflow to inf and nan: eager warns too)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(program=lowered_programs(), seed=st.integers(0, 2**16))
def test_lowered_ops_with_buffers_equal_eager(program, seed):
    """The plan's own NumPy lines (buffers reused, results written in place over dying values,
    0-d arithmetic on NumPy scalars) give the eager values and gradients bit for bit, on two
    replays with other inputs than the trace's; the first replay's results stay as they were."""
    dtype, shape, steps = program
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(-1.5, 1.5, shape).astype(dtype) for _ in range(3)]

    def results(step, x):
        xt = mgx.tensor(x.copy(), requires_grad=True)
        loss, y, grads = step(xt)
        return [loss.data, y.data, xt.grad.data] + [None if g is None else g.data for g in grads]

    eager = [[None if r is None else r.copy() for r in results(_lowered_step(*program), x)] for x in xs]
    compiled = mgx.compile(_lowered_step(*program))
    got = [results(compiled, x) for x in xs]
    kept = [[None if r is None else r.copy() for r in g] for g in got]
    assert compiled.traces == 1
    for g, k, e in zip(got, kept, eager, strict=True):
        for a, b, c in zip(g, k, e, strict=True):
            assert (a is None) == (c is None)
            if a is not None:
                same(a, c, "compiled vs eager")
                same(a, b, "a later replay changed an earlier result")


def _mlp_step(dtype=np.float64):
    mgx.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5, dtype=dtype), nn.Sigmoid(), nn.Linear(5, 3, dtype=dtype))
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, step


def test_the_mlp_step_is_written_as_numpy_calls():
    """The book's MLP step (matmul, add, sigmoid, cross-entropy) has no op objects left in the
    plan: each is np.matmul / np.add / ... lines, most writing into kept buffers."""
    model, step = _mlp_step()
    compiled = mgx.compile(step)
    compiled(mgx.tensor(np.ones((4, 6))), np.array([0, 1, 2, 0]))
    src = compiled.source
    assert not re.search(r"\bf\d+\.(forward|backward)\(", src), src
    for call in ("np.matmul(", "np.add(", "np.exp(", "np.divide(", "out=_buf"):
        assert call in src, call


def test_labels_passed_at_each_call_are_read_at_each_call():
    """Regression: float class labels passed as an argument were made integers at the trace only,
    so every replay used the trace's labels (a silently wrong loss and gradient). Now the plan
    checks and converts them at each call, and out-of-range labels raise as eagerly."""
    model, step = _mlp_step()
    eager_model, eager_step = _mlp_step()
    compiled = mgx.compile(step)
    x = mgx.tensor(np.linspace(-1, 1, 24).reshape(4, 6))
    for labels in ([0.0, 1.0, 2.0, 0.0], [2.0, 2.0, 1.0, 0.0], [1.0, 0.0, 0.0, 2.0]):
        y = np.array(labels)
        same(compiled(x, y).data, eager_step(x, y).data, f"loss for labels {labels}")
        for p, q in zip(model.parameters(), eager_model.parameters(), strict=True):
            same(p.data, q.data, "parameter")
    assert compiled.traces == 1
    with pytest.raises(ValueError, match="class index 3 is out of range"):
        compiled(x, np.array([0.0, 3.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="class index -1 is out of range"):
        compiled(x, np.array([0.0, -1.0, 1.0, 1.0]))


def test_a_parameter_given_another_dtype_traces_again():
    """Parameters are read at each replay but are not arguments: when one's dtype or shape changes
    (p.data = p.data.astype(...)), the plan (made for the old one, with buffers of its dtype)
    is traced again rather than replayed."""
    model, step = _mlp_step(np.float32)
    eager_model, eager_step = _mlp_step(np.float32)
    compiled = mgx.compile(step)
    x, y = mgx.tensor(np.linspace(-1, 1, 24).reshape(4, 6)), np.array([0, 1, 2, 0])
    for m in (model, eager_model):
        compiled(x, y) if m is model else eager_step(x, y)
        for p in m.parameters():
            p.data = p.data.astype(np.float64)
    same(compiled(x, y).data, eager_step(x, y).data, "loss")
    for p, q in zip(model.parameters(), eager_model.parameters(), strict=True):
        same(p.data, q.data, "parameter")
        same(p.grad.data, q.grad.data, "grad")
    assert compiled.traces == 2


def test_lowered_forwards_with_backwards_run_by_their_ops():
    """An in-place write between the forward and backward (here on a tensor the loss does not
    read) makes the backward of every op run as the op's own code, after forwards that were written
    as NumPy lines (matmul, add, sigmoid, cross-entropy: its softmax is handed over): equal to eager."""

    def make():
        model, _ = _mlp_step()
        counter = mgx.tensor(np.zeros(3))

        def bump():
            nonlocal counter
            counter += 1.0

        def step(x, y):
            model.zero_grad()
            loss = F.cross_entropy(model(x), y)
            bump()
            loss.backward()
            return loss

        return model, step

    (model, step), (eager_model, eager_step) = make(), make()
    compiled = mgx.compile(step)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x, y = mgx.tensor(rng.standard_normal((4, 6))), rng.integers(0, 3, 4)
        same(compiled(x, y).data, eager_step(x, y).data, "loss")
        for p, q in zip(model.parameters(), eager_model.parameters(), strict=True):
            same(p.grad.data, q.grad.data, "grad")
    assert "f" in compiled.source and re.search(r"\bf\d+\.backward\(", compiled.source)
    assert "np.matmul(" in compiled.source


def test_the_plan_shown_in_the_docs_is_the_plan(tmp_path):
    """docs/compile.md shows the plan of its 2-2-1 example: the example, run as mlp221.py (the file
    name its comments give), prints exactly that plan; and the digits plan shown is demo.py's."""
    page = Path(__file__).resolve().parents[1] / "docs" / "compile.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    example, shown = blocks[0], blocks[1]
    script = tmp_path / "mlp221.py"
    script.write_text(example + "print(train_step.source, end='')\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(page.parents[1])}
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout == shown
    # the digits plan: examples/demo.py --compile's step, as its first signature (batches of 32)
    pytest.importorskip("matplotlib", reason="the demo needs the examples extra")
    pytest.importorskip("tqdm", reason="the demo needs the examples extra")
    compiles = []
    real = mgx.compile

    def keep(fn=None, **kw):
        compiles.append(real(fn, **kw))
        return compiles[-1]

    demo = runpy.run_path(str(page.parents[1] / "examples" / "demo.py"))
    demo["mgx"].compile = keep
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            demo["main"](str(tmp_path / "out"), epochs=1, quiet=True, compile=True)
    finally:
        demo["mgx"].compile = real
    assert next(iter(compiles[0].plans.values())).source == blocks[2]


# --------------------------------------------------------------------------- #
# regressions found by a hostile probe (each test failed before its fix)
# --------------------------------------------------------------------------- #
def _both(make, inputs, held=1):
    """Run ``make()``'s step eagerly and compiled on each input and compare what each observed.

    ``make`` returns ``(step, observe)``; ``observe(result)`` lists arrays (copied at once), the
    first ``held`` of them what the call returned. After the last call the compiled run reads
    those again: a replay must not change what a user holds from an earlier one."""
    runs = []
    n_held = held
    for compiled in (False, True):
        step, observe = make()
        run = mgx.compile(step) if compiled else step
        held, seen = [], []
        for x in inputs:
            result = run(*x) if isinstance(x, tuple) else run(x)
            held.append(result)
            seen.append([np.array(a, copy=True) for a in observe(result)])
        runs.append((seen, [[np.array(a, copy=True) for a in observe(r)[:n_held]] for r in held]))
    (eager, _), (comp, later) = runs
    for e, c, lt in zip(eager, comp, later, strict=True):
        for a, b in zip(e, c, strict=True):
            same(b, a, "compiled vs eager")
        for b, d in zip(c, lt, strict=False):
            same(d, b, "a later call changed what an earlier call returned")


def test_a_transposed_value_keeps_eager_memory_order():
    """x.T - 1 is Fortran-ordered in NumPy; written into a C-ordered buffer, the sum after it added
    in another order (float32 64x64: -12114.387 instead of -12114.386)."""
    rng = np.random.default_rng(0)
    xs = [mgx.tensor(rng.standard_normal((64, 64)).astype(np.float32)) for _ in range(4)]

    def make():
        return (lambda x: ((x.T - 1.0) * 3.0).sum()), (lambda r: [r.data])

    _both(make, xs)


def test_tensors_made_by_creation_functions_inside_are_new_at_each_call():
    """mgx.zeros / ones / full / arange inside the step: the plan reused the trace's tensor, so
    z = zeros(3); z += x accumulated across calls (1, 3, 6 instead of 1, 2, 3), and a zeros leaf's
    .grad added up across calls."""

    def make():
        def step(x):
            z = mgx.zeros(3)
            z += x
            h = mgx.full((2,), 1.0, requires_grad=True)
            (h * x[:2] + mgx.arange(2.0)).sum().backward()
            return z, h.grad

        return step, (lambda r: [r[0].data, r[1].data])

    _both(make, [mgx.tensor([v, v, v]) for v in (1.0, 2.0, 3.0)], held=2)


def test_a_parameter_frozen_or_unfrozen_after_the_trace_traces_again():
    """requires_grad changed on a parameter between calls: the replay still gave the frozen one a
    .grad and a step (w = [0.06, -1.2] instead of [0.7, 1.5])."""
    for freeze in (True, False):
        results = []
        for compiled in (False, True):
            w = mgx.tensor([1.0, 2.0], requires_grad=freeze)
            b = mgx.tensor([0.5, 0.5], requires_grad=True)
            opt = optim.SGD([b, w] if freeze else [b], lr=0.1)

            def step(x, w=w, b=b, opt=opt):
                opt.zero_grad()
                w.grad = None
                loss = ((w * x + b) * (w * x + b)).sum()
                loss.backward()
                opt.step()
                return loss

            run = mgx.compile(step) if compiled else step
            run(mgx.tensor([1.0, 1.0]))
            w.requires_grad = not freeze
            loss = run(mgx.tensor([2.0, 3.0]))
            results.append([loss.data, w.data.copy(), b.data.copy(), w.grad is None])
        (la, wa, ba, na), (lb, wb, bb, nb) = results
        same(lb, la, "loss")
        same(wb, wa, "w")
        same(bb, ba, "b")
        assert na == nb


def test_arguments_that_share_an_array_at_the_trace_are_read_apart_later():
    """f(a, a.detach()) traced, then f(c, d): the plan read d through a's name ([33, 44], not
    [130, 240])."""

    def make():
        return (lambda a, b: a * 10 + b), (lambda r: [r.data])

    a = mgx.tensor([1.0, 2.0])
    _both(make, [(a, a.detach()), (mgx.tensor([3.0, 4.0]), mgx.tensor([100.0, 200.0]))])
    _both(make, [(a, a.data), (mgx.tensor([3.0, 4.0]), np.array([100.0, 200.0]))])


def test_a_compiled_function_called_inside_another_is_part_of_its_trace():
    """An inner compiled function, already traced, called while the outer one traces: its replay
    was invisible to the outer trace, whose plan then kept its first result (9, 9, 9)."""

    def make():
        inner = mgx.compile(lambda x: x * 2 + 1)
        inner(mgx.tensor([0.0]))
        return (lambda x: inner(x) * 3), (lambda r: [r.data])

    _both(make, [mgx.tensor([v]) for v in (1.0, 2.0, 3.0)])


def test_tensors_refreshed_between_calls_are_read_at_each_call():
    """A global batch g (g.data = next batch) used as labels, an index, embedding indices, through
    detach() or mgx.tensor(g): each kept the trace's value (loss 0.551 for every batch)."""
    batches = [np.array([0, 1]), np.array([2, 0]), np.array([1, 1])]
    uses = {
        "labels": lambda W, g: F.cross_entropy(W[:2], g),
        "index": lambda W, g: W[g].sum(),
        "tuple index": lambda W, g: W[g, 0].sum(),
        "embedding": lambda W, g: F.embedding(g, W).sum(),
        "detach": lambda W, g: (W[:2, 0] * g.detach()).sum(),
        "tensor": lambda W, g: (W[:2, 0] * mgx.tensor(g)).sum(),
    }
    for name, use in uses.items():
        results = []
        for compiled in (False, True):
            W = mgx.tensor(np.arange(9.0).reshape(3, 3) / 4, requires_grad=True)
            g = mgx.tensor(batches[0])

            def step(W=W, g=g, use=use):
                W.grad = None
                loss = use(W, g)
                loss.backward()
                return loss

            run = mgx.compile(step) if compiled else step
            seen = []
            for batch in batches:
                g.data = batch  # the next batch, between calls
                seen.append((run().data.copy(), W.grad.data.copy()))
            results.append(seen)
        for (la, ga), (lb, gb) in zip(*results, strict=True):
            same(lb, la, f"{name}: loss")
            same(gb, ga, f"{name}: grad")


def test_refreshed_indices_are_checked_at_each_call():
    W = mgx.tensor(np.ones((3, 2)), requires_grad=True)
    g = mgx.tensor(np.array([0, 1]))
    step = mgx.compile(lambda: F.embedding(g, W).sum())
    step()
    g.data = np.array([0, -1])
    with pytest.raises(IndexError, match="index -1 is out of range for 3 embeddings"):
        step()


def test_minus_zero_is_another_signature_than_zero():
    """-0.0 == 0.0 and both hash alike: x / -0.0 replayed the plan traced with 0.0 ([inf, -inf]
    instead of [-inf, inf])."""

    def make():
        return (lambda x, s: x / s), (lambda r: [r.data])

    x = mgx.tensor([1.0, -1.0])
    with np.errstate(divide="ignore"):
        _both(make, [(x, 0.0), (x, -0.0), (x, np.float64(-0.0)), (x, 0.0)])


def test_a_frozen_parameter_with_a_dotted_name_compiles():
    """A frozen parameter of nn.Sequential ("0.weight") became the identifier 0_weight_2: a
    SyntaxError after the eager step ran."""

    def make():
        mgx.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
        model[0].weight.requires_grad = False
        return (lambda x: model(x).sum()), (lambda r: [r.data])

    _both(make, [mgx.tensor(np.full((4, 3), v)) for v in (1.0, 2.0)])


def test_user_names_like_plan_names_in_a_long_plan():
    """A plan over 2,000 lines is cut into functions; the names passed between them were read from
    the lines' comments too, which quote the user's code: a variable named a9 gave a NameError."""

    def make():
        def step(x):
            a9 = x
            for _ in range(1100):
                a9 = a9 * 1.0001 + 0.5
            return a9

        return step, (lambda r: [r.data])

    _both(make, [mgx.tensor([v]) for v in (1.0, 2.0, 3.0)])


def test_an_unused_op_still_raises_as_eagerly():
    """Under np.errstate(over="raise"), an op whose result is unused overflowed eagerly (raising)
    but was left out of the plan; now every op runs."""
    step = mgx.compile(lambda x: (F.exp(x * 1000.0), x + 1.0)[1])
    step(mgx.tensor([0.0]))
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        step(mgx.tensor([1.0]))


def test_train_mode_set_inside_the_step_is_replayed_not_retraced():
    """model.train() inside the step and model.eval() between calls: the flag was checked before
    the call and every call traced again; the replay must also leave the model in train mode."""
    mgx.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.1))
    opt = optim.SGD(model.parameters(), lr=0.1)

    @mgx.compile
    def train(x):
        model.train()
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss

    for _ in range(4):
        train(mgx.tensor(np.ones((2, 3))))
        assert model.training and model[1].training
        model.eval()
    assert train.traces == 1


# --------------------------------------------------------------------------- #
# found by trying mgx.compile as a new user would
# --------------------------------------------------------------------------- #
def test_the_books_data_update_inside_is_refused_not_skipped():
    """The book's update `p.data -= lr * p.grad.data` is NumPy outside the recorded ops: a replay
    skipped it, so training silently stopped after the first call. Now the trace refuses it,
    naming the line and the fix; with fallback=True the function runs eagerly and trains."""
    w = mgx.tensor([1.0, -2.0], requires_grad=True)

    def step(x):
        w.grad = None
        loss = ((w * x) ** 2).sum()
        loss.backward()
        w.data -= 0.1 * w.grad.data
        return loss

    with pytest.raises(TraceError, match=r"assigning \.data .*no_grad.*at test_compile\.py:\d+: +w\.data -="):
        mgx.compile(step)(mgx.tensor([1.0, 1.0]))
    with pytest.warns(UserWarning, match="runs eagerly"):
        fallback = mgx.compile(step, fallback=True)
        losses = [fallback(mgx.tensor([1.0, 1.0])).item() for _ in range(3)]
    assert losses[0] > losses[1] > losses[2]


def test_formatting_a_traced_tensor_is_refused_and_if_names_its_remedy():
    with pytest.raises(TraceError, match="formatting"):
        mgx.compile(lambda x: f"{x.sum():.3f}")(mgx.tensor([1.0]))
    with pytest.raises(TraceError, match=r"at test_compile\.py:\d+: .*F\.where") as e:
        mgx.compile(lambda x: x if x.sum() > 0 else -x)(mgx.tensor([1.0]))
    assert "::" not in str(e.value)


def test_keyword_arguments_in_any_order_are_one_signature():
    compiled = mgx.compile(lambda x, t: (x * t).sum())
    a, b = mgx.tensor([1.0, 2.0]), mgx.tensor([3.0, 4.0])
    same(compiled(x=a, t=b).data, np.array(11.0))
    same(compiled(t=b, x=a).data, np.array(11.0))
    assert compiled.traces == 1


def test_train_and_eval_through_a_closure_keep_a_plan_each():
    """A model reached through a closure, switched between train() and eval() between calls: one
    plan per state (2 traces for 6 calls, not 6), each replay equal to eager."""
    results = []
    for compiled in (False, True):
        mgx.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))

        def step(x, model=model):
            return model(x).sum()

        run = mgx.compile(step) if compiled else step
        mgx.manual_seed(1)
        out = []
        for i in range(6):
            model.train(i % 2 == 0)
            out.append(run(mgx.tensor(np.full((2, 3), float(i)))).data.copy())
        results.append(out)
        if compiled:
            assert run.traces == 2
    for a, b in zip(*results, strict=True):
        same(b, a, "output")


# --------------------------------------------------------------------------- #
# regressions found by a second hostile probe (each test failed before its fix)
# --------------------------------------------------------------------------- #
def test_values_computed_outside_the_recorded_ops_are_refused():
    """argmax / any / all, and var of an int tensor, are NumPy results wrapped as tensors: a replay
    kept the trace's (accuracy 0.125, 0.125, 0.375 where eager gave 0.25 each time)."""
    uses = {
        "argmax compared": lambda x: (x.argmax(axis=1) == 0).astype(np.float64).mean(),
        "argmax returned": lambda x: x.argmax(axis=1),
        "any": lambda x: F.any(x > 0),
        "var of ints": lambda x: (x * 1.0 + x.astype(np.int64).var()).sum(),
    }
    for _name, use in uses.items():
        with pytest.raises(TraceError, match="outside the recorded ops"):
            mgx.compile(use)(mgx.tensor([[1.0, 2.0], [3.0, -1.0]]))
        with pytest.warns(UserWarning, match="runs eagerly"):
            mgx.compile(use, fallback=True)(mgx.tensor([[1.0, 2.0], [3.0, -1.0]]))


def test_clip_grad_norm_inside_a_step_is_replayed():
    """clip_grad_norm_ reads the gradients with NumPy: each replay applied the trace's clipped
    gradients and returned the trace's norm (0.56 three times; eager 0.56, 1.94, 0.78)."""
    results = []
    for compiled in (False, True):
        mgx.manual_seed(0)
        model = nn.Linear(4, 3)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            opt.step()
            return loss, norm

        run = mgx.compile(step) if compiled else step
        rng = np.random.default_rng(1)
        out = []
        for _ in range(3):
            loss, norm = run(mgx.tensor(rng.standard_normal((5, 4))), rng.integers(0, 3, 5))
            out.append([loss.data.copy(), norm.data.copy(), model.weight.data.copy(), model.weight.grad.data])
        results.append(out)
    for e, c in zip(*results, strict=True):
        for a, b in zip(e, c, strict=True):
            same(b, a, "clip_grad_norm_ step")


def test_numpy_writes_and_tensor_valued_sizes_inside_are_refused():
    """nn.init on a tensor made inside, mgx.full with a tensor fill, F.repeat / pad / split sizes
    given as a tensor, and an in-place write into a view of a constant made from a Python number:
    each was replayed with the trace's values (or, for the last, a constant that grew at each call)."""
    cases = {
        "nn.init": (lambda x: x * nn.init.constant_(mgx.zeros(2), 2.0), "nn.init.constant_"),
        "full": (lambda x: x * mgx.full((2,), x.sum().detach()), "fill_value"),
        "repeat": (lambda x: F.repeat(x, mgx.tensor([1, 2])), "sizes given as a tensor"),
        "pad": (lambda x: F.pad(x, mgx.tensor(1)), "sizes given as a tensor"),
        "constant view": (lambda x: x * _minus_one_view(), "view of a constant"),
    }
    for _name, (fn, message) in cases.items():
        with pytest.raises(TraceError, match=message):
            mgx.compile(fn)(mgx.tensor([1.0, 2.0]))


def _minus_one_view():
    c = F.reshape(0.5, (1,))
    c -= 1.0
    return c


def test_layout_of_arguments_and_parameters_is_part_of_the_plan():
    """A Fortran-ordered argument after a C-ordered trace (or a parameter made Fortran-ordered):
    NumPy sums in memory order, so the replay differed in the last bit (5 calls of 10)."""
    rng = np.random.default_rng(0)
    W = mgx.tensor(rng.standard_normal((64, 64)))

    def step(x):
        return ((x - 1.0) * 3.0).sum() + ((W - 1.0) * 3.0).sum()

    compiled = mgx.compile(step)
    compiled(mgx.tensor(rng.standard_normal((64, 64))))  # traced with C order
    for i in range(8):
        x = mgx.tensor(np.asfortranarray(rng.standard_normal((64, 64))))
        if i == 4:
            W.data = np.asfortranarray(W.data)
        same(compiled(x).data, step(x).data, f"call {i}")


def test_indices_of_gather_are_read_and_checked_at_each_call():
    """An int32 index was converted at the trace only (its values frozen), and the bounds check ran
    at the trace only (a negative index wrapped around at a replay, where eager raises)."""
    X = mgx.tensor(np.arange(12.0).reshape(3, 4))
    compiled = mgx.compile(lambda x, i: F.gather(x, 1, i))
    for rows in ([[0], [1], [2]], [[3], [3], [3]]):
        i = mgx.tensor(np.array(rows, dtype=np.int32))
        same(compiled(X, i).data, F.gather(X, 1, i).data, "gather")
    compiled(X, mgx.tensor(np.array([[0], [1], [2]])))
    with pytest.raises(IndexError, match="index -1 is out of range"):
        compiled(X, mgx.tensor(np.array([[-1], [1], [2]])))


def test_a_mask_refreshed_between_calls_is_read_at_each_call():
    g = mgx.tensor(np.array([True, False, True]))
    compiled = mgx.compile(lambda x: F.where(g, x, 0.0))
    x = mgx.tensor([1.0, 2.0, 3.0])
    for mask in ([True, False, True], [False, True, False], [True, True, True]):
        g.data = np.array(mask)
        same(compiled(x).data, F.where(g, x, 0.0).data, f"mask {mask}")


def test_a_module_hook_registered_after_the_trace_runs():
    """Forward hooks registered or removed after the trace were ignored by replays."""
    model = nn.Linear(2, 2)
    compiled = mgx.compile(lambda x: model(x).sum())
    x = mgx.tensor([[1.0, 2.0]])
    compiled(x)
    calls = []
    handle = model.register_forward_hook(lambda m, inputs, out: calls.append(1) or out * 0.0)
    same(compiled(x).data, np.array(0.0), "hooked")
    assert calls == [1]
    handle.remove()
    same(compiled(x).data, model(x).sum().data, "unhooked")


def test_nan_in_0d_arithmetic_keeps_eager_bits():
    """0-d arithmetic on NumPy scalars kept the other operand's nan of two (its sign bit differs)."""

    def make():
        def step(a):
            t = a * 1.0
            return t * float("nan"), t + float("nan")

        return step, (lambda r: [a.data for a in r])

    _both(make, [mgx.tensor(np.float64(v)) for v in (1.0, -np.nan, -np.nan)], held=2)


def test_an_op_on_constants_only_is_folded_or_kept():
    """x * tanh(0.5): the tanh of a constant is folded into the plan (it crashed the trace); an
    overflowing one, exp(1000.0), is kept and warns at each call as eagerly."""
    compiled = mgx.compile(lambda x: x * F.tanh(0.5))
    same(compiled(mgx.tensor([2.0])).data, (mgx.tensor([2.0]) * F.tanh(0.5)).data)
    compiled = mgx.compile(lambda x: x * F.exp(1000.0))
    with np.errstate(over="ignore"):
        compiled(mgx.tensor([1.0]))
    with pytest.warns(RuntimeWarning, match="overflow"):
        compiled(mgx.tensor([1.0]))


def test_a_nan_argument_is_one_signature():
    compiled = mgx.compile(lambda x, s: x * s)
    for _ in range(3):
        compiled(mgx.tensor([1.0]), float("nan"))
    assert compiled.traces == 1


# --------------------------------------------------------------------------- #
# found by a third probe, of ordinary training code (each test failed before its fix)
# --------------------------------------------------------------------------- #
def test_scatter_add_of_a_constant_source_compiles():
    """A constant source (a list) made a float array by NumPy was taken for a value computed
    outside the recorded ops and refused (a regression of the second probe's fix)."""

    def make():
        return (lambda x: F.scatter_add(x * 1.0, 0, [0, 2, 0], [1.0, 2.0, 3.0])), (lambda r: [r.data])

    _both(make, [mgx.tensor([0.0, 0.0, 0.0]), mgx.tensor([1.0, 2.0, 3.0])])


def test_writes_at_an_index_computed_inside_on_a_tensor_without_grad():
    """One-hot rows built inside (t[arange, y] = 1) and masked writes (h[h < 0] = 0) on tensors that
    need no gradient kept the first call's index at every replay."""

    def make():
        def step(x, y):
            t = mgx.zeros(4, 3)
            t[mgx.arange(4), y] = 1.0
            h = x * 1.0
            h[h < 0] = 0.0
            return t, h

        return step, (lambda r: [r[0].data, r[1].data])

    rng = np.random.default_rng(0)
    calls = [(mgx.tensor(rng.standard_normal((4, 3))), mgx.tensor(rng.integers(0, 3, 4))) for _ in range(3)]
    _both(make, calls, held=2)


def test_a_compiled_eval_reads_running_statistics_updated_by_eager_training():
    """Batch norm's eval statistics went through NumPy outside the recorded ops: a compiled eval
    step kept the trace's running mean and variance while eager training updated them."""
    results = []
    for compiled in (False, True):
        mgx.manual_seed(0)
        rng = np.random.default_rng(0)
        model = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
        opt = optim.SGD(model.parameters(), lr=0.1)

        def evaluate(x, model=model):
            with mgx.no_grad():
                return model(x)

        run = mgx.compile(evaluate) if compiled else evaluate
        xv = mgx.tensor(rng.standard_normal((6, 4)))
        outs = []
        for _ in range(3):
            model.train()
            opt.zero_grad()
            F.cross_entropy(
                model(mgx.tensor(rng.standard_normal((8, 4)) * 3 + 1)), rng.integers(0, 2, 8)
            ).backward()
            opt.step()
            model.eval()
            outs.append(run(xv).data.copy())
        results.append(outs)
    for a, b in zip(*results, strict=True):
        same(b, a, "eval output")


def test_numpy_writes_into_a_parameter_inside_are_refused():
    """The book's update on arrays (`arr = p.data; arr -= lr * g`, `p.data[...] -= ...`) changes the
    parameter with NumPy: a replay skipped it and training silently stopped after the first call."""
    for update in (
        lambda p: p.data.__isub__(0.1 * p.grad.data),
        lambda p: p.data.__setitem__(Ellipsis, p.data - 0.1 * p.grad.data),
    ):
        w = mgx.tensor([1.0, -2.0], requires_grad=True)

        def step(x, w=w, update=update):
            w.grad = None
            loss = ((w * x) ** 2).sum()
            loss.backward()
            update(w)
            return loss

        with pytest.raises(TraceError, match="changed with NumPy inside the function"):
            mgx.compile(step)(mgx.tensor([1.0, 1.0]))


def test_an_optimizer_with_its_own_step_reads_its_learning_rate_at_each_call():
    """A user's Optimizer subclass overriding step() was not replayed as a call: its updates were
    NumPy outside the plan, with the trace's learning rate (w -2.0 where eager gives -0.75)."""

    class Halving(optim.Optimizer):
        def step(self):
            for p in self.params:
                p.data -= self.lr * p.grad.data

    results = []
    for compiled in (False, True):
        w = mgx.tensor([1.0], requires_grad=True)
        opt = Halving([w], lr=0.5)

        def step(x, w=w, opt=opt):
            opt.zero_grad()
            (w * x).sum().backward()
            opt.step()

        run = mgx.compile(step) if compiled else step
        for _ in range(3):
            run(mgx.tensor([1.0]))
            opt.lr /= 2
        results.append(w.data.copy())
    same(results[1], results[0], "w")


def test_compile_as_a_method_decorator_binds_the_instance():
    class Trainer:
        def __init__(self):
            self.w = mgx.tensor([2.0], requires_grad=True)

        @mgx.compile
        def loss(self, x):
            return (self.w * x).sum()

    trainer = Trainer()
    same(trainer.loss(mgx.tensor([3.0])).data, np.array(6.0))
    same(trainer.loss(mgx.tensor([4.0])).data, np.array(8.0))

"""PyTorch as a second oracle: every op of tests/op_table.py and random programs must give the
same values and gradients as PyTorch on the same float64 inputs.

torch is an opt-in test extra (TORCH_ORACLE=1 make test installs torch==2.13.0, CPU build;
.ci/run turns it on). Without it these tests skip.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microgradx as mgx
from tests.op_table import TABLE
from tests.programs import MGX, programs, run, torch_lib, weights_for
from tests.strategies import seeds

torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")


def _to_torch(a):
    t = torch.from_numpy(np.array(a, dtype=np.float64 if a.dtype.kind == "f" else a.dtype))
    return t.requires_grad_() if a.dtype.kind == "f" else t


@pytest.mark.parametrize("name", sorted(TABLE))
@given(data=st.data())
def test_every_op_agrees_with_pytorch(name, data):
    ex = data.draw(TABLE[name])
    if ex.torch is None:  # e.g. a negative slice step, which PyTorch does not have
        return
    ours = [mgx.tensor(a, requires_grad=a.dtype.kind == "f") for a in ex.arrays]
    theirs = [_to_torch(a) for a in ex.arrays]
    out, ref = ex.fn(*ours), ex.torch(*theirs)
    np.testing.assert_allclose(np.asarray(out.data, np.float64), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(data.draw(seeds)).uniform(-2, 2, out.shape)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if not a.requires_grad:
            continue
        mine = np.zeros(a.shape) if a.grad is None else a.grad.data
        want = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        np.testing.assert_allclose(
            mine, want, rtol=1e-9, atol=1e-12, err_msg=f"{name}: gradient of input {i}"
        )


@given(programs())
def test_random_programs_agree_with_pytorch(program):
    leaves, steps, seed = program
    w = weights_for(steps, leaves, seed)
    ours = [mgx.tensor(a, requires_grad=True) for a in leaves]
    theirs = [_to_torch(a) for a in leaves]
    out, _ = run(steps, ours, MGX, w)
    ref, _ = run(steps, theirs, torch_lib(), w)
    np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-10, atol=1e-12)
    out.backward()
    ref.backward()
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        mine = np.zeros(a.shape) if a.grad is None else a.grad.data
        want = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        np.testing.assert_allclose(mine, want, rtol=1e-9, atol=1e-12, err_msg=f"leaf {i}, program {steps}")

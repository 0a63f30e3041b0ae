"""Differential tests of random programs (small DAGs of ops) against the central-difference oracle.

The same programs are compared with PyTorch in tests/test_torch_oracle.py.
"""

import numpy as np
from hypothesis import given

import microgradx as mgx
from tests.programs import MGX, programs, run, weights_for


@given(programs())
def test_random_program_gradients_match_the_oracle(program):
    leaves, steps, seed = program
    w = weights_for(steps, leaves, seed)
    ts = [mgx.tensor(a, requires_grad=True) for a in leaves]
    out, _ = run(steps, ts, MGX, w)
    out.backward()
    for i, leaf in enumerate(ts):

        def f(x, i=i):
            args = [mgx.tensor(a) for a in leaves]
            args[i] = mgx.tensor(x)
            with mgx.no_grad():
                return run(steps, args, MGX, w)[0].item()

        expected = mgx.numerical_gradient(f, leaves[i].copy())
        got = np.zeros_like(leaves[i]) if leaf.grad is None else leaf.grad.data
        # atol 1e-6: compositions of up to 8 smooth ops have larger third derivatives than one
        # op (the oracle's error is h**2 / 6 * |f'''|); a wrong derivative is off by O(0.1).
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=f"leaf {i}, program {steps}")

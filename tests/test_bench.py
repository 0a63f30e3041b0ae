"""The benchmark's contenders compute what the hand-written NumPy floor computes.

No timing here (speed is measured by `make bench`, never by tests): this only
guards against benchmarking a wrong computation.
"""

import runpy
from pathlib import Path

import numpy as np
import pytest

BENCH_PY = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"
BENCH = runpy.run_path(str(BENCH_PY), run_name="bench")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_mlp_step_contenders_agree_with_the_floor(dtype, capsys):
    def mk(f):
        return lambda: f(*BENCH["mlp_problem"]([20, 8, 8, 4], 6, dtype))

    makers = BENCH["contenders"](mk(BENCH["floor_mlp"]), mk(BENCH["mgx_mlp"]), mk(BENCH["torch_mlp"]))
    BENCH["verify"](makers, f"small mlp {np.dtype(dtype).name}")  # raises SystemExit on a mismatch
    assert "max |diff| to the floor" in capsys.readouterr().out


def test_the_chain_contenders_agree_with_the_floor(capsys):
    x0 = np.linspace(-1, 1, 5)
    kinds = ["add", "mul", "sigmoid", "tanh"]
    chains = (BENCH["floor_chain"], BENCH["mgx_chain"], BENCH["torch_chain"])
    makers = BENCH["contenders"](*(lambda f=f: f(x0, 40, kinds) for f in chains))
    BENCH["verify"](makers, "chain of 40 ops")
    assert "microgradx" in capsys.readouterr().out


def test_verify_fails_loudly_on_a_wrong_computation():
    def wrong():
        return lambda: (1.0, [np.zeros(3)])

    def right():
        return lambda: (1.0, [np.ones(3)])

    with pytest.raises(SystemExit, match="computes something else than the floor"):
        BENCH["verify"]({"numpy": right, "microgradx": wrong}, "planted")

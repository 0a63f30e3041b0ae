"""The benchmark's contenders compute what the hand-written NumPy floor computes.

No timing here (speed is measured by `make bench`, never by tests): this only
guards against benchmarking a wrong computation.
"""

import runpy
import subprocess
import sys
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


# W5 and W6: the book's own NumPy layers (benchmarks/book_layers.py) are the floor


@pytest.mark.parametrize(
    "size",
    [
        dict(batch=4, side=12, filters=3, kernel=5, hidden=8),
        dict(batch=3, side=11, filters=2, kernel=3, hidden=5),  # odd: the pooling drops a row and a column
        dict(),  # the benchmark's own: batch 100, 1x28x28, 30 filters of 5x5
    ],
)
def test_the_convnet_step_contenders_agree_with_the_floor(size, capsys):
    def mk(f):
        return lambda: f(*BENCH["convnet_problem"](**size))

    makers = BENCH["contenders"](
        mk(BENCH["floor_convnet"]), mk(BENCH["mgx_convnet"]), mk(BENCH["torch_convnet"])
    )
    # the book's network as written (its first layer also computes the images' gradient)
    book = BENCH["book"]
    makers["book as is"] = lambda: BENCH["floor_convnet"](
        *BENCH["convnet_problem"](**size), first=book.Convolution
    )
    BENCH["verify"](makers, "SimpleConvNet")
    assert "microgradx  max |diff| to the floor" in capsys.readouterr().out


@pytest.mark.parametrize("sizes, batch", [((20, 8, 8, 4), 6), ((784, 100, 100, 10), 100)])
def test_the_batchnorm_dropout_contenders_agree_with_the_floor(sizes, batch, capsys):
    # dropout is on: the check passes only because every contender draws the same masks
    def mk(f):
        return lambda: f(*BENCH["bn_mlp_problem"](sizes, batch))

    makers = BENCH["contenders"](
        mk(BENCH["floor_bn_mlp"]), mk(BENCH["mgx_bn_mlp"]), mk(BENCH["torch_bn_mlp"])
    )
    makers["book as is"] = lambda: BENCH["floor_bn_mlp"](
        *BENCH["bn_mlp_problem"](sizes, batch), first=BENCH["book"].Affine
    )
    BENCH["verify"](makers, "BN + dropout MLP")
    assert "microgradx  max |diff| to the floor" in capsys.readouterr().out


def test_the_batchnorm_dropout_check_sees_another_dropout_mask():
    # the same microgradx step with the masks drawn from another seed computes something else
    import microgradx as mgx

    def other_masks():
        step = BENCH["mgx_bn_mlp"](*BENCH["bn_mlp_problem"]((20, 8, 8, 4), 6))
        mgx.manual_seed(BENCH["DROPOUT_SEED"] + 1)
        return step

    def floor():
        return BENCH["floor_bn_mlp"](*BENCH["bn_mlp_problem"]((20, 8, 8, 4), 6))

    with pytest.raises(SystemExit, match="computes something else than the floor"):
        BENCH["verify"]({"numpy": floor, "microgradx": other_masks}, "planted")


def test_the_books_im2col_and_col2im_are_adjoint():
    # <im2col(x), c> = <x, col2im(c)> for every x and c: col2im adds each row back where im2col took it
    book = runpy.run_path(str(BENCH_PY.parent / "book_layers.py"))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 7, 6))
    col = book["im2col"](x, 3, 2, stride=2, pad=1)
    assert col.shape == (2 * 4 * 4, 3 * 3 * 2)  # out_h = (7 + 2 - 3) // 2 + 1, out_w = (6 + 2 - 2) // 2 + 1
    c = rng.normal(size=col.shape)
    back = book["col2im"](c, x.shape, 3, 2, stride=2, pad=1)
    assert back.shape == x.shape
    assert np.sum(col * c) == pytest.approx(np.sum(x * back), rel=1e-12)
    # and a row is the window it names: image 1, output (2, 3), from the padded image
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    np.testing.assert_array_equal(col[1 * 16 + 2 * 4 + 3], padded[1, :, 4:7, 6:8].ravel())
    # microgradx's F.im2col / F.col2im, called the book's way, give the book's arrays
    import microgradx.functional as F

    np.testing.assert_array_equal(F.im2col(x, 3, 2, stride=2, pad=1).data, col)
    np.testing.assert_allclose(F.col2im(c, x.shape, 3, 2, stride=2, pad=1).data, back, rtol=0, atol=1e-15)


def test_the_bench_runs_the_batchnorm_workload_in_quick_mode(tmp_path):
    # W6 only: W5's quick run takes half a minute on a busy machine, and its check is tested above
    table = tmp_path / "table.md"
    run = subprocess.run(
        [sys.executable, str(BENCH_PY), "--quick", "--only", "W6", "--markdown", str(table)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert "verify BN + dropout MLP b100" in run.stdout
    rows = [line.split(" | ") for line in table.read_text().splitlines() if line.startswith("| W")]
    assert [r[0] for r in rows] == ["| W6 784-100-100-10 BN+dropout b100"] * len(rows)
    assert [r[1] for r in rows][:2] == ["numpy", "microgradx"]
    assert rows[0][3] == "1.00 (floor)" and float(rows[1][3]) > 0
    assert all(r[2].endswith(" ms/step") for r in rows)

"""Edge values, every op: each entry of tests/op_table.py at 0, -0, +-1, +-tiny, +-huge, +-inf and
NaN, in float64 and float32, forward and backward, compared with PyTorch.

For each op one example is drawn, the same on every run (:func:`drawn`). For each edge point, each
float input in turn is filled with the point (the other inputs stay as drawn), then every float
input at once ("all"); then, for each float input in turn, only its first element is set to the
point ("0[0]": input 0, element 0), as a user meets an edge value: one masked logit, one NaN in a
batch (:func:`variants`). Integer inputs (class labels) stay as drawn. Both libraries run the
forward pass and a backward pass with a fixed upstream gradient, and must agree (:func:`compare`).

Deliberate differences are the rows of the table in docs/edge_values.md, which this test reads: a
difference that no row covers fails, and so does a row that no longer matches a difference (stale).
``python -m tests.test_edge_values [op ...]`` prints the current differences as table rows.
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis.errors import Unsatisfiable

import microgradx as mgx
from tests.op_table import TABLE

torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")

DOC = Path(__file__).resolve().parent.parent / "docs" / "edge_values.md"
DTYPES = {"float64": np.float64, "float32": np.float32}
RTOL = {"float64": 1e-6, "float32": 1e-4}
COLUMNS = ("op", "dtype", "point", "input", "what", "microgradx", "PyTorch", "why")
KEYS = COLUMNS[:5]  # what a row matches on; the other columns are for the reader


def points(dtype: str) -> dict[str, float]:
    """The edge points of ``dtype``, by the names the table's point column uses."""
    f32 = dtype == "float32"
    tiny = float(np.finfo(np.float32).tiny) if f32 else 1e-300
    huge = float(np.finfo(np.float32).max) if f32 else 1e300
    named = {"0": 0.0, "-0": -0.0, "1": 1.0, "-1": -1.0, "tiny": tiny, "-tiny": -tiny}
    return named | {"huge": huge, "-huge": -huge, "inf": np.inf, "-inf": -np.inf, "nan": np.nan}


POINTS = tuple(points("float64"))


# --------------------------------------------------------------------------- #
# the example of each op
# --------------------------------------------------------------------------- #
@functools.cache
def drawn(name: str) -> Any:
    """The example of op ``name`` that the edge values are put into, the same on every run.

    Among the first 8 draws of a derandomized Hypothesis run that have a PyTorch twin and at least
    2 elements in every float input (so reductions, softmax and ties see more than one element):
    the first with an integer input (class labels, a code path of its own), else the first.
    None when no draw qualifies.
    """
    seen: list[Any] = []

    @settings(
        max_examples=8,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(TABLE[name])
    def draw(ex: Any) -> None:
        assume(ex.torch is not None and all(a.size >= 2 for a in ex.arrays if a.dtype.kind == "f"))
        seen.append(ex)

    try:
        draw()
    except Unsatisfiable:
        return None
    with_labels = [ex for ex in seen if any(a.dtype.kind != "f" for a in ex.arrays)]
    return (with_labels or seen)[0]


def variants(arrays: tuple[np.ndarray, ...]) -> list[tuple[str, list[int], bool]]:
    """``(input label, positions set, only the first element)``: each float input filled with the
    point ("0"), all of them (if several: "all"), then each float input with only its first element
    (flat index 0) set to the point ("0[0]"), the others ordinary: :func:`drawn` gives every float
    input at least 2 elements."""
    floats = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    whole = [(str(i), [i], False) for i in floats] + ([("all", floats, False)] if len(floats) > 1 else [])
    return whole + [(f"{i}[0]", [i], True) for i in floats]


def put(a: np.ndarray, value: float, first_only: bool) -> np.ndarray:
    """A copy of ``a`` filled with ``value``, or with only its first element (flat index 0) set."""
    out = a.copy()
    if first_only:
        out.flat[0] = value
    else:
        out[...] = value
    return out


# --------------------------------------------------------------------------- #
# running one case in both libraries
# --------------------------------------------------------------------------- #
def upstream(shape: tuple[int, ...]) -> np.ndarray:
    """The fixed upstream gradient 1, 1.25, 1.5, 1.75, 1, ...: exact in both dtypes, and not all
    ones, so that a softmax-like backward does not cancel down to rounding noise."""
    return (1 + (np.arange(int(np.prod(shape))) % 4) / 4).reshape(shape)


def run_microgradx(ex: Any, arrays: list[np.ndarray]) -> dict[str, Any]:
    """``{"forward": v, "grad of input i": v, ...}``, each v an array or the text "raises ...".

    Only "forward" when the forward pass raised; every gradient "raises ..." when the backward did.
    """
    leaves = [mgx.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
    try:
        out = ex.fn(*leaves)
    except Exception as e:  # noqa: BLE001 - an error is a result to compare
        return {"forward": _raised(e)}
    result = {"forward": _float64(out.data)}
    try:
        out.backward(upstream(out.shape).astype(out.dtype))
    except Exception as e:  # noqa: BLE001
        return result | {_grad(i): _raised(e) for i, t in enumerate(leaves) if t.requires_grad}
    for i, t in enumerate(leaves):
        if t.requires_grad:
            result[_grad(i)] = np.zeros(t.shape) if t.grad is None else _float64(t.grad.data)
    return result


def run_pytorch(ex: Any, arrays: list[np.ndarray]) -> dict[str, Any]:
    """:func:`run_microgradx` for the PyTorch twin."""
    leaves = [torch.from_numpy(a.copy()) for a in arrays]
    for t in leaves:
        t.requires_grad_(t.is_floating_point())
    try:
        out = ex.torch(*leaves)
    except Exception as e:  # noqa: BLE001
        return {"forward": _raised(e)}
    result = {"forward": _float64(out.detach().numpy())}
    try:
        out.backward(torch.from_numpy(upstream(tuple(out.shape))).to(out.dtype))
    except Exception as e:  # noqa: BLE001
        return result | {_grad(i): _raised(e) for i, t in enumerate(leaves) if t.requires_grad}
    for i, t in enumerate(leaves):
        if t.requires_grad:
            result[_grad(i)] = np.zeros(tuple(t.shape)) if t.grad is None else _float64(t.grad)
    return result


def _grad(i: int) -> str:
    return f"grad of input {i}"


def _raised(e: BaseException) -> str:
    first_line = str(e).splitlines()[0] if str(e) else ""
    return f"raises {type(e).__name__}: {first_line}"[:100]


def _float64(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


# --------------------------------------------------------------------------- #
# comparing
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Difference:
    op: str
    dtype: str
    point: str
    input: str  # the float input filled with the point ("0", "all"), or one element of it ("0[0]")
    what: str  # "forward" or "grad of input k"
    ours: str  # microgradx's value where they first differ, or "raises ..."
    theirs: str  # PyTorch's
    detail: str

    def key(self) -> tuple[str, ...]:
        return (self.op, self.dtype, self.point, self.input, self.what)


def compare(ours: Any, theirs: Any, dtype: str) -> tuple[str, str, str] | None:
    """None when the two results agree, else (microgradx's value, PyTorch's, a description).

    They agree when both raised; or when they have the same shape, NaN at the same places, +inf and
    -inf at the same places, and every pair of finite values a, b has
    ``|a - b| <= rtol * max(|a|, |b|) + atol``: rtol is 1e-6 (float64) or 1e-4 (float32), relative
    so that it means the same at 1e300 as at 1; atol is the dtype's smallest normal number, so only
    differences among subnormal numbers pass unseen. The sign of a zero is not compared.
    """
    if isinstance(ours, str) or isinstance(theirs, str):
        if isinstance(ours, str) and isinstance(theirs, str):
            return None
        return _brief(ours), _brief(theirs), "one library raised"
    if ours.shape != theirs.shape:
        return f"shape {ours.shape}", f"shape {theirs.shape}", "the shapes differ"
    a, b = ours, theirs
    with np.errstate(all="ignore"):
        bad = (np.isnan(a) != np.isnan(b)) | (np.isposinf(a) != np.isposinf(b))
        bad |= np.isneginf(a) != np.isneginf(b)
        tol = RTOL[dtype] * np.maximum(np.abs(a), np.abs(b)) + float(np.finfo(DTYPES[dtype]).tiny)
        bad |= np.isfinite(a) & np.isfinite(b) & ~(np.abs(a - b) <= tol)
    if not bad.any():
        return None
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    detail = f"{int(bad.sum())} of {bad.size} elements differ, the first at index {first}"
    return repr(float(a[first])), repr(float(b[first])), detail


def _brief(x: Any) -> str:
    if isinstance(x, str):
        return x
    if x.size <= 4:
        return np.array2string(x, separator=", ", precision=6).replace("\n", "")
    return f"an array of shape {x.shape}"


def differences(name: str, dtype: str) -> list[Difference]:
    """Every difference between microgradx and PyTorch for op ``name`` at the edge points of ``dtype``."""
    ex = drawn(name)
    base = [a.astype(DTYPES[dtype]) if a.dtype.kind == "f" else a for a in ex.arrays]
    found = []
    with np.errstate(all="ignore"):  # overflow, 0/0, ... are expected at these points
        for point, value in points(dtype).items():
            for label, filled, first_only in variants(ex.arrays):
                arrays = [put(a, value, first_only) if i in filled else a for i, a in enumerate(base)]
                ours, theirs = run_microgradx(ex, arrays), run_pytorch(ex, arrays)
                raised = isinstance(ours["forward"], str) or isinstance(theirs["forward"], str)
                for what in ["forward"] if raised else dict.fromkeys([*ours, *theirs]):
                    diff = compare(ours.get(what, "missing"), theirs.get(what, "missing"), dtype)
                    if diff is not None:
                        found.append(Difference(name, dtype, point, label, what, *diff))
    return found


# --------------------------------------------------------------------------- #
# the table of deliberate differences
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Row:
    line: int  # in docs/edge_values.md
    cells: dict[str, tuple[str, ...]]  # column -> the values listed in it

    def combinations(self) -> list[tuple[str, ...]]:
        """Every (op, dtype, point, input, what) the row lists; each must match a difference."""
        return list(itertools.product(*(self.cells[c] for c in KEYS)))

    def covers(self, d: Difference) -> bool:
        return any(_matches(combo, d.key()) for combo in self.combinations())


def _matches(pattern: tuple[str, ...], key: tuple[str, ...]) -> bool:
    """Whether a combination of a row matches a difference's key ("*" matches anything)."""
    return all(_glob(p, k) for p, k in zip(pattern, key, strict=True))


def _glob(pattern: str, value: str) -> bool:
    """Whether ``value`` matches ``pattern``, in which "*" stands for any text and every other
    character for itself (not fnmatch, whose "[0]" is a character class: "0[0]" would not match)."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), value) is not None


@functools.cache
def table() -> tuple[Row, ...]:
    """The rows of the table with the columns :data:`COLUMNS` in docs/edge_values.md."""
    lines = DOC.read_text().splitlines()
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    header = next((n for n, row in enumerate(cells) if tuple(row) == COLUMNS), None)
    assert header is not None, f"{DOC.name} has no table with the columns {' | '.join(COLUMNS)}"
    rows = []
    for n in range(header + 2, len(lines)):  # after the header and its |---| line
        if not lines[n].startswith("|"):
            break
        assert len(cells[n]) == len(COLUMNS), f"{DOC.name}:{n + 1}: {len(cells[n])} cells, not 8"
        values = [tuple(v.replace("`", "").strip() for v in cell.split(",")) for cell in cells[n]]
        rows.append(Row(n + 1, dict(zip(COLUMNS, values, strict=True))))
    return tuple(rows)


def test_the_table_names_ops_dtypes_points_and_inputs():
    for row in table():
        where = f"{DOC.name}:{row.line}"
        ops, dtypes, pts, inputs, whats = (row.cells[c] for c in KEYS)
        assert set(ops) <= set(TABLE), f"{where}: {set(ops) - set(TABLE)} not in tests/op_table.py"
        assert set(dtypes) <= {*DTYPES, "*"}, f"{where}: the dtype must be float64, float32 or *"
        assert set(pts) <= {*POINTS, "*"}, f"{where}: the point must be one of {', '.join(POINTS)} or *"
        for v in inputs:
            assert re.fullmatch(r"all|(\d+|\*)(\[0\])?", v), (
                f"{where}: the input must be all, an index, an index followed by [0], *, or *[0]"
            )
        for v in whats:
            assert re.fullmatch(r"forward|grad of input (\d+|\*)|\*", v), (
                f"{where}: what must be forward, grad of input k, or *"
            )


@pytest.mark.parametrize("name", sorted(TABLE))
def test_edge_values_match_pytorch(name):
    if drawn(name) is None:
        pytest.skip(f"{name}: no example has a PyTorch twin")
    found = [d for dtype in DTYPES for d in differences(name, dtype)]
    rows = [r for r in table() if name in r.cells["op"]]
    unlisted = [d for d in found if not any(r.covers(d) for r in rows)]
    stale = [
        f"stale: {DOC.name}:{r.line} lists {combo}, which no longer differs"
        for r in rows
        for combo in r.combinations()
        if combo[0] == name and not any(_matches(combo, d.key()) for d in found)
    ]
    report = [
        f"{d.dtype}, point {d.point}, input {d.input}, {d.what}: microgradx {d.ours}, "
        f"PyTorch {d.theirs} ({d.detail})"
        for d in unlisted
    ]
    if report:
        report.insert(0, f"{name} differs from PyTorch where {DOC.name} does not say it may:")
    assert not report and not stale, "\n".join(report[:41] + stale)


if __name__ == "__main__":  # print the current differences as rows of the table
    for name in sys.argv[1:] or sorted(TABLE):
        if drawn(name) is not None:
            for dtype in DTYPES:
                for d in differences(name, dtype):
                    print(
                        f"| `{name}` | {dtype} | {d.point} | {d.input} | {d.what} | {d.ours} | {d.theirs} | |"
                    )

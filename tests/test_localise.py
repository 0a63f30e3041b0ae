"""locate_wrong_backward: each recorded op checked alone; the first wrong one named with the user's line.

The programs below are written as users write them. A planted mistake sits in a custom
Function in the middle; the expected positions and lines are read from this file's own
source (the ``# <- ...`` markers), the expected values computed with NumPy by hand.
"""

import inspect
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import microgradx as mgx
import microgradx.functional as F
from microgradx import autograd
from microgradx.testing import locate_wrong_backward


class Softsign(mgx.Function):
    """Forward: y = x / (1 + |x|).   Backward: dL/dx = dL/dy / (1 + |x|)**2"""

    def __init__(self, planted=False):
        self.planted = planted

    def forward(self, x):
        return x / (1.0 + np.abs(x))

    def backward(self, gy):
        (x,) = self.inputs
        d = 1.0 + abs(x)
        if self.planted:
            return gy / d  # the planted mistake: the square is missing
        return gy / (d * d)


def program(x, W1, b1, W2, plant=()):
    """A small network of 20 ops; ``plant`` says which softsign calls get the wrong backward."""
    h = x @ W1  # 1 matmul
    h = h + b1  # 2 add
    h = h.tanh()  # 3
    h = h * 0.5  # 4 mul
    h = h - 0.1  # 5 sub
    h = F.relu(h) + h * 0.01  # 6 relu, 7 mul, 8 add
    h = h * h  # 9 mul
    h = Softsign.apply(h, planted="first" in plant)  # <- first (op 10)
    z = h @ W2  # 11 matmul
    z = z.sigmoid()  # 12
    z = Softsign.apply(z, planted="second" in plant)  # <- second (op 13)
    z = z / 3.0  # 14 div
    z = z.exp()  # 15
    z = z + 1.0  # 16 add
    z = z.log()  # 17
    z = z * z  # 18 mul
    z = z.sum(axis=1)  # 19
    return z.mean()  # 20


RNG = np.random.default_rng(1)
ARGS = (RNG.normal(size=(3, 4)), RNG.normal(size=(4, 5)), RNG.normal(size=5), RNG.normal(size=(5, 2)))


def line_of(marker, func=program):
    """The line number, in this file, of the line of ``func`` that carries ``marker``."""
    lines, start = inspect.getsourcelines(func)
    (hit,) = [start + i for i, text in enumerate(lines) if marker in text]
    return hit


def softsign_input(x, W1, b1, W2):
    """The array the first softsign reads, computed with NumPy alone (ops 1 to 9)."""
    h = np.tanh(x @ W1 + b1) * 0.5 - 0.1
    h = np.maximum(h, 0.0) + h * 0.01
    return h * h


def test_a_wrong_backward_in_the_middle_of_20_ops_is_named_with_its_line():
    report = locate_wrong_backward(lambda *a: program(*a, plant=("first",)), *ARGS)
    assert len(report.ops) == 20 and [c.position for c in report.ops] == list(range(1, 21))
    bad = report.failing
    assert bad is not None and bad.cls is Softsign and bad.name == "softsign"
    assert bad.position == 10
    assert bad.filename == __file__ and bad.lineno == line_of("# <- first")
    assert bad.function == "program"
    assert bad.code.startswith('h = Softsign.apply(h, planted="first" in plant)')
    assert bad.input_shapes == ((3, 5),) and bad.input_dtypes == ("float64",)
    # every other op was checked, and is right
    assert [c.position for c in report.checked] == [p for p in range(1, 21) if p != 10]
    assert report.wrong == [bad] and report.skipped == []
    text = str(report)
    assert f"op 10 of 20, softsign (Softsign), called at {bad.location} in program()" in text
    assert 'h = Softsign.apply(h, planted="first" in plant)' in text
    assert text.count(" ok ") == 19 and text.count("WRONG") == 1


def test_the_worst_element_of_the_wrong_op_in_jacobian_terms():
    report = locate_wrong_backward(lambda *a: program(*a, plant=("first",)), *ARGS)
    m = report.worst
    assert m is report.failing.mismatch and m.kind == "jacobian" and m.input == 0
    # softsign is elementwise: its Jacobian is diagonal, so the worst entry of a column is on it
    assert m.output_index == m.index
    h = softsign_input(*ARGS)[m.index]
    assert m.backward == pytest.approx(1 / (1 + abs(h)), rel=1e-12)  # what the planted backward says
    assert m.numerical == pytest.approx(1 / (1 + abs(h)) ** 2, rel=1e-6)  # the true derivative
    assert m.size == 15
    a, b = m.index
    assert f"d out[{a}, {b}] / d in[{a}, {b}]: backward gives" in " ".join(str(report).split())


def test_of_two_wrong_backwards_the_first_in_forward_order_is_named():
    report = locate_wrong_backward(lambda *a: program(*a, plant=("first", "second")), *ARGS)
    assert [c.position for c in report.wrong] == [10, 13]
    assert report.failing.lineno == line_of("# <- first")
    assert report.wrong[1].lineno == line_of("# <- second")
    assert f"Also wrong, later: op 13, softsign (Softsign) at {report.wrong[1].location}" in str(report)
    only_second = locate_wrong_backward(lambda *a: program(*a, plant=("second",)), *ARGS)
    assert only_second.failing.position == 13 and only_second.failing.lineno == line_of("# <- second")


def test_gradcheck_failure_carries_the_report():
    with pytest.raises(mgx.GradcheckError) as info:
        mgx.gradcheck(lambda *a: program(*a, plant=("first",)), *ARGS)
    report = info.value.report
    assert report.failing.position == 10 and report.failing.lineno == line_of("# <- first")
    message = str(info.value)
    assert message.splitlines()[0].startswith("gradcheck: the gradient of input ")
    assert f"softsign (Softsign), called at {report.failing.location}" in message
    # locate=False: the check alone, no report
    with pytest.raises(mgx.GradcheckError) as info:
        mgx.gradcheck(lambda *a: program(*a, plant=("first",)), *ARGS, locate=False)
    assert "\n" not in str(info.value) and info.value.args[0].startswith("gradcheck:")


def test_a_right_program_has_no_failing_op():
    report = locate_wrong_backward(program, *ARGS)
    assert report.failing is None and report.location is None and report.worst is None
    assert len(report.checked) == 20
    assert "No op's backward is wrong: 20 of 20 ops checked alone" in str(report)


def test_the_issue_example_reports_the_gradient_itself_and_no_wrong_op():
    # (b * b.detach()).sum() at b = [0.8, -1.6]: backward gives b (the detached factor is a constant),
    # the true gradient is 2 b; by hand, the worst element is index 1: -1.6 against -3.2.
    with pytest.raises(mgx.GradcheckError) as info:
        mgx.gradcheck(lambda b: (b * b.detach()).sum(), np.array([0.8, -1.6]))
    first = str(info.value).splitlines()[0]
    assert "is wrong at index (1,): backward gives -1.6, central differences give -3.2 " in first
    assert "2 of 2 elements are off" in first
    report = info.value.report
    assert report.failing is None and [c.name for c in report.checked] == ["mul", "sum"]
    assert "detach()" in str(report)  # where to look instead


def test_ops_called_through_helpers_are_placed_at_the_users_line():
    def fn(x, w):
        y = F.linear(x, w)  # <- linear
        return F.log_softmax(y).sum() + F.mse_loss(y, np.zeros((2, 3)))  # <- losses

    report = locate_wrong_backward(fn, np.ones((2, 4)) * 0.3, np.full((4, 3), 0.2))
    assert {c.filename for c in report.ops} == {__file__}
    assert {c.lineno for c in report.ops} == {line_of("# <- linear", fn), line_of("# <- losses", fn)}
    assert report.failing is None


def test_an_input_overwritten_in_place_is_not_guessed():
    def fn(x):
        h = x * 2.0
        y = h + 1.0  # <- reads h
        h += 3.0  # <- overwrites h
        return (y * h).sum()

    report = locate_wrong_backward(fn, np.array([1.0, 2.0]))
    by_line = {c.lineno: c for c in report.ops}
    reads, writes = by_line[line_of("# <- reads h", fn)], by_line[line_of("# <- overwrites h", fn)]
    assert reads.status == "skipped" and "overwritten in place after this op read it" in reads.reason
    assert writes.status == "skipped" and "overwritten by this very in-place op" in writes.reason
    assert [c.name for c in report.checked] == ["mul", "mul", "sum"]
    assert mgx.gradcheck(fn, np.array([1.0, 2.0]))  # (the program itself is right)


def test_random_forwards_and_random_programs():
    class Noisy(mgx.Function):
        def forward(self, x):
            return x + np.random.default_rng().normal(size=x.shape)

        def backward(self, gy):
            return gy

    report = locate_wrong_backward(lambda x: Noisy.apply(x).sum(), np.array([1.0, 2.0]))
    (noisy,) = report.skipped
    assert noisy.cls is Noisy and "forward is random" in noisy.reason
    assert not report.deterministic and "fn is random" in str(report)
    # dropout's op is checkable (its mask is a parameter), but a fn that draws a new mask is random
    report = locate_wrong_backward(lambda x: F.dropout(x, 0.5).sum(), np.linspace(0.5, 2.0, 8))
    assert [c.name for c in report.checked] == ["dropout", "sum"]
    assert not report.deterministic and "dropout" in str(report).lower()
    mgx.manual_seed(0)
    report = locate_wrong_backward(lambda x: F.dropout(x, 0.5, training=False).sum(), np.ones(4))
    assert report.deterministic and report.note == ""


def test_a_kink_is_not_called_a_wrong_backward():
    # relu at exactly 0: central differences give 1/2, backward 0 (a subgradient, as PyTorch)
    with pytest.raises(mgx.GradcheckError) as info:
        mgx.gradcheck(lambda x: F.relu(x).sum(), np.array([0.0, 1.0]))
    report = info.value.report
    assert report.failing is None
    (relu,) = report.skipped
    assert relu.name == "relu" and "kink" in relu.reason and "index (0,)" in relu.reason
    assert "sits on a kink at these inputs" in str(report)


def test_a_kink_does_not_hide_a_wrong_element_next_to_it():
    class Relu(mgx.Function):
        """Forward: y = max(x, 0).  The planted backward gives slope 1.1 where x > 0 (1 is right)."""

        def forward(self, x):
            return np.maximum(x, 0.0)

        def backward(self, gy):
            (x,) = self.inputs
            return gy * mgx.tensor(1.1 * (x.data > 0))

    # index 0 is on the kink (backward's 0 is a subgradient, central differences give 1/2): the
    # worst element, and passed over; index 2 is 10% off: that is the finding
    report = locate_wrong_backward(lambda x: Relu.apply(x), np.array([0.0, -1.0, 0.3]))
    m = report.failing.mismatch
    assert m.index == (2,) and m.output_index == (2,)
    assert (m.backward, m.numerical) == (1.1, pytest.approx(1.0))


def test_integer_inputs_are_held_constant():
    class Pick(mgx.Function):
        """y = x[idx] for an integer input idx; the gradient scatters back (none for idx)."""

        def forward(self, x, idx):
            return x[idx]

        def backward(self, gy):
            x, idx = self.inputs
            g = np.zeros(x.shape)
            np.add.at(g, idx.data, gy.data)
            return mgx.tensor(g), None

    report = locate_wrong_backward(
        lambda x, i: Pick.apply(x, i).sum(), np.array([1.0, 2.0, 3.0]), np.array([2, 0, 2])
    )
    pick = report.ops[0]
    assert pick.status == "ok" and pick.input_dtypes == ("float64", "int64")


def test_a_backward_that_raises_is_the_finding():
    class BadCount(mgx.Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy, gy  # two gradients for one input

    report = locate_wrong_backward(lambda x: BadCount.apply(x).sum(), np.ones((2, 3)))
    assert (
        report.failing.cls is BadCount
        and "backward returned 2 gradients for 1 inputs" in report.failing.reason
    )
    assert "backward returned 2 gradients" in str(report)


def test_the_hook_is_off_afterwards_even_when_fn_raises():
    assert autograd._on_record is None
    locate_wrong_backward(lambda x: x.tanh().sum(), np.ones(2))
    assert autograd._on_record is None

    def broken(x):
        x.tanh()
        raise KeyError("inside fn")

    with pytest.raises(KeyError, match="inside fn"):
        locate_wrong_backward(broken, np.ones(2))
    assert autograd._on_record is None


def test_ops_recorded_by_other_threads_are_not_mixed_in():
    def fn(x):
        w = mgx.tensor([1.0, 2.0], requires_grad=True)
        worker = threading.Thread(target=lambda: (w * 3.0).exp())
        worker.start()
        worker.join()
        return (x * x).sum()

    report = locate_wrong_backward(fn, np.array([1.0, -1.0]))
    assert [c.name for c in report.ops] == ["mul", "sum"]


def test_two_threads_localising_at_once_each_get_their_own_ops():
    meet = threading.Barrier(2, timeout=30)  # both recordings are running when each passes this

    def tanh_program(x):
        y = x.tanh()
        meet.wait()
        return (y * 2.0).sum()

    def exp_program(x):
        y = x.exp()
        meet.wait()
        return Softsign.apply(y, planted=True).sum()

    reports = {}

    def run(name, fn):
        reports[name] = locate_wrong_backward(fn, np.array([0.5, -0.25]))

    threads = [threading.Thread(target=run, args=a) for a in (("tanh", tanh_program), ("exp", exp_program))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [c.name for c in reports["tanh"].ops] == ["tanh", "mul", "sum"]
    assert [c.name for c in reports["exp"].ops] == ["exp", "softsign", "sum"]
    assert reports["tanh"].failing is None and reports["exp"].failing.cls is Softsign
    assert autograd._on_record is None  # the engine's hook is off once both are done


def test_order_2_failures_are_localised_through_the_backward_graph():
    class ThreeSquared(mgx.Function):
        """y = 3 x**2, with a planted backward (3 x where 6 x belongs)."""

        def forward(self, x):
            return 3 * x**2

        def backward(self, gy):
            (x,) = self.inputs
            return gy * 3 * x

    class Cube(mgx.Function):
        """y = x**3; its backward is right, but is built on ThreeSquared."""

        def forward(self, x):
            return x**3

        def backward(self, gy):
            (x,) = self.inputs
            return gy * ThreeSquared.apply(x)  # <- in the backward graph

    x = np.array([0.5, -1.0])
    assert mgx.gradcheck(lambda t: Cube.apply(t).sum(), x)  # first derivatives are right
    with pytest.raises(mgx.GradcheckError, match="order-2 gradient") as info:
        mgx.gradcheck(lambda t: Cube.apply(t).sum(), x, order=2)
    bad = info.value.report.failing  # found among the ops that create_graph=True recorded
    assert bad.cls is ThreeSquared and bad.lineno == line_of("# <- in the backward graph", Cube.backward)

    class CubeRightOnce(Cube):
        def backward(self, gy):
            (x,) = self.inputs
            return gy * 3 * mgx.tensor(x.data) ** 2  # right value, but a constant for create_graph

    with pytest.raises(mgx.GradcheckError, match="order-2 gradient") as info:
        mgx.gradcheck(lambda t: CubeRightOnce.apply(t).sum(), x, order=2)
    report = info.value.report
    assert report.failing is None and report.ops == []
    assert "no recorded history" in str(report) and ".data" in str(report)


def test_a_long_program_lists_what_matters():
    def fn(x):
        for _ in range(30):
            x = x * 1.01 + 0.001
        return Softsign.apply(x, planted=True).sum()  # <- op 61

    report = locate_wrong_backward(fn, np.array([0.3, -0.2]))
    assert len(report.ops) == 62 and report.failing.position == 61
    text = str(report)
    assert "... and 61 more ops checked and right: mul x30, add x30, sum x1" in text
    assert len(text.splitlines()) < 20


def test_the_report_in_the_docs_is_the_one_the_code_prints(tmp_path):
    """docs/gradient_checking.md shows the output of its first localisation example, run as train.py."""
    root = Path(__file__).resolve().parent.parent
    page = (root / "docs" / "gradient_checking.md").read_text()
    section = page[
        page.index("<!-- ---- localisation ---- -->") : page.index("<!-- ---- end of localisation")
    ]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    shown = re.findall(r"```text\n(.*?)```", section, re.S)[0]
    (tmp_path / "train.py").write_text(code)
    run = subprocess.run(
        [sys.executable, "train.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(root)),
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.rstrip("\n") == shown.rstrip("\n")

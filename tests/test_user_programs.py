"""Random programs as users write them, run in microgradx and in PyTorch (float64): the
gradients must match, or both must raise.

The programs (tests/user_programs.py) update values in place (``c += c * 0.5``,
``c[0:1] = c[1:2] * 2``, ``c[[0, 2]] = ...``, ``c[mask] = ...``, also under ``no_grad``),
take views and slices of intermediates and update them or their bases, reuse
intermediates, detach, retain_grad, call user-defined ops (``mgx.Function``) and take
nested ``mgx.grad`` (of a lambda, or of a ``def`` that updates values in place). Every
differentiable function of ``microgradx.functional`` is among their steps (each with
arguments inside its domain; views where microgradx makes views), also inside nested
grads; :func:`test_every_function_in_programs` puts each one into programs of its own.
A failure prints the program as source: paste it into an ``@example`` below.

Where PyTorch refuses a program only because a value one of its ops saved for backward was
overwritten in place since, microgradx may refuse it too, or compute it: then its gradients
must be those of the graph as it was recorded, which PyTorch gives when each op saves a copy
(``torch_lib(copy_saved=True)``). PyTorch's ops save more than they need (``avg_pool2d`` its
input, for the shape; ``prod`` its result); microgradx's read what they need. The reverse is a
failure: microgradx must not refuse a program that PyTorch computes.

torch is an opt-in test extra (TORCH_ORACLE=1 make test); without it these tests skip.
"""

import ast
import re

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import microgradx as mgx
import microgradx.functional as F
import tests.user_programs as user_programs_module
from tests.user_programs import (
    MGX,
    NOT_DRAWN,
    OPEN_ISSUES,
    VOCABULARY,
    Outcome,
    UserProgram,
    torch_lib,
    user_program,
    user_programs,
)

torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")

TORCH = torch_lib()
TORCH_COPYING = torch_lib(copy_saved=True)

#: Why PyTorch may refuse a program the generator writes: a value that backward needs
#: was overwritten, a leaf that requires grad (or a view of one) is updated in place, or
#: the function given to ``grad`` does not use its argument (microgradx: "does not depend").
#: Anything else means the generator wrote something it should not (a shape it got wrong).
TORCH_REFUSES = re.compile(
    r"modified by an inplace operation|a leaf Variable that requires grad|view of a leaf Variable"
    r"|appears to not have been used in the graph"
)
#: ... of which this one only because a value saved for backward was overwritten since
OVERWRITTEN = re.compile(r"modified by an inplace operation")


def _in_place(target_op: str, start: str = "[1.0, 2.0]") -> UserProgram:
    """The issue's programs: ``c`` starts as ``a * 2`` and is updated from itself."""
    return user_program(f"a = mgx.tensor({start}, requires_grad=True)\nc = a * 2\n{target_op}")


def _rnn(update: str) -> UserProgram:
    """The RNN-style loop: each column of h written from the one before it."""
    return user_program(f"""
        W = mgx.tensor([0.5, -1.5], requires_grad=True)
        h = mgx.tensor(np.zeros((2, 4)))
        h[:, 0] = W * 2.0
        for t in range(1, 4):
            h[:, t] = {update}
    """)


_SIBLING_VIEW = user_program("""
    a = mgx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = a * 1
    u = c[0:2]
    v = c[1:3]
    u *= 3
    w = v * v
""")
# PyTorch refuses v *= 2 here unless v.grad_fn was read before (see the adapter's `updating`)
_VIEW_MADE_BEFORE_ITS_BASE_REQUIRED_GRAD = user_program("""
    a = mgx.tensor([1.0, 2.0], requires_grad=True)
    h = mgx.tensor(np.zeros((2,)))
    v = h[0:1]
    h += a
    v *= 2.0
""")
# PyTorch's autograd.grad also fills c.grad (see the adapter's `grad`)
_RETAINED_AND_NESTED_GRAD = user_program("""
    a = mgx.tensor([0.8, 1.0], requires_grad=True)
    c = a * 1
    c.retain_grad()
    g = mgx.grad(lambda z: F.tanh(z).sum())(c)
    g *= c
""")
# d shares c's memory and version, not its history: e saved c, so backward raises in both
_DETACHED_ALIAS_UPDATED = user_program("""
    a = mgx.tensor([1.0, -2.0], requires_grad=True)
    c = a * 2
    e = c * c
    d = c.detach()
    d += a
""")


# An update through a view: the base's history takes the update and the view is remade from it
# (PyTorch's CopySlices); the gradients of the intermediates were wrong before (found here).
_RETAINED_VIEW_UPDATED = user_program("""
    a = mgx.tensor([0.0], requires_grad=True)
    v1 = a / (F.sigmoid(a) + 0.5)
    v2 = v1.reshape(())
    v1.retain_grad()
    v2 += 0.5
""")
_VIEW_OF_C = "a = mgx.tensor([0.5, 2.0], requires_grad=True)\nc = a * 1\nv = c[0:1]\nv += 1.0\n"
# A write through a detached alias remakes a view's history too (as PyTorch does)
_VIEW_WRITTEN_THROUGH_A_DETACHED_ALIAS = user_program("""
    a = mgx.tensor([1.0, 2.0], requires_grad=True)
    c = a * 1
    v = c[0:1]
    u = v * 5
    d = c.detach()
    d *= 2
    g = mgx.grad(lambda z: (u + z).sum())(v)
""")


# grad differentiates with respect to its argument only, as torch.func.grad and JAX do: the
# x that the body closes over is a constant there, so g is x, not 2 x ("perturbation confusion")
_PERTURBATION_CONFUSION = user_program("""
    x = mgx.tensor(1.0, requires_grad=True)
    g = mgx.grad(lambda z: (z * x).sum())(x)
""")


def _grad_closing_over_u(body: str) -> UserProgram:
    """``mgx.grad(lambda z: body)(a)`` where the body closes over ``u``, a function of ``a``: u
    is a constant for grad (``(z * u).sum()`` gives u), and the gradient stays in a's graph; a
    body that uses only u does not depend on z, and both raise."""
    return user_program(
        "a = mgx.tensor([0.5, -1.0], requires_grad=True)\n"
        "u = F.tanh(a) * a\n"
        f"g = mgx.grad(lambda z: {body})(a)"
    )


# PyTorch's retain_grad() on a view whose base was updated since hooks the stale history (.grad
# None) unless grad_fn was read first (the adapter reads it, as `updating` does)
_RETAIN_GRAD_ON_A_VIEW_OF_AN_UPDATED_BASE = user_program("""
    a = mgx.tensor([[1.0, 2.0]], requires_grad=True)
    v1 = mgx.tensor(np.zeros((1, 2)))
    v2 = v1.transpose((0, 1))
    v3 = v2.transpose((0, 1))
    v3 += a
    v2.retain_grad()
""")
# the new steps: integer-array and mask assignment, updates under no_grad, user-defined ops,
# in-place updates inside a differentiated def, a right-hand side with extra leading 1s
_ASSIGN_THROUGH_LIST_AND_MASK = user_program("""
    a = mgx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = a * 2
    c[[0, -1]] = a[1] * 3
    c[np.array([True, False, True])] = c[[1, 0]] * 2
""")
_NO_GRAD_UPDATES = user_program("""
    a = mgx.tensor([1.0, 2.0], requires_grad=True)
    c = a * 3
    d = c.detach()
    with mgx.no_grad():
        a -= 0.5
    with mgx.no_grad():
        d[0] = 5.0
    e = c * a
""")
_NO_GRAD_UPDATE_OF_A_SAVED_LEAF = user_program("""
    a = mgx.tensor([1.0, 2.0], requires_grad=True)
    c = a * a
    with mgx.no_grad():
        a *= 2
""")
_USER_OPS = user_program("""
    a = mgx.tensor([1.0, -2.0], requires_grad=True)
    c = sq(a) + sq_fast(a * 3)
    g = mgx.grad(lambda z: sq_fast(z * c).sum())(a)
""")
# fixed in the engine (a004dd4): a user's op whose output is updated in place raised, though
# its backward never reads the output; an input updated after the op is checked, on arrays too
_USER_OP_OUTPUT_UPDATED = user_program("""
    a = mgx.tensor([1.0, -2.0], requires_grad=True)
    c = sq(a)
    c += 1.0
    d = sq_fast(a)
    d *= 2.0
""")
_USER_OP_INPUT_UPDATED = user_program("""
    a = mgx.tensor([1.0, -2.0], requires_grad=True)
    c = a * 1
    d = sq_fast(c)
    c += 1.0
""")
_IN_PLACE_INSIDE_GRAD = user_program("""
    a = mgx.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    def f1(z):
        h = z * 2.0
        h[0] = h[1] + z[0]
        h *= F.tanh(a)
        return (h * z).sum()
    g = mgx.grad(f1)(a)
""")
_SETITEM_WITH_EXTRA_LEADING_ONES = user_program("""
    a = mgx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = mgx.tensor([[0.5]], requires_grad=True)
    c = a * 1
    c[1] = w
    c[0:2] = w * 2
""")
# fixed in the engine (a004dd4): c[1] = w with w of shape (1,) failed in backward; a 0-d
# gradient accumulated twice became a NumPy scalar
_SETITEM_OF_A_SCALAR_FROM_SHAPE_1 = user_program("""
    a = mgx.tensor(2.0, requires_grad=True)
    w = mgx.tensor([0.5], requires_grad=True)
    c = mgx.tensor(np.zeros((3,)))
    c[1] = w
    d = a * 3 + a * 4
""")

# the vocabulary of issue 12, found while hunting; they pass (kept as regression cases):
# PyTorch refuses (avg_pool2d saved its input, for its shape; prod its result), microgradx needs
# neither: its gradients are those of the recorded graph, which PyTorch gives saving copies
_AVG_POOL_INPUT_UPDATED = user_program("""
    a = mgx.tensor([[[0.5, 1.5, -0.5]]], requires_grad=True)
    c = a * 1
    y = F.avg_pool2d(c, (1, 2), stride=1)
    c *= 2.0
""")
_PROD_RESULT_UPDATED = user_program("""
    a = mgx.tensor([0.7, -0.8, 2.0], requires_grad=True)
    p = a.prod()
    p /= 2.0
""")
# PyTorch's tensordot works on a copy here (the contracted axis is in the middle) and so computes;
# with the operands saved (see _torch_twins' Reads) both refuse, as with any other layout
_TENSORDOT_OPERAND_UPDATED = user_program("""
    a = mgx.tensor([[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]]], requires_grad=True)
    c = a * 1
    y = F.tensordot(c, c, axes=([1], [1]))
    c *= 2.0
""")
# the gradient of a sum is an expanded tensor in PyTorch, which refuses an update in place, and the
# gradient through prod's twin (a permute) is a view there: the adapter copies both (see _Torch.grad)
_GRADIENT_OF_A_SUM_UPDATED = user_program("""
    a = mgx.tensor([0.5, -1.0, 2.0], requires_grad=True)
    g = mgx.grad(lambda z: (z.sum() ** 2 * 0.5).sum())(a)
    g += 0.5
""")
_GRADIENT_THROUGH_A_PERMUTE_RETAINED = user_program("""
    a = mgx.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    g = mgx.grad(lambda z: F.prod(z, axis=0).sum())(a)
    v = g[-1, 1:]
    g -= g.sum(axis=0, keepdims=True)
    g.retain_grad()
""")
# views of the vocabulary, updated and updating their base; a split's pieces; dropout with a seed
_VIEWS_OF_THE_VOCABULARY_UPDATED = user_program("""
    a = mgx.tensor([[1.0, -2.0, 0.5], [0.25, 1.5, -1.0]], requires_grad=True)
    c = a * 1
    u = F.unsqueeze(c, 0)
    s = F.swapaxes(u, 0, 2)
    p, q = F.split(c, [1], axis=1)
    s *= F.sin(s)
    q[0] = p[1] * 3.0
    mgx.manual_seed(3)
    d = F.dropout(c, 0.5)
    g = mgx.grad(lambda z: (F.cumprod(F.permute(z, (1, 0)), axis=0) ** 2 * 0.5).sum())(c)
""")

# the program the module docstring of tests/user_programs.py shows
_DOCUMENTED = user_program(user_programs_module.__doc__.split("::\n\n", 1)[1].split("\n\n", 1)[0])


@given(program=user_programs(max_steps=8))
@example(program=_in_place("c += c + 1"))
@example(program=_in_place("c += c"))
@example(program=_in_place("c *= c"))  # PyTorch raises: mul saved c for both gradients
@example(program=_in_place("c /= c.max()"))  # PyTorch raises: max reads c, overwritten
@example(program=_in_place("c -= c.exp()"))
@example(program=_in_place("c[0] = c[1] * 5"))
@example(program=_in_place("c[2:4] = c[0:2] * 2", "[1.0, 2.0, 3.0, 4.0]"))
@example(program=_rnn("h[:, t - 1] * W"))  # PyTorch raises: mul saved h[:, t - 1], overwritten next
@example(program=_rnn("h[:, t - 1] + W"))
@example(program=user_program("a = mgx.tensor(3.0, requires_grad=True)\nc = a * 2\nc += c"))
# found while hunting; they pass (kept as regression cases):
@example(program=_SIBLING_VIEW)
@example(program=_VIEW_MADE_BEFORE_ITS_BASE_REQUIRED_GRAD)
@example(program=_RETAINED_AND_NESTED_GRAD)
@example(program=_DETACHED_ALIAS_UPDATED)
@example(program=_RETAINED_VIEW_UPDATED)
@example(program=user_program(_VIEW_OF_C + "g = mgx.grad(lambda z: (z * v).sum())(c)"))
@example(program=user_program(_VIEW_OF_C + "g = mgx.grad(lambda z: v.sum())(c)"))  # both raise
@example(program=user_program(_VIEW_OF_C + "g = mgx.grad(lambda z: c.sum() * z.sum())(v)"))
@example(program=_VIEW_WRITTEN_THROUGH_A_DETACHED_ALIAS)
@example(program=_PERTURBATION_CONFUSION)
@example(program=_grad_closing_over_u("(z * u).sum()"))
@example(program=_grad_closing_over_u("(F.tanh(z) * u).sum()"))
@example(program=_grad_closing_over_u("(u * u).sum()"))  # both raise: it does not depend on z
@example(program=_RETAIN_GRAD_ON_A_VIEW_OF_AN_UPDATED_BASE)
@example(program=_ASSIGN_THROUGH_LIST_AND_MASK)
@example(program=_NO_GRAD_UPDATES)
@example(program=_NO_GRAD_UPDATE_OF_A_SAVED_LEAF)  # both raise: mul saved a
@example(program=_USER_OPS)
@example(program=_IN_PLACE_INSIDE_GRAD)
@example(program=_SETITEM_WITH_EXTRA_LEADING_ONES)
@example(program=_SETITEM_OF_A_SCALAR_FROM_SHAPE_1)
@example(program=_USER_OP_OUTPUT_UPDATED)
@example(program=_USER_OP_INPUT_UPDATED)  # both raise: square_fast saved c
@example(program=_AVG_POOL_INPUT_UPDATED)
@example(program=_PROD_RESULT_UPDATED)
@example(program=_TENSORDOT_OPERAND_UPDATED)  # both raise
@example(program=_GRADIENT_OF_A_SUM_UPDATED)
@example(program=_GRADIENT_THROUGH_A_PERMUTE_RETAINED)
@example(program=_VIEWS_OF_THE_VOCABULARY_UPDATED)
@example(program=_DOCUMENTED)
def test_program_matches_torch(program):
    assume(check(program) != "immoderate")


def check(program: UserProgram) -> str:
    """Runs ``program`` in both libraries and asserts that they agree (see the module docstring);
    returns what was compared: "both raised", "values", "values, PyTorch saving copies", or
    "immoderate" (values near overflow, where the two libraries' rounding is no longer comparable:
    nothing compared)."""
    ours, theirs = program.run(MGX), program.run(TORCH)
    compared = "values"
    if OVERWRITTEN.search(theirs.error or "") and not ours.raised:
        theirs, compared = program.run(TORCH_COPYING), "values, PyTorch saving copies"
        assert not theirs.raised, f"harness: PyTorch saving copies {theirs}\n{program.source}"
    if theirs.raised:
        assert TORCH_REFUSES.search(theirs.error or ""), f"harness: PyTorch {theirs}\n{program.source}"
        assert ours.raised, f"PyTorch {theirs}\nbut microgradx did not raise: {ours}"
        print(f"both raised: microgradx {_short(ours)} | PyTorch {_short(theirs)}")
        return "both raised"
    if not _moderate(theirs):
        return "immoderate"
    assert not ours.raised, f"microgradx {ours}\nbut PyTorch did not raise: {theirs}"
    assert list(ours.values) == list(theirs.values)
    for name, want in theirs.values.items():
        _assert_close(ours.values[name], want, f"value of {name}")
    _assert_close(ours.loss, theirs.loss, "loss")
    assert list(ours.grads) == list(theirs.grads)
    for name, want in theirs.grads.items():
        _assert_close(ours.grads[name], want, f"gradient of {name}")
    return compared


@pytest.mark.parametrize("name", VOCABULARY)
@settings(max_examples=max(3, getattr(settings.default, "max_examples", 25) // 8))
@given(data=st.data())
def test_every_function_in_programs(name, data):
    """Programs that use ``F.name`` (or the Tensor method) at least once, among the other steps:
    a few per function on every run, where the random programs above may miss one."""
    program = data.draw(user_programs(op=name), label="program")
    assert name in _functions_called(program.source), program.source
    assume(check(program) != "immoderate")


def _functions_called(source: str) -> set[str]:
    """The names of ``F.name(...)`` and ``x.name(...)`` calls in ``source``."""
    calls = [n.func for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)]
    return {f.attr for f in calls if isinstance(f, ast.Attribute)}


def test_every_public_function_is_drawn():
    """Every name of microgradx.functional is in the programs' vocabulary, but the few not drawn,
    each for a reason: a function added to microgradx.functional fails here until it is drawn."""
    public = set(F.__all__)
    assert set(NOT_DRAWN) <= public, f"stale: {sorted(set(NOT_DRAWN) - public)}"
    assert sorted(public - set(VOCABULARY) - set(NOT_DRAWN)) == [], "not drawn by tests/user_programs.py"
    assert sorted(set(VOCABULARY) - public) == [], "drawn but not public"


def _short(out: Outcome) -> str:
    return f"at {out.where.split(':')[0]}: {(out.error or '')[:90]}"


def _moderate(out: Outcome) -> bool:
    arrays = list(out.values.values()) + list(out.grads.values())
    return all(np.all(np.isfinite(a)) and np.all(np.abs(a) < 1e6) for a in arrays)


def _assert_close(got, want, what):
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=what)


# ---- open disagreements with PyTorch, found by the hunt of issue 12 ----
# Each fails (xfail, strict) until microgradx is fixed, or the difference is documented (then move
# the program to an @example of what is expected). The generator keeps clear of each meanwhile
# (tests/user_programs.py: OPEN_ISSUES, the part of each id before the colon).
OPEN = [
    pytest.param(
        user_program("""
            a = mgx.tensor([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]], requires_grad=True)
            h = F.layer_norm(a, (3,))
            h += a
        """),
        id="normalize reads its output: layer_norm's output updated",
        marks=pytest.mark.xfail(
            strict=True,
            raises=AssertionError,
            reason="Normalize's backward reads its output (PyTorch's reads the input and its statistics): "
            "microgradx refuses the residual h += x after layer_norm or batch_norm without weight",
        ),
    ),
    pytest.param(
        user_program("""
            a = mgx.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
            c = a * 1
            v = F.einsum('ij->ji', c)
            v += 1.0
        """),
        id="einsum returns a copy: a permutation",
        marks=pytest.mark.xfail(
            strict=True,
            raises=AssertionError,
            reason="F.einsum returns new memory where numpy.einsum and torch.einsum return a view (a "
            "permutation, a diagonal): the update leaves c alone in microgradx only",
        ),
    ),
]
OPEN.append(
    pytest.param(
        user_program("""
            a = mgx.tensor([[-1.5], [0.4]], requires_grad=True)
            v1 = F.avg_pool2d(F.unsqueeze(a, 0), (2, 1))
            v1.retain_grad()
            v2 = v1[:]
            v1 **= 2
        """),
        id="unbatched result is a view: avg_pool2d",
        marks=pytest.mark.xfail(
            strict=True,
            raises=AssertionError,
            reason="avg_pool2d / max_pool2d of a 3-D input (and cross_entropy / nll_loss of one sample with "
            "reduction='none') return a view of an internal result (a reshape), PyTorch new memory: the "
            "retained gradient of v1, updated in place, then misses v2's part (w1, PyTorch w1 + w2)",
        ),
    )
)
OPEN.append(
    pytest.param(
        user_program("""
            a = mgx.tensor([1.0, 2.0, 0.5], requires_grad=True)
            c = a * 1
            v = F.cross_entropy(c, np.array(1), reduction='sum')
            with mgx.no_grad():
                c -= 0.5
            g = mgx.grad(lambda z: F.tanh(z).sum())(v)
        """),
        id="grad runs through its argument's history: cross_entropy",
        marks=pytest.mark.xfail(
            strict=True,
            raises=AssertionError,
            reason="mgx.grad(f)(v) runs backward (with create_graph) on into v's own history, where "
            "cross_entropy's reads its input, overwritten since: BackwardError; PyTorch stops at "
            "the variable",
        ),
    )
)
#: At a kink of the first derivative, the second derivative: microgradx takes the branch its first
#: derivative takes, PyTorch's double backward the other (elu at 0, huber at |d| = delta, smooth_l1
#: at |d| = beta, softplus at beta x = threshold)
OPEN += [
    pytest.param(
        user_program(f"""
            a = mgx.tensor({point}, requires_grad=True)
            g = mgx.grad(lambda z: {body}.sum())(a)
        """),
        id=f"second derivative at a kink: {name}",
        marks=pytest.mark.xfail(
            strict=True,
            raises=AssertionError,
            reason=f"{name}: the second derivative at the kink is 0 in PyTorch, not in microgradx",
        ),
    )
    for name, point, body in [
        ("elu", "[0.0, 1.0]", "F.elu(z, 0.7)"),
        ("huber_loss", "[1.0, 0.5]", "F.huber_loss(z, z * 0.0, reduction='none')"),
        ("smooth_l1_loss", "[1.0, 0.5]", "F.smooth_l1_loss(z, z * 0.0, reduction='none')"),
        ("softplus", "[2.5, 1.0]", "F.softplus(z, 2.0, 5.0)"),
    ]
]


@pytest.mark.parametrize("program", OPEN)
def test_open_disagreements(program):
    check(program)


def test_the_generator_avoids_exactly_the_open_disagreements():
    """When a fix turns an xfail above into a pass, its entry goes, and with it the generator's
    detour (OPEN_ISSUES): both or neither."""
    assert {p.id.split(":")[0] for p in OPEN} == set(OPEN_ISSUES)


def test_issue_programs_give_the_gradients_by_hand():
    """The first @examples above, against gradients worked out by hand (not only PyTorch's)."""
    out = _in_place("c += c + 1").run(MGX)  # c = 4a + 1
    assert not out.raised, out
    w = np.random.default_rng([0, 0]).uniform(-1, 1, 2), np.random.default_rng([0, 1]).uniform(-1, 1, 2)
    np.testing.assert_allclose(out.grads["a"], w[0] + 4 * w[1], rtol=1e-12)
    assert _in_place("c *= c").run(MGX).raised
    rnn = _rnn("h[:, t - 1] + W").run(MGX)  # h[:, t] = 2 W + t W
    w_h = np.random.default_rng([0, 1]).uniform(-1, 1, (2, 4))
    want = np.random.default_rng([0, 0]).uniform(-1, 1, 2) + w_h @ np.array([2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(rnn.grads["W"], want, rtol=1e-12)


def test_grad_differentiates_its_argument_only():
    """``grad(lambda z: (z * x).sum())(x)`` is x (JAX, torch.func), worked out by hand."""
    out = _PERTURBATION_CONFUSION.run(MGX)
    assert not out.raised, out
    np.testing.assert_allclose(out.values["g"], 1.0)  # x, not 2 x
    w = [np.random.default_rng([0, i]).uniform(-1, 1, ()) for i in range(2)]
    np.testing.assert_allclose(out.grads["x"], w[0] + w[1], rtol=1e-12)  # d(x w0 + g w1)/dx, g = x


def test_nested_grad_gives_the_second_derivative():
    d2 = mgx.grad(mgx.grad(lambda t: (t**3).sum()))
    np.testing.assert_allclose(d2(np.array([2.0])), [12.0])  # 6 t
    x = mgx.tensor([2.0], requires_grad=True)
    g = d2(x)  # a Tensor in x's graph: differentiable once more
    g.sum().backward()
    xt = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    (gt,) = torch.autograd.grad((xt**3).sum(), xt, create_graph=True)
    (gt2,) = torch.autograd.grad(gt.sum(), xt, create_graph=True)
    gt2.sum().backward()
    np.testing.assert_allclose(g.data, gt2.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-12)  # 6


# A 0-d value written through a view, its gradient added up from two uses: found by the hunt of
# issue 12 (the sum was a NumPy scalar, and ViewWrite.backward zeroed the view's positions in a
# copy that was not an array: c.grad came out 110 instead of 0, or a TypeError)
_ZERO_D_VIEW_WRITES = [
    user_program("""
        c = mgx.tensor(2.0, requires_grad=True)
        v1 = c * 1
        v2 = v1.reshape((1,))
        v2[:] = 0.25
    """),
    user_program("""
        c = mgx.tensor(2.0, requires_grad=True)
        v1 = c * 1
        v2 = v1.reshape(())
        v2 += 0.5
    """),
]


@pytest.mark.parametrize("program", _ZERO_D_VIEW_WRITES, ids=["set through a view", "update through a view"])
def test_a_0d_value_written_through_a_view(program):
    check(program)

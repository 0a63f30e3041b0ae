"""Tensor.register_hook and Module.register_forward_hook / register_forward_pre_hook.

Expected gradients are worked out by hand next to each test (the chain rule on
a line or two), or come from PyTorch running the same program (float64), whose
semantics these hooks follow.
"""

from __future__ import annotations

import copy
import gc
import runpy
import weakref
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microgradx as mgx
import microgradx.functional as F
from microgradx import autograd, nn
from microgradx.autograd import vjp
from microgradx.errors import BackwardError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


# --------------------------------------------------------------------------- #
# Tensor hooks: when they run and with what
# --------------------------------------------------------------------------- #
def test_a_leaf_hook_runs_once_on_the_gradient_summed_over_its_uses():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()))
    (x * 2 + x * 3).sum().backward()
    # d/dx sum(2x + 3x) = 5 for each element, delivered once (PyTorch: one call with [5, 5])
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [5.0, 5.0])
    np.testing.assert_array_equal(x.grad.data, [5.0, 5.0])


def test_a_leaf_hook_replaces_the_gradient_before_it_reaches_grad():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [20.0, 40.0])  # 2x times 10
    (x * x).sum().backward()  # accumulates: the hook sees this pass's gradient only
    np.testing.assert_array_equal(x.grad.data, [40.0, 80.0])


def test_a_hook_on_an_intermediate_changes_what_flows_on():
    x = mgx.tensor([1.0, -2.0], requires_grad=True)
    h = x * 3
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()) or g * 100)
    (h * h).sum().backward()
    # dL/dh = 2h = [6, -12]; the hook makes it [600, -1200]; dh/dx = 3
    np.testing.assert_array_equal(seen[0], [6.0, -12.0])
    np.testing.assert_array_equal(x.grad.data, [1800.0, -3600.0])
    assert h.grad is None  # a non-leaf keeps no .grad unless asked


def test_retain_grad_stores_the_hooked_gradient_whichever_was_registered_first():
    # PyTorch runs the retain_grad hook last, always: .grad is what the hooks made of it
    for hook_first in (True, False):
        x = mgx.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        if hook_first:
            h.register_hook(lambda g: g * 100)
            h.retain_grad()
        else:
            h.retain_grad()
            h.register_hook(lambda g: g * 100)
        h.sum().backward()
        np.testing.assert_array_equal(h.grad.data, [100.0, 100.0])
        np.testing.assert_array_equal(x.grad.data, [300.0, 300.0])


def test_several_hooks_run_in_registration_order_each_seeing_the_previous_result():
    x = mgx.tensor([1.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(("first", g.item())) or g * 2)
    x.register_hook(lambda g: seen.append(("second", g.item())) or g + 1)
    (x * 1).sum().backward()
    assert seen == [("first", 1.0), ("second", 2.0)]
    assert x.grad.item() == 3.0  # (1 * 2) + 1, as PyTorch


def test_a_hook_returning_none_keeps_the_gradient_and_an_array_is_accepted():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: None)
    x.register_hook(lambda g: -g.data)  # a NumPy array of the right shape and dtype
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-2.0, -4.0])


def test_a_hook_on_the_root_gets_the_seed_and_can_scale_everything():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    seen = []
    y.register_hook(lambda g: seen.append(g.item()) or g * 2)
    y.backward()
    assert seen == [1.0]
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])  # 2 * 2x


def test_a_hook_on_a_leaf_used_as_the_root():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 3)
    x.backward(np.array([1.0, -1.0]))
    np.testing.assert_array_equal(x.grad.data, [3.0, -3.0])


def test_a_hook_on_a_tensor_later_modified_in_place_sees_the_gradient_of_its_new_value():
    # PyTorch (probed): hooks registered before and after c += 1 both get dL/dc of the new c
    a = mgx.tensor([1.0, 2.0], requires_grad=True)
    c = a * 2
    seen = []
    c.register_hook(lambda g: seen.append(("before", g.data.copy())))
    c += 1
    c.register_hook(lambda g: seen.append(("after", g.data.copy())))
    (c * c).sum().backward()
    # c = 2a + 1 = [3, 5]: dL/dc = 2c = [6, 10], dL/da = 2 * 2c = [12, 20]
    assert sorted(name for name, _ in seen) == ["after", "before"]
    for _, g in seen:
        np.testing.assert_array_equal(g, [6.0, 10.0])
    np.testing.assert_array_equal(a.grad.data, [12.0, 20.0])


def test_hooks_run_for_vjp_and_their_result_is_what_it_returns():
    # torch.autograd.grad((x * x).sum(), [x]) with a hook g * 10 returns [20, 40]
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    seen = []
    h.register_hook(lambda g: seen.append("h"))
    x.register_hook(lambda g: g * 10)
    (gx,) = vjp((h * h).sum(), [x])
    # dL/dx = 2h * 3 = 18x = [18, 36], times 10
    np.testing.assert_array_equal(gx.data, [180.0, 360.0])
    assert seen == ["h"]
    assert x.grad is None


def test_a_hook_on_a_leaf_not_asked_for_by_vjp_does_not_run():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    w = mgx.tensor([3.0, 4.0], requires_grad=True)
    called = []
    w.register_hook(lambda g: called.append(1))
    (gx,) = vjp((x * w).sum(), [x])
    np.testing.assert_array_equal(gx.data, [3.0, 4.0])
    assert called == []  # PyTorch's autograd.grad runs no AccumulateGrad for w either


def test_under_create_graph_the_hook_gets_a_gradient_with_a_graph_and_its_result_is_differentiable():
    x = mgx.tensor(2.0, requires_grad=True)
    h = x * x
    flags = []
    handle = h.register_hook(lambda g: flags.append(g.requires_grad) or g * 3)
    (h * h).backward(create_graph=True)
    # dL/dh = 2h (depends on x: a graph), times 3; dL/dx = 6h * 2x = 12 x^3 = 96
    assert flags == [True]
    assert x.grad.item() == 96.0
    g = x.grad
    x.grad = None
    g.backward(retain_graph=True)
    # g = 12 h x passes through h again, so the hook triples dg/dh = 12x too:
    # 3 * 12x * 2x + 12h = 72x^2 + 12x^2 = 336 at x = 2 (PyTorch: 336)
    assert x.grad.item() == 336.0
    handle.remove()
    x.grad = None
    g.backward()
    assert x.grad.item() == 144.0  # without the hook: d/dx 12 x^3 = 36 x^2


def test_a_leaf_hook_under_create_graph_gets_a_gradient_with_a_graph():
    x = mgx.tensor(2.0, requires_grad=True)
    flags = []
    x.register_hook(lambda g: flags.append(g.requires_grad) or g * 2)
    (x**3).backward(create_graph=True)
    assert x.grad.item() == 24.0  # 2 * 3x^2
    g = x.grad
    x.grad = None
    g.backward()  # d/dx 6x^2 = 12x = 24, and the hook doubles it again
    assert x.grad.item() == 48.0
    assert flags == [True, False]  # PyTorch: the same values and flags


def test_a_hook_cannot_change_a_gradient_that_other_tensors_share():
    # add passes one gradient array to both inputs: a hook writing into it would silently
    # change b's gradient too, so in a plain backward it gets a read-only view
    a = mgx.tensor([1.0, 2.0], requires_grad=True)
    b = mgx.tensor([3.0, 4.0], requires_grad=True)
    h = a * 1
    h.register_hook(lambda g: g.data.__setitem__(Ellipsis, 0.0))
    with pytest.raises(ValueError, match="read-only"):
        (h + b).sum().backward()


# --------------------------------------------------------------------------- #
# handles
# --------------------------------------------------------------------------- #
def test_remove_unregisters_the_hook_and_a_second_remove_does_nothing():
    x = mgx.tensor([1.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 5)
    keep = x.register_hook(lambda g: g + 1)
    handle.remove()
    handle.remove()
    (x * 1).sum().backward()
    assert x.grad.item() == 2.0  # only g + 1 ran
    keep.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert x.grad.item() == 1.0


def test_a_handle_is_a_context_manager():
    x = mgx.tensor([1.0], requires_grad=True)
    with x.register_hook(lambda g: g * 5):
        (x * 1).sum().backward()
    assert x.grad.item() == 5.0
    (x * 1).sum().backward()
    assert x.grad.item() == 6.0  # 5 + 1: the hook is gone


def test_the_engine_stops_looking_for_hooks_when_none_is_left():
    before = autograd._hook_count[0]
    x = mgx.tensor([1.0], requires_grad=True)
    h1 = x.register_hook(lambda g: None)
    x.register_hook(lambda g: None)
    y = mgx.tensor([1.0], requires_grad=True)
    y.register_hook(lambda g: None)
    assert autograd._hook_count[0] == before + 3
    h1.remove()
    assert autograd._hook_count[0] == before + 2
    del x, y  # the remaining hooks die with their tensors
    gc.collect()
    assert autograd._hook_count[0] == before
    h1.remove()
    assert autograd._hook_count[0] == before


def test_a_tensor_whose_hook_refers_to_it_is_still_freed():
    x = mgx.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g, t=x: print(t.shape))  # a cycle: x -> its hook -> x
    alive = weakref.ref(x)
    del x
    gc.collect()
    assert alive() is None


def test_a_copy_of_a_tensor_has_no_hooks_as_in_pytorch():
    x = mgx.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: g * 7)
    y = copy.deepcopy(x)
    (y * 1).sum().backward()
    assert y.grad.item() == 1.0
    (x * 1).sum().backward()
    assert x.grad.item() == 7.0


# --------------------------------------------------------------------------- #
# mistakes, with clear errors
# --------------------------------------------------------------------------- #
def test_a_hook_on_a_tensor_that_does_not_require_grad_is_refused():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mgx.tensor([1.0]).register_hook(print)


def test_a_hook_that_is_not_callable_is_refused():
    with pytest.raises(TypeError, match="callable"):
        mgx.tensor([1.0], requires_grad=True).register_hook(3)


def test_a_hook_returning_the_wrong_shape_names_both_shapes():
    x = mgx.tensor([1.0, 2.0], requires_grad=True, name="x")
    x.register_hook(lambda g: g.sum())
    with pytest.raises(BackwardError, match=r"shape \(\); it must have the tensor's shape \(2,\)"):
        (x * x).sum().backward()


def test_a_hook_returning_another_dtype_is_refused():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g.astype(np.float32))
    with pytest.raises(BackwardError, match="dtype float32.*float64"):
        (x * x).sum().backward()


def test_a_hook_returning_a_number_is_refused():
    x = mgx.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: 3.0)
    with pytest.raises(TypeError, match="returned 3.0"):
        (x * 1).sum().backward()


# --------------------------------------------------------------------------- #
# against PyTorch: programs with hooks on leaves and intermediates
# --------------------------------------------------------------------------- #
UNARY = ["tanh", "sigmoid", "exp"]


@st.composite
def hooked_programs(draw):
    """A chain over two leaves; each step one op; hooks scale some tensors' gradients."""
    steps = draw(
        st.lists(
            st.tuples(st.sampled_from(["mul_leaf", "add_leaf", "unary", "reuse"]), st.sampled_from(UNARY)),
            min_size=1,
            max_size=6,
        )
    )
    n_tensors = 2 + len(steps)
    # a hook scales (g * s) or shifts (g + s) the gradient: a shift is not linear, so a hook run
    # once per use of a tensor instead of once on the summed gradient gives another answer
    hooks = draw(
        st.lists(
            st.one_of(
                st.none(), st.tuples(st.sampled_from(["scale", "shift"]), st.sampled_from([-2.0, 0.5, 3.0]))
            ),
            min_size=n_tensors,
            max_size=n_tensors,
        )
    )
    retain = draw(st.lists(st.booleans(), min_size=n_tensors, max_size=n_tensors))
    return steps, hooks, retain


def run_program(lib, program, a0, b0):
    steps, hooks, retain = program
    if lib is mgx:
        a = mgx.tensor(a0, requires_grad=True)
        b = mgx.tensor(b0, requires_grad=True)
        unary = {"tanh": F.tanh, "sigmoid": F.sigmoid, "exp": F.exp}
    else:
        a = lib.tensor(a0, requires_grad=True)
        b = lib.tensor(b0, requires_grad=True)
        unary = {"tanh": lib.tanh, "sigmoid": lib.sigmoid, "exp": lib.exp}
    tensors = [a, b]
    h = a * b
    for kind, name in steps:
        tensors.append(h)
        if kind == "mul_leaf":
            h = h * a
        elif kind == "add_leaf":
            h = h + b
        elif kind == "unary":
            h = unary[name](h * 0.5)
        else:
            h = h * tensors[-1]  # reuse: h used twice
    kept = [a, b]
    for t, hook, keep in zip(tensors, hooks, retain, strict=True):
        if hook is not None:
            kind, s = hook
            t.register_hook((lambda g, s=s: g * s) if kind == "scale" else (lambda g, s=s: g + s))
        if keep and t is not a and t is not b:
            t.retain_grad()
            kept.append(t)
    h.sum().backward()
    grads = [t.grad if any(t is k for k in kept) else None for t in tensors]
    return [None if g is None else np.array(g.tolist()) for g in grads]


@given(hooked_programs())
def test_hooked_programs_match_pytorch(program):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")
    a0, b0 = np.array([0.3, -0.7]), np.array([1.1, 0.4])
    ours = run_program(mgx, program, a0, b0)
    theirs = run_program(torch, program, a0, b0)
    for i, (o, t) in enumerate(zip(ours, theirs, strict=True)):
        assert (o is None) == (t is None), f"tensor {i}: ours {o}, PyTorch {t}"
        if o is not None:
            np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-14, err_msg=f"tensor {i}")


# --------------------------------------------------------------------------- #
# Module forward hooks
# --------------------------------------------------------------------------- #
def test_a_forward_hook_sees_module_inputs_and_output_and_can_replace_the_output():
    layer = nn.ReLU()
    seen = []
    handle = layer.register_forward_hook(lambda m, inputs, out: seen.append((m, inputs, out)))
    x = mgx.tensor([-1.0, 2.0])
    y = layer(x)
    ((m, inputs, out),) = seen
    assert m is layer and inputs == (x,) and out is y
    replace = layer.register_forward_hook(lambda m, inputs, out: out * 10)
    np.testing.assert_array_equal(layer(x).data, [0.0, 20.0])
    handle.remove()
    replace.remove()
    np.testing.assert_array_equal(layer(x).data, [0.0, 2.0])
    assert len(seen) == 2  # the removed hook did not run on the third call


def test_forward_hooks_of_nested_modules_run_in_forward_order_and_a_pre_hook_can_change_inputs():
    model = nn.MLP([2, 3, 1], activation="relu", rng=np.random.default_rng(0))
    order = []
    for name, layer in model.layers.named_children():
        layer.register_forward_hook(lambda m, i, o, name=name: order.append(name))
    model.register_forward_hook(lambda m, i, o: order.append("model"))
    x = mgx.tensor([[1.0, -1.0]])
    y = model(x)
    assert order == ["0", "1", "2", "model"]
    pre = model.layers.register_forward_pre_hook(lambda m, inputs: inputs[0] * 0)
    # with inputs zeroed, the output is relu(b0) @ W2 + b2 = b2 (biases start at zero)
    np.testing.assert_array_equal(model(x).data, [[0.0]])
    pre.remove()
    np.testing.assert_array_equal(model(x).data, y.data)


def test_gradients_flow_through_an_output_a_forward_hook_replaced():
    layer = nn.Linear(2, 1, rng=np.random.default_rng(0))
    layer.register_forward_hook(lambda m, inputs, out: out * 3)
    x = mgx.tensor([[1.0, 2.0]])
    layer(x).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.data, [[3.0], [6.0]])  # 3 * x^T
    np.testing.assert_array_equal(layer.bias.grad.data, [3.0])


def test_module_hooks_need_a_callable_and_an_initialised_module():
    with pytest.raises(TypeError, match="callable"):
        nn.ReLU().register_forward_hook(None)

    class Broken(nn.Module):
        def __init__(self):
            pass  # forgot super().__init__()

    with pytest.raises(RuntimeError, match="super"):
        Broken().register_forward_hook(print)


def test_a_module_hook_is_not_a_child_parameter_or_state():
    layer = nn.Linear(2, 1, rng=np.random.default_rng(0))
    before = list(layer.state_dict())
    layer.register_forward_hook(lambda *a: None)
    assert list(layer.state_dict()) == before
    assert list(layer.named_children()) == []


# --------------------------------------------------------------------------- #
# the documented example: each layer's gradient norm during training
# --------------------------------------------------------------------------- #
def test_grad_norms_example_prints_each_layers_gradient_norm_and_leaves_training_unchanged(capsys):
    example = runpy.run_path(str(EXAMPLES / "grad_norms.py"), run_name="example")
    result = example["main"]("sigmoid", steps=12, every=5)
    out = capsys.readouterr().out
    names = ["layers.0", "layers.2", "layers.4", "layers.6", "layers.8"]
    assert list(result["grad_norms"]) == names
    assert all(len(log) == 12 for log in result["grad_norms"].values())  # one per backward
    lines = [line for line in out.splitlines() if line[:5].strip().isdigit()]
    assert [int(line.split()[0]) for line in lines] == [0, 5, 10, 11]

    # independently: the same model and data, one step by hand, no hooks
    model = example["make_model"]("sigmoid")
    x, t = example["spiral"]()
    F.cross_entropy(model(mgx.tensor(x)), t).backward()
    for name in names:
        want = np.linalg.norm(dict(model.named_parameters())[name + ".weight"].grad.data)
        assert result["grad_norms"][name][0] == pytest.approx(want, rel=1e-12)
    # the printed row of step 0 shows those norms
    printed = [float(v) for v in lines[0].split()[2:]]
    np.testing.assert_allclose(printed, [result["grad_norms"][n][0] for n in names], rtol=5e-3)
    # vanishing gradients with sigmoid: the first layer's is far smaller than the last's
    assert result["ratio"] < 1e-2

    # the hooks only watched: training without them gives the same losses, bit for bit
    assert example["train"](example["make_model"]("sigmoid"), 12) == result["losses"]
    # and main removed them: another step on its model logs nothing more
    trained = result["model"]
    F.cross_entropy(trained(mgx.tensor(x)), t).backward()
    assert all(len(log) == 12 for log in result["grad_norms"].values())
    assert all(len(log) == 12 for log in result["spreads"].values())

"""SGD and Adam against hand-written NumPy updates (and torch.optim where installed)."""

import numpy as np
import pytest

import microgradx as mgx
from microgradx import optim


def quadratic_grads(w, target):
    """Set w.grad for L = 0.5 * sum((w - target)**2) through the engine."""
    w.grad = None
    (0.5 * ((w - target) ** 2).sum()).backward()
    return w.grad.data.copy()


@pytest.mark.parametrize(("momentum", "weight_decay"), [(0.0, 0.0), (0.9, 0.0), (0.5, 0.1)])
def test_sgd_matches_the_update_written_by_hand(momentum, weight_decay):
    w = mgx.tensor([1.0, -2.0, 3.0], requires_grad=True)
    target = np.array([0.5, 0.5, 0.5])
    opt = optim.SGD([w], lr=0.1, momentum=momentum, weight_decay=weight_decay)
    ref, v = w.data.copy(), None
    for _ in range(4):
        g = quadratic_grads(w, target)
        opt.step()
        g = g + weight_decay * ref  # by hand, PyTorch's definition
        v = g if v is None else momentum * v + g
        ref = ref - 0.1 * (v if momentum else g)
        np.testing.assert_allclose(w.data, ref, rtol=1e-14)


def test_adam_matches_the_paper_written_by_hand():
    w = mgx.tensor([1.0, -2.0, 3.0], requires_grad=True)
    target = np.array([0.5, 0.5, 0.5])
    opt = optim.Adam([w], lr=0.01, betas=(0.8, 0.99), eps=1e-8)
    ref, m, v = w.data.copy(), np.zeros(3), np.zeros(3)
    for t in range(1, 6):
        g = quadratic_grads(w, target)
        opt.step()
        m = 0.8 * m + 0.2 * g
        v = 0.99 * v + 0.01 * g * g
        ref = ref - 0.01 * (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.99**t)) + 1e-8)
        np.testing.assert_allclose(w.data, ref, rtol=1e-13)


def test_optimizers_agree_with_torch_optim():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")
    for ours, theirs in [
        (
            lambda p: optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01),
            lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01),
        ),
        (lambda p: optim.Adam(p, lr=0.02), lambda p: torch.optim.Adam(p, lr=0.02)),
    ]:
        w0 = np.array([[1.0, -2.0], [0.5, 3.0]])
        w = mgx.tensor(w0, requires_grad=True)
        tw = torch.tensor(w0, requires_grad=True)
        a, b = ours([w]), theirs([tw])
        for _ in range(5):
            a.zero_grad()
            b.zero_grad()
            (w**3).sum().backward()
            (tw**3).sum().backward()
            a.step()
            b.step()
        np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-12)


def test_a_step_makes_an_old_graph_unusable_and_skips_params_without_grad():
    w = mgx.tensor([1.0, 2.0], requires_grad=True)
    u = mgx.tensor([5.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    opt = optim.SGD([w, u], lr=0.1)
    opt.step()
    np.testing.assert_array_equal(u.data, [5.0])  # no grad: untouched
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()  # w changed under the graph
    opt.zero_grad()
    assert w.grad is None


def test_sgd_minimises_a_quadratic():
    w = mgx.tensor([4.0, -3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.5)
    for _ in range(100):
        opt.zero_grad()
        ((w - mgx.tensor([1.0, 2.0])) ** 2).sum().backward()
        opt.step()
    np.testing.assert_allclose(w.data, [1.0, 2.0], atol=1e-6)


def test_bad_arguments_are_named():
    w = mgx.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="lr must be positive, got 0"):
        optim.SGD([w], lr=0)
    with pytest.raises(ValueError, match="empty list of parameters"):
        optim.Adam([])
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\), got 1.5"):
        optim.SGD([w], lr=0.1, momentum=1.5)
    with pytest.raises(TypeError, match="parameter 0 is not a Tensor that requires grad"):
        optim.SGD([mgx.tensor([1.0])], lr=0.1)

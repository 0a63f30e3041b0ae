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


# --------------------------------------------------------------------------- #
# every optimizer against torch.optim: 20 steps of the same trajectory in float64
# --------------------------------------------------------------------------- #
CONFIGS = {
    "SGD": ({"lr": 0.01}, "SGD"),
    "SGD momentum": ({"lr": 0.005, "momentum": 0.9}, "SGD"),
    "SGD nesterov wd": ({"lr": 0.005, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, "SGD"),
    "SGD dampening": ({"lr": 0.01, "momentum": 0.5, "dampening": 0.3}, "SGD"),
    "AdaGrad": ({"lr": 0.3}, "Adagrad"),
    "AdaGrad wd": ({"lr": 0.3, "eps": 1e-7, "weight_decay": 0.05}, "Adagrad"),
    "RMSprop": ({"lr": 0.01}, "RMSprop"),
    "RMSprop centered momentum wd": (
        {"lr": 0.01, "alpha": 0.9, "momentum": 0.8, "centered": True, "weight_decay": 0.1},
        "RMSprop",
    ),
    "Adam": ({"lr": 0.02}, "Adam"),
    "Adam wd": ({"lr": 0.02, "betas": (0.8, 0.99), "weight_decay": 0.1}, "Adam"),
    "AdamW": ({"lr": 0.02}, "AdamW"),
    "AdamW wd": ({"lr": 0.02, "weight_decay": 0.3, "eps": 1e-6}, "AdamW"),
}


def ours(name, params):
    kwargs, _ = CONFIGS[name]
    return getattr(optim, name.split()[0])(params, **kwargs)


def rosenbrock_like(w, b, lib):
    """A loss with curvature and coupling: sum over rows of (1 - w)^2 + 10 (b - w^2)^2, plus a matmul."""
    return ((1 - w) ** 2).sum() + 10 * ((b - w * w) ** 2).sum() + lib.tanh(w @ b.T).sum()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_each_optimizer_follows_torch_optim_for_20_steps(name):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")
    kwargs, torch_name = CONFIGS[name]
    rng = np.random.default_rng(0)
    w0, b0 = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    w, b = mgx.tensor(w0, requires_grad=True), mgx.tensor(b0, requires_grad=True)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    a = ours(name, [w, b])
    t = getattr(torch.optim, torch_name)([tw, tb], **kwargs)
    for _ in range(20):
        a.zero_grad()
        t.zero_grad()
        rosenbrock_like(w, b, mgx.functional).backward()
        rosenbrock_like(tw, tb, torch).backward()
        a.step()
        t.step()
        np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b.data, tb.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert np.isfinite(w.data).all() and not np.allclose(w.data, w0)  # a real trajectory: it moved


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_training_resumes_exactly_after_save_and_load(name, tmp_path):
    """10 steps, save model and optimizer, load both into fresh objects, 10 more: the same weights,
    bit for bit, as 20 uninterrupted steps."""

    def run(w, b, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            rosenbrock_like(w, b, mgx.functional).backward()
            opt.step()

    rng = np.random.default_rng(1)
    w0, b0 = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    w, b = mgx.tensor(w0, requires_grad=True), mgx.tensor(b0, requires_grad=True)
    opt = ours(name, [w, b])
    run(w, b, opt, 20)

    w2, b2 = mgx.tensor(w0, requires_grad=True), mgx.tensor(b0, requires_grad=True)
    opt2 = ours(name, [w2, b2])
    run(w2, b2, opt2, 10)
    path = mgx.save(
        {"w": w2, "b": b2, **{"optim." + k: v for k, v in opt2.state_dict().items()}}, tmp_path / "c.npz"
    )
    del w2, b2, opt2
    loaded = mgx.load(path)
    w3, b3 = mgx.tensor(loaded["w"], requires_grad=True), mgx.tensor(loaded["b"], requires_grad=True)
    opt3 = ours(name, [w3, b3])
    opt3.load_state_dict({k[len("optim.") :]: v for k, v in loaded.items() if k.startswith("optim.")})
    run(w3, b3, opt3, 10)
    assert w3.data.tobytes() == w.data.tobytes() and b3.data.tobytes() == b.data.tobytes()


def test_optimizer_state_dict_errors_change_nothing():
    w = mgx.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    w.grad = mgx.tensor([1.0, 1.0])
    opt.step()
    sd = opt.state_dict()
    assert list(sd) == ["lr", "beta1", "beta2", "eps", "weight_decay", "0.step", "0.exp_avg", "0.exp_avg_sq"]
    before = {k: v.copy() for k, v in opt.state_dict().items()}
    with pytest.raises(ValueError, match=r"'0.exp_avg' has shape \(3,\) but parameter 0 needs \(2,\)"):
        opt.load_state_dict({**sd, "lr": 0.5, "0.exp_avg": np.zeros(3)})
    with pytest.raises(KeyError, match=r"unexpected key '1.exp_avg'"):
        opt.load_state_dict({**sd, "1.exp_avg": np.zeros(2)})
    with pytest.raises(KeyError, match="missing 'beta2'"):
        opt.load_state_dict({k: v for k, v in sd.items() if k != "beta2"})
    after = opt.state_dict()
    assert list(after) == list(before) and all(np.array_equal(after[k], before[k]) for k in before)


def test_the_new_arguments_are_checked():
    w = mgx.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"RMSprop: alpha must be in \[0, 1\), got 1.0"):
        optim.RMSprop([w], alpha=1.0)
    with pytest.raises(ValueError, match=r"Adam: betas must be a pair"):
        optim.Adam([w], betas=0.9)
    with pytest.raises(ValueError, match=r"AdamW: weight_decay must be >= 0, got -1"):
        optim.AdamW([w], weight_decay=-1)
    with pytest.raises(ValueError, match="AdaGrad: lr must be positive, got nan"):
        optim.AdaGrad([w], lr=float("nan"))
    with pytest.raises(TypeError, match="SGD: lr must be a number, got '0.1'"):
        optim.SGD([w], lr="0.1")
    assert optim.Adagrad is optim.AdaGrad  # PyTorch's spelling


def test_the_book_optimizer_race_first_updates_by_hand():
    """Deep Learning from Scratch 6.1, f(x, y) = x**2 / 20 + y**2 from (-7, 2): the first three
    updates of each optimizer, written out by hand from the book's update rules."""

    def grad(p):
        return np.array([p[0] / 10.0, 2.0 * p[1]])

    def book(name, steps=3):
        p, v, h, m, s = np.array([-7.0, 2.0]), np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2)
        out = []
        for t in range(1, steps + 1):
            g = grad(p)
            if name == "SGD":
                p = p - 0.95 * g
            elif name == "Momentum":  # v = a v - lr g; p += v
                v = 0.9 * v - 0.1 * g
                p = p + v
            elif name == "AdaGrad":  # h += g*g; p -= lr g / (sqrt(h) + 1e-7)
                h = h + g * g
                p = p - 1.5 * g / (np.sqrt(h) + 1e-7)
            else:  # Adam, bias-corrected as in the paper
                m = 0.9 * m + 0.1 * g
                s = 0.999 * s + 0.001 * g * g
                p = p - 0.3 * (m / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
            out.append(p)
        return out

    makers = {
        "SGD": lambda q: optim.SGD(q, lr=0.95),
        "Momentum": lambda q: optim.SGD(q, lr=0.1, momentum=0.9),
        "AdaGrad": lambda q: optim.AdaGrad(q, lr=1.5, eps=1e-7),
        "Adam": lambda q: optim.Adam(q, lr=0.3),
    }
    for name, make in makers.items():
        p = mgx.tensor([-7.0, 2.0], requires_grad=True)
        opt = make([p])
        for expected in book(name):
            opt.zero_grad()
            (p[0] ** 2 / 20 + p[1] ** 2).backward()
            opt.step()
            np.testing.assert_allclose(p.data, expected, rtol=1e-12, err_msg=name)


# --------------------------------------------------------------------------- #
# learning-rate schedules and gradient clipping against PyTorch
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "ours_sched, torch_sched",
    [
        (lambda o: optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), "StepLR(o, step_size=3, gamma=0.5)"),
        (lambda o: optim.lr_scheduler.CosineAnnealingLR(o, T_max=7), "CosineAnnealingLR(o, T_max=7)"),
        (
            lambda o: optim.lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
            "CosineAnnealingLR(o, T_max=5, eta_min=0.01)",
        ),
    ],
)
def test_schedulers_set_the_learning_rates_torch_sets(ours_sched, torch_sched):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")
    w = mgx.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.2)
    sched = ours_sched(opt)
    o = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    tsched = eval("torch.optim.lr_scheduler." + torch_sched, {"torch": torch, "o": o})
    for epoch in range(20):
        assert opt.lr == pytest.approx(o.param_groups[0]["lr"], rel=1e-12, abs=1e-15), epoch
        o.step()
        tsched.step()
        sched.step()
        assert sched.get_last_lr() == [opt.lr]


def test_a_scheduler_resumes_from_its_state_dict():
    opt = optim.SGD([mgx.tensor([1.0], requires_grad=True)], lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(5):
        sched.step()
    sd = sched.state_dict()
    opt2 = optim.SGD([mgx.tensor([1.0], requires_grad=True)], lr=1.0)
    sched2 = optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.1)
    sched2.load_state_dict(sd)
    assert opt2.lr == opt.lr == pytest.approx(0.01)
    with pytest.raises(ValueError, match="step_size must be a positive int, got 0"):
        optim.lr_scheduler.StepLR(opt, step_size=0)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: run TORCH_ORACLE=1 make test")
    rng = np.random.default_rng(2)
    arrays = [rng.normal(size=s) for s in [(3, 2), (2,), (4,)]]
    ps = [mgx.tensor(a, requires_grad=True) for a in arrays]
    tps = [torch.tensor(a, requires_grad=True) for a in arrays]
    # a + b style sharing: the backward of a sum hands the same gradient array to several inputs
    (ps[0].sum() * 2 + ps[1].sum() + ps[2].sum() + (ps[0] ** 2).sum()).backward()
    (tps[0].sum() * 2 + tps[1].sum() + tps[2].sum() + (tps[0] ** 2).sum()).backward()
    total = mgx.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type)
    assert float(total) == pytest.approx(float(ttotal), rel=1e-12)
    for p, tp in zip(ps, tps, strict=True):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_scales_a_shared_gradient_array_once():
    a, b = mgx.tensor([3.0], requires_grad=True), mgx.tensor([4.0], requires_grad=True)
    (a + b).sum().backward()  # both gradients: [1.0]
    mgx.nn.utils.clip_grad_norm_([a, b], max_norm=0.5)
    np.testing.assert_allclose([a.grad.item(), b.grad.item()], [0.5 / (2**0.5 + 1e-6)] * 2, rtol=1e-12)
    c = mgx.tensor([1.0, float("nan")], requires_grad=True)
    (c * c).sum().backward()  # grad 2c: one NaN
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is nan"):
        mgx.nn.utils.clip_grad_norm_([c], 1.0, error_if_nonfinite=True)

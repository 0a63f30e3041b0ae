"""The book's chapters 5 and 6 as scripts (examples/book/ch5_*.py, ch6_*.py), in their fast modes.

Each test loads a script with runpy, calls its main() with a temporary path,
and checks the numbers against an independent computation named next to each
assertion (a hand-written update, a closed form, a hand-derived gradient).
"""

import runpy
import struct
from pathlib import Path

import numpy as np
import pytest

import microgradx as mgx
from microgradx.data import load_digits

BOOK = Path(__file__).resolve().parent.parent / "examples" / "book"


def load(name):
    """The script's functions, without running its __main__ block."""
    return runpy.run_path(str(BOOK / name), run_name="example")


def _png(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000, path


# ---------------------------------------------------------------------- ch. 5


def _backprop_by_hand(params, x, t, activation):
    """The book's Affine / Sigmoid|Relu / SoftmaxWithLoss backward passes, in NumPy."""
    a1 = x @ params["W1"] + params["b1"]
    z1 = 1 / (1 + np.exp(-a1)) if activation == "sigmoid" else np.maximum(a1, 0)
    scores = z1 @ params["W2"] + params["b2"]
    y = np.exp(scores - scores.max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    dy = y.copy()
    dy[np.arange(len(t)), t] -= 1
    dy /= len(t)
    dz1 = dy @ params["W2"].T
    da1 = dz1 * z1 * (1 - z1) if activation == "sigmoid" else dz1 * (a1 > 0)
    return {"W1": x.T @ da1, "b1": da1.sum(axis=0), "W2": z1.T @ dy, "b2": dy.sum(axis=0)}


def test_two_layer_net_gradient_check(tmp_path, capsys):
    results = load("ch5_two_layer_net.py")["main"](str(tmp_path / "gc.png"), fast=True)
    x, t = results["x"], results["t"]
    assert x.shape == (3, 64) and t.shape == (3,)
    out = capsys.readouterr().out
    for activation in ("sigmoid", "relu"):
        check = results[activation]
        assert list(check["diffs"]) == ["W1", "b1", "W2", "b2"]
        for key, diff in check["diffs"].items():
            assert diff < 1e-7, (activation, key, diff)  # the book prints 1e-13 to 1e-10
            # the printed number is the mean |difference| of the two returned gradients ...
            assert diff == np.mean(np.abs(check["backprop"][key] - check["numerical"][key]))
            assert f"{key}:{diff!r}" in out
        # ... and backprop is the book's layer-by-layer backward pass, written out in NumPy
        by_hand = _backprop_by_hand(check["params"], x, t, activation)
        for key in by_hand:
            np.testing.assert_allclose(check["backprop"][key], by_hand[key], rtol=1e-9, atol=1e-15)
        # b2's difference is the central difference's truncation error h**2/6 * f''' where all
        # logits are ~0 (softmax y = 0.1 everywhere): f''' = y (1 - y) (1 - 2 y) for every element,
        # 1.2e-10, whatever the data; the book prints b2:1.1945999745e-10
        assert check["diffs"]["b2"] == pytest.approx(1e-8 / 6 * 0.1 * 0.9 * 0.8, rel=0.03)
    # no hidden pre-activation within h = 1e-4 of the ReLU's kink, recomputed from the weights
    relu = results["relu"]["params"]
    assert np.abs(x @ relu["W1"] + relu["b1"]).min() == results["relu"]["nearest_kink"] > 1e-4
    _png(tmp_path / "gc.png")


def _write_idx(path, array):
    code = {np.uint8: 0x08}[array.dtype.type]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.tobytes())


def test_two_layer_net_trains_on_mnist_files(tmp_path):
    # a stand-in for MNIST in its IDX format: 1000 + 100 random "images" whose label is
    # which third of the image is brightest, so that a net can learn it
    rng = np.random.default_rng(0)
    for split, n in (("train", 1000), ("t10k", 100)):
        labels = rng.integers(0, 3, n).astype(np.uint8)
        images = rng.integers(0, 100, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, :, 9 * label : 9 * label + 10] += 150
        _write_idx(tmp_path / f"{split}-images-idx3-ubyte", images)
        _write_idx(tmp_path / f"{split}-labels-idx1-ubyte", labels)
    history = load("ch5_two_layer_net.py")["train_mnist"](tmp_path, epochs=3, out=str(tmp_path / "mnist.png"))
    assert len(history["train_acc"]) == len(history["test_acc"]) == 3
    assert history["test_acc"][-1] > 0.9  # three classes: chance is 1/3
    _png(tmp_path / "mnist.png")


# ---------------------------------------------------------------------- ch. 6


def _by_hand(name, steps=3, p=(-7.0, 2.0)):
    """The first updates of the book's optimizers (common/optimizer.py), Adam as in the paper."""
    p = np.array(p)
    v = np.zeros(2)  # Momentum's velocity, AdaGrad's h, Adam's second moment
    m = np.zeros(2)
    path = []
    for k in range(1, steps + 1):
        g = np.array([p[0] / 10.0, 2.0 * p[1]])  # the book's df(x, y)
        if name == "SGD":
            p = p - 0.95 * g
        elif name == "Momentum":
            v = 0.9 * v - 0.1 * g
            p = p + v
        elif name == "AdaGrad":
            v = v + g * g
            p = p - 1.5 * g / (np.sqrt(v) + 1e-7)
        else:  # Adam, Kingma and Ba's Algorithm 1
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            p = p - 0.3 * (m / (1 - 0.9**k)) / (np.sqrt(v / (1 - 0.999**k)) + 1e-8)
        path.append(p)
    return np.array(path)


def test_optimizer_race_first_updates_by_hand(tmp_path):
    paths = load("ch6_optimizer_race.py")["main"](str(tmp_path / "race.png"))
    assert list(paths) == ["SGD", "Momentum", "AdaGrad", "Adam"]
    for name, path in paths.items():
        assert path.shape == (31, 2)
        np.testing.assert_array_equal(path[0], [-7.0, 2.0])
        np.testing.assert_allclose(path[1:4], _by_hand(name), rtol=1e-12, err_msg=name)
    # SGD multiplies x by (1 - 0.95 / 10) and y by (1 - 0.95 * 2) each step
    k = np.arange(31)
    np.testing.assert_allclose(paths["SGD"], np.c_[-7 * 0.905**k, 2 * (-0.9) ** k], rtol=1e-12)
    _png(tmp_path / "race.png")


def test_weight_init_histograms(tmp_path):
    results = load("ch6_weight_init.py")["main"](str(tmp_path))
    for acts in results.values():
        assert acts.shape == (5, 1000, 100)  # 5 layers, 1000 inputs, 100 units
    std1, small, xavier = (results[("sigmoid", k)] for k in ("std=1", "std=0.01", "Xavier"))
    saturated = lambda a: np.mean((a < 0.1) | (a > 0.9), axis=(1, 2))  # noqa: E731
    # std 1: pre-activations of std ~sqrt(100 * E[x^2]) >= 5, so most sigmoids sit near 0 or 1
    assert (saturated(std1) > 0.5).all()
    # std 0.01: pre-activations of std <= 0.1, every sigmoid close to 0.5
    assert (np.abs(small - 0.5) < 0.2).all() and (small.std(axis=(1, 2)) < 0.05).all()
    # Xavier: spread out (std > 0.1 in every layer), and few saturated
    assert (xavier.std(axis=(1, 2)) > 0.1).all() and (saturated(xavier) < 0.05).all()
    # ReLU: E[a^2] is kept by He (2 / n), halved per layer by Xavier (1 / n), and divided by
    # 5000 per layer by std 0.01 (0.01**2 * 100 / 2)
    stds = {k: results[("relu", k)].std(axis=(1, 2)) for k in ("He", "Xavier", "std=0.01")}
    assert ((stds["He"] / stds["He"][0] > 0.5) & (stds["He"] / stds["He"][0] < 2)).all()
    assert stds["Xavier"][4] / stds["Xavier"][0] < 0.5
    assert stds["std=0.01"][4] / stds["std=0.01"][0] < 1e-3
    assert 0.4 < np.mean(results[("relu", "He")] == 0) < 0.6  # half the ReLUs are off
    for fig in ("6-10", "6-11", "6-13", "6-14"):
        _png(tmp_path / f"ch6_weight_init_fig{fig}.png")


def test_batch_norm_rescues_bad_initial_weights(tmp_path):
    results = load("ch6_batch_norm.py")["main"](str(tmp_path / "bn.png"), fast=True)
    assert list(results) == pytest.approx([1.0, 10**-1.6])  # np.logspace(0, -4, 6)[[0, 2]]
    _, _, y_train, _ = load_digits()
    for curves in results.values():
        assert curves["batchnorm"].shape == curves["plain"].shape == (5,)
    # std 0.0251: without batch norm the signal vanishes and nothing is learnt in 5 epochs
    # (0.107, one class); with it, 0.870 (seed 0)
    small = results[list(results)[1]]
    assert small["batchnorm"][-1] > small["plain"][-1] + 0.5
    # std 1: without batch norm the logits overflow in the first epoch; NaN logits make argmax
    # answer class 0, so the accuracy is the share of zeros among the 1000 labels
    big = results[1.0]
    assert big["diverged"] == {"batchnorm": None, "plain": 1}
    assert big["plain"][-1] == np.mean(y_train[:1000] == 0)
    assert big["batchnorm"][-1] > big["plain"][-1] + 0.1  # 0.253 against 0.102 (seed 0)
    _png(tmp_path / "bn.png")


def test_overfitting_weight_decay_and_dropout(tmp_path):
    script = load("ch6_overfitting.py")
    results = script["main"](str(tmp_path / "of.png"), fast=True)
    # SGD(weight_decay=0.1) on the weights takes the step of the loss with 0.5 * 0.1 * ||W||^2
    assert results["weight_decay_diff"] < 1e-15
    # ... whose gradient is 0.1 * W for each weight matrix and nothing for the biases
    mgx.manual_seed(0)
    model = script["mlp"]()
    script["l2_term"](model, 0.1).backward()
    for name, p in model.named_parameters():
        if name.endswith("weight"):
            np.testing.assert_allclose(p.grad.data, 0.1 * p.data, rtol=1e-15)
        else:
            assert p.grad is None, name
    curves = {name: results[name] for name in ("no regularisation", "weight decay 0.1", "dropout 0.15")}
    for c in curves.values():
        assert all(c[k].shape == (100,) for k in ("train", "test", "train_loss", "test_loss"))
    # the gaps, recomputed from the curves: train - test accuracy and test - train loss, mean of
    # the last 10 epochs (seed 0: accuracy 0.065, 0.031, 0.056; loss 0.125, 0.030, 0.063)
    acc_gap = {k: np.mean(c["train"][-10:] - c["test"][-10:]) for k, c in curves.items()}
    loss_gap = {k: np.mean(c["test_loss"][-10:] - c["train_loss"][-10:]) for k, c in curves.items()}
    plain = "no regularisation"
    assert acc_gap["weight decay 0.1"] < acc_gap[plain]
    assert loss_gap["weight decay 0.1"] < 0.5 * loss_gap[plain]
    assert loss_gap["dropout 0.15"] < loss_gap[plain]
    # weight decay keeps the net from fitting the 300 samples as closely
    assert curves["weight decay 0.1"]["train"][-1] < curves[plain]["train"][-1] - 0.05
    _png(tmp_path / "of.png")

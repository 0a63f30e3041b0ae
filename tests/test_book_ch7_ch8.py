"""The book's chapters 7 and 8 as scripts (examples/book/ch7_simple_convnet.py, ch8_deep_convnet.py).

Each test loads a script with runpy, calls its main() with a temporary path
(fast mode unless the test says otherwise), and checks its numbers against an
independent computation: the trained network's forward pass written out in
NumPy (convolution as a loop over the kernel positions, pooling as a reshape),
and accuracies counted from those logits.
"""

import io
import runpy
import struct
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from tqdm import tqdm

from microgradx.data import load_digits

BOOK = Path(__file__).resolve().parent.parent / "examples" / "book"


def load(name):
    """The script's functions, without running its __main__ block."""
    return runpy.run_path(str(BOOK / name), run_name="example")


def _png_shape(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    return matplotlib.image.imread(str(path)).shape


# ------------------------------------------------ a NumPy forward pass, written out


def _conv(x, W, b, pad):
    """Cross-correlation, one kernel position at a time:
    out[n, f, y, x] = sum over c, i, j of xpad[n, c, y + i, x + j] * W[f, c, i, j] + b[f]."""
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kh, kw = W.shape[2:]
    oh, ow = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    out = np.zeros((x.shape[0], oh, ow, W.shape[0]))
    for i in range(kh):
        for j in range(kw):  # (N, oh, ow, C) @ (C, F)
            out += x[:, :, i : i + oh, j : j + ow].transpose(0, 2, 3, 1) @ W[:, :, i, j].T
    return (out + b).transpose(0, 3, 1, 2)


def _pool2(x):
    n, c, h, w = x.shape
    x = x[:, :, : h // 2 * 2, : w // 2 * 2]
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def _numpy_forward(model, x):
    """The logits of an nn.Sequential of Conv2d/BatchNorm2d/ReLU/MaxPool2d/Flatten/Dropout/Linear
    in eval mode, from its parameters and buffers only."""
    for layer in model:
        kind = type(layer).__name__
        if kind == "Conv2d":
            assert layer.stride == (1, 1)
            x = _conv(x, layer.weight.data, layer.bias.data, layer.padding[0])
        elif kind == "BatchNorm2d":  # running statistics: eval mode
            shape = (1, -1, 1, 1)
            x = (x - layer.running_mean.data.reshape(shape)) / np.sqrt(
                layer.running_var.data.reshape(shape) + layer.eps
            )
            x = x * layer.weight.data.reshape(shape) + layer.bias.data.reshape(shape)
        elif kind == "ReLU":
            x = np.maximum(x, 0)
        elif kind == "MaxPool2d":
            assert layer.kernel_size == layer.stride == 2
            x = _pool2(x)
        elif kind == "Flatten":
            x = x.reshape(len(x), -1)
        elif kind == "Dropout":  # nothing in eval mode
            pass
        elif kind == "Linear":
            x = x @ layer.weight.data + layer.bias.data
        else:
            raise AssertionError(f"unexpected layer {kind}")
    return x


# ---------------------------------------------------------------------- ch. 7


def test_simple_convnet_gradient_check():
    check = load("ch7_simple_convnet.py")["gradient_check"]()
    params, x, t = check["params"], check["x"], check["t"]
    assert params["W1"].shape == (10, 1, 3, 3) and params["W2"].shape == (160, 10)
    assert x.shape == (1, 1, 10, 10)
    # backprop is the book's own layers' backward pass (benchmarks/book_layers.py, the book's code)
    book = runpy.run_path(str(BOOK.parent.parent / "benchmarks" / "book_layers.py"))
    layers = [
        book["Convolution"](params["W1"], params["b1"]),
        book["Relu"](),
        book["Pooling"](2, 2, stride=2),
        book["Affine"](params["W2"], params["b2"]),
        book["Relu"](),
        book["Affine"](params["W3"], params["b3"]),
    ]
    h = x
    for layer in layers:
        h = layer.forward(h)
    last = book["SoftmaxWithLoss"]()
    last.forward(h, t)
    d = last.backward()
    for layer in reversed(layers):
        d = layer.backward(d)
    by_hand = {"W1": layers[0].dW, "b1": layers[0].db, "W2": layers[3].dW, "b2": layers[3].db}
    by_hand.update({"W3": layers[5].dW, "b3": layers[5].db})
    for key, grad in by_hand.items():
        np.testing.assert_allclose(check["backprop"][key], grad, rtol=1e-10, atol=1e-16, err_msg=key)
    # and agrees with the central differences: no kink within h = 1e-4 (recomputed from the layers)
    conv = layers[0].forward(x)
    hidden = layers[3].forward(layers[2].forward(np.maximum(conv, 0)))
    assert min(np.abs(conv).min(), np.abs(hidden).min()) >= check["nearest_kink"] > 1e-4
    for key, diff in check["diffs"].items():
        assert diff == np.mean(np.abs(check["backprop"][key] - check["numerical"][key]))
        if key != "b3":
            assert diff < 1e-11, (key, diff)
    # b3: the central difference's truncation error h**2/6 * y (1 - y) (1 - 2 y) with the logits
    # all near 0 (y = 0.1 for every class), as in chapter 5
    assert check["diffs"]["b3"] == pytest.approx(1e-8 / 6 * 0.1 * 0.9 * 0.8, rel=0.03)


def test_simple_convnet_fast_run_and_its_filter_figure(tmp_path):
    result = load("ch7_simple_convnet.py")["main"](str(tmp_path / "filters.png"), fast=True, progress=False)
    model = result["model"]
    # the book's layer sequence: conv - relu - pool - affine - relu - affine
    assert [type(m).__name__ for m in model] == [
        "Conv2d",
        "ReLU",
        "MaxPool2d",
        "Flatten",
        "Linear",
        "ReLU",
        "Linear",
    ]
    assert model[0].weight.shape == (30, 1, 3, 3) and model[4].weight.shape == (30 * 4 * 4, 100)
    assert len(result["loss"]) == len(result["train_acc"]) == len(result["test_acc"]) == 8
    assert result["loss"][-1] < result["loss"][0] / 5  # 1.35 -> 0.09 with seed 0

    # the reported accuracies, recounted from logits computed in plain NumPy
    X_train, X_test, y_train, y_test = load_digits()
    logits = _numpy_forward(model, X_test.reshape(-1, 1, 8, 8))
    np.testing.assert_allclose(logits, model(X_test.reshape(-1, 1, 8, 8)).data, rtol=1e-10, atol=1e-10)
    test_acc = float((logits.argmax(axis=1) == y_test).mean())
    assert result["final_test_acc"] == result["test_acc"][-1] == test_acc
    train_logits = _numpy_forward(model, X_train.reshape(-1, 1, 8, 8))
    assert result["train_acc"][-1] == float((train_logits.argmax(axis=1) == y_train).mean())
    assert test_acc >= 0.965  # seed 0: 0.9721 (349 of 359) after 8 epochs; chance is 0.1

    # Figure 7-24: a 4 x 8 grid per panel holding the 30 filters, before, after, and the change
    before, after = result["before"], result["after"]
    assert before.shape == after.shape == (30, 1, 3, 3)
    assert 0.8 < before.std() / np.sqrt(2 / 9) < 1.2  # He: N(0, 2 / fan_in), fan_in = 1 * 3 * 3
    np.testing.assert_array_equal(after, model[0].weight.data)
    assert np.abs(after - before).max() > 0.05  # training moved the filters
    figure = result["figure"]
    assert figure["grid"] == (4, 8)
    expected = {"before training": before, "after training": after, "change": after - before}
    assert list(figure["panels"]) == list(expected)
    for title, weights in expected.items():
        drawn = figure["panels"][title]
        assert len(drawn) == 30, title
        for i in range(30):
            np.testing.assert_array_equal(drawn[i], weights[i, 0])
    # three panels of 8 x 0.6 + 0.3 inches, 4 x 0.6 + 0.6 inches tall, at 100 dpi
    assert _png_shape(tmp_path / "filters.png")[:2] == (300, 1530)
    assert _png_shape(tmp_path / "ch7_accuracy.png")[:2] == (380, 500)


def test_simple_convnet_full_run_reaches_98_5_percent(tmp_path):
    # the script's default training (50 epochs, about 5 s on one core); seeds 0 to 9 all give
    # 354 to 357 correct of 359 test images (98.6 % to 99.4 %); seed 0 gives 356
    result = load("ch7_simple_convnet.py")["main"](str(tmp_path / "f.png"), progress=False)
    assert len(result["test_acc"]) == 50
    X_train, X_test, y_train, y_test = load_digits()
    logits = _numpy_forward(result["model"], X_test.reshape(-1, 1, 8, 8))
    correct = int((logits.argmax(axis=1) == y_test).sum())
    assert result["final_test_acc"] == correct / 359
    assert correct >= 354  # 354 / 359 = 0.9861 >= 0.985


def _write_idx(path, array):
    code = {np.uint8: 0x08}[array.dtype.type]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.tobytes())


def test_simple_convnet_trains_on_mnist_files(tmp_path, capsys):
    # a stand-in for MNIST in its IDX format: 500 + 1100 random 28x28 "images" whose label is
    # which third of the image holds a bright vertical bar, so that a conv net can learn it
    rng = np.random.default_rng(0)
    for split, n in (("train", 500), ("t10k", 1100)):
        labels = rng.integers(0, 3, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, 4:24, 9 * label + 3 : 9 * label + 6] += 190
        _write_idx(tmp_path / f"{split}-images-idx3-ubyte", images)
        _write_idx(tmp_path / f"{split}-labels-idx1-ubyte", labels)
    result = load("ch7_simple_convnet.py")["main"](
        str(tmp_path / "filters.png"), mnist=tmp_path, epochs=2, progress=False
    )
    model = result["model"]
    # the book's SimpleConvNet: 30 filters of 5x5, no padding: 24x24, pooled to 12x12
    assert model[0].weight.shape == (30, 1, 5, 5) and model[0].padding == (0, 0)
    assert model[4].weight.shape == (30 * 12 * 12, 100)
    # the book's initialisation: every weight from N(0, 0.01**2)
    assert 0.008 < result["before"].std() < 0.012
    assert len(result["test_acc"]) == 2
    # per epoch on the first 1000 test images (the book's evaluate_sample_num_per_epoch), at the
    # end on all 1100: recounted from NumPy logits
    X_test = np.frombuffer((tmp_path / "t10k-images-idx3-ubyte").read_bytes()[16:], np.uint8)
    X_test = X_test.reshape(-1, 1, 28, 28) / 255.0
    y_test = np.frombuffer((tmp_path / "t10k-labels-idx1-ubyte").read_bytes()[8:], np.uint8)
    predicted = _numpy_forward(model, X_test).argmax(axis=1)
    assert result["test_acc"][-1] == float((predicted[:1000] == y_test[:1000]).mean())
    assert result["final_test_acc"] == float((predicted == y_test).mean())
    assert result["final_test_acc"] > 0.9  # three classes: chance is 1/3
    assert result["figure"]["grid"] == (4, 8)
    assert result["figure"]["panels"]["after training"][0].shape == (5, 5)
    assert f"MNIST from {tmp_path}" in capsys.readouterr().out
    _png_shape(tmp_path / "filters.png")


def test_simple_convnet_shows_a_tqdm_bar_per_epoch(tmp_path, capsys):
    script = load("ch7_simple_convnet.py")
    bars = []

    class Recorded(tqdm):  # the script's bar, drawn into a string even off a terminal
        def __init__(self, *args, **kwargs):
            kwargs.update(disable=False, file=io.StringIO(), mininterval=0, miniters=1)
            super().__init__(*args, **kwargs)
            bars.append(self)

    script["train"].__globals__["tqdm"] = Recorded
    script["main"](str(tmp_path / "f.png"), fast=True, epochs=2)
    # one bar per epoch over its 29 batches (1438 images, 50 a batch), run to the end
    assert [(b.desc, b.total, b.n) for b in bars] == [("epoch 1/2", 29, 29), ("epoch 2/2", 29, 29)]
    assert "29/29" in bars[0].fp.getvalue() and "loss=" in bars[0].fp.getvalue()
    lines = [line.split()[:2] for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert lines == [["epoch", "1"], ["epoch", "2"]]


def test_simple_convnet_piped_prints_one_line_per_epoch(tmp_path):
    out = tmp_path / "f.png"
    run = subprocess.run(
        [sys.executable, str(BOOK / "ch7_simple_convnet.py"), str(out), "--fast", "--epochs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one pipe for both, as `python ... 2>&1 | tee log`
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout
    assert "\r" not in run.stdout and "%|" not in run.stdout, run.stdout  # no bar in a pipe
    lines = [line.split()[:2] for line in run.stdout.splitlines() if line.startswith("epoch")]
    assert lines == [["epoch", "1"], ["epoch", "2"]]
    assert f"figure: {out}" in run.stdout and f"figure: {tmp_path / 'ch7_accuracy.png'}" in run.stdout
    assert out.exists() and (tmp_path / "ch7_accuracy.png").exists()


# ---------------------------------------------------------------------- ch. 8


def test_deep_convnet_fast_run(tmp_path):
    result = load("ch8_deep_convnet.py")["main"](str(tmp_path / "curve.png"), fast=True, progress=False)
    model = result["model"]
    kinds = [type(m).__name__ for m in model]
    # two blocks of (conv - batch norm - relu) x 2 - pool, then affine - relu - dropout - affine
    block = ["Conv2d", "BatchNorm2d", "ReLU"] * 2 + ["MaxPool2d"]
    assert kinds == block * 2 + ["Flatten", "Linear", "ReLU", "Dropout", "Linear"]
    assert [m.weight.shape for m in model if type(m).__name__ == "Conv2d"] == [
        (16, 1, 3, 3),
        (16, 16, 3, 3),
        (32, 16, 3, 3),
        (32, 32, 3, 3),
    ]
    assert model[-2].p == 0.5
    # parameters counted by hand: convolutions (weights + biases), batch norms (2 per channel),
    # then 128 * 50 + 50 and 50 * 10 + 10
    convs = (9 * 16 + 16) + (144 * 16 + 16) + (144 * 32 + 32) + (288 * 32 + 32)
    assert result["n_params"] == convs + 2 * (16 + 16 + 32 + 32) + 128 * 50 + 50 + 50 * 10 + 10
    assert len(result["loss"]) == len(result["test_acc"]) == 4
    assert result["loss"][-1] < result["loss"][0] / 2  # 2.50 -> 0.88 with seed 0

    # batch norm's running statistics were learnt (they start at 0 and 1)
    assert np.abs(model[1].running_mean.data).max() > 0.01
    # eval-mode predictions, recomputed in NumPy from the weights and running statistics
    X_train, X_test, y_train, y_test = load_digits()
    logits = _numpy_forward(model, X_test.reshape(-1, 1, 8, 8))
    predicted = logits.argmax(axis=1)
    np.testing.assert_array_equal(result["predicted"], predicted)
    np.testing.assert_array_equal(result["wrong"], np.flatnonzero(predicted != y_test))
    assert result["test_acc"][-1] == float((predicted == y_test).mean()) >= 0.93  # seed 0: 0.9443
    train_predicted = _numpy_forward(model, X_train.reshape(-1, 1, 8, 8)).argmax(axis=1)
    assert result["train_acc"][-1] == float((train_predicted == y_train).mean())
    assert _png_shape(tmp_path / "curve.png")[:2] == (360, 900)
    _png_shape(tmp_path / "ch8_mistakes.png")


@pytest.mark.parametrize("n_wrong, grid", [(0, (1, 1)), (5, (1, 5)), (23, (3, 10))])
def test_deep_convnet_mistakes_figure(tmp_path, n_wrong, grid):
    draw = load("ch8_deep_convnet.py")["draw_mistakes"]
    images = np.random.default_rng(0).random((n_wrong, 8, 8))
    labels, answers = np.arange(n_wrong) % 10, (np.arange(n_wrong) + 3) % 10
    drawn = draw(images, labels, answers, str(tmp_path / "m.png"))
    assert drawn["grid"] == grid  # at most 10 a row
    assert drawn["titles"] == [f"{a} -> {b}" for a, b in zip(labels, answers, strict=True)]
    _png_shape(tmp_path / "m.png")

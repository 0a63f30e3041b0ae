"""Weight initialisation, as in ``torch.nn.init``: each function fills a tensor in place and returns it.

The random ones draw from the generator that ``mgx.manual_seed`` seeds.

Fans: a 2-D weight is ``(in_features, out_features)`` here, as in the book
(``x @ W``), so ``fan_in = shape[0]`` and ``fan_out = shape[1]`` (PyTorch's
``Linear`` weight is the transpose); a convolution weight
``(out_channels, in_channels, kh, kw)`` has ``fan_in = in_channels * kh * kw``
and ``fan_out = out_channels * kh * kw``, as in PyTorch.

The book's initial values (*Deep Learning from Scratch*, 6.2): its "Xavier",
std ``1 / sqrt(n)`` with ``n`` the number of inputs of a node, is
``kaiming_normal_(w, nonlinearity="linear")``; its "He", std ``sqrt(2 / n)``,
is ``kaiming_normal_(w, nonlinearity="relu")``. Glorot and Bengio's Xavier
(``xavier_normal_``, PyTorch's) uses ``gain * sqrt(2 / (fan_in + fan_out))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import random as _random
from ..autograd import bump_version, no_grad
from ..tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant_",
    "fans",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]


def _fill(t: Tensor, name: str, make: Callable[[tuple[int, ...]], np.ndarray]) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"nn.init.{name}: expected a Tensor, got {type(t).__name__}")
    if t.dtype.kind != "f":
        raise TypeError(f"nn.init.{name}: expected a float tensor, got dtype {t.dtype}")
    with no_grad():
        t.data[...] = make(t.shape)
    bump_version(t)  # a graph that read the old values can no longer be backpropagated
    return t


def fans(t: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight: see the module docstring for the layouts."""
    shape = t.shape
    if len(shape) < 2:
        raise ValueError(
            f"nn.init: fan in and fan out need a weight of 2 or more dimensions, got shape {shape}"
        )
    if len(shape) == 2:
        return shape[0], shape[1]
    field = math.prod(shape[2:])
    return shape[1] * field, shape[0] * field


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity``, as ``torch.nn.init.calculate_gain``."""
    if nonlinearity in ("linear", "identity", "sigmoid", "conv2d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"nn.init.calculate_gain: unknown nonlinearity {nonlinearity!r} (linear, sigmoid, tanh, relu, "
        "leaky_relu, selu)"
    )


def _fan(t: Tensor, mode: str, name: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"nn.init.{name}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fans(t)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with values drawn uniformly from ``[a, b)``."""
    if not a <= b:
        raise ValueError(f"nn.init.uniform_: need a <= b, got a={a}, b={b}")
    return _fill(t, "uniform_", lambda s: _random.default_rng().uniform(a, b, s))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with values drawn from the normal distribution N(mean, std²)."""
    if not std >= 0:
        raise ValueError(f"nn.init.normal_: std must be >= 0, got {std}")
    return _fill(t, "normal_", lambda s: _random.default_rng().normal(mean, std, s))


def constant_(t: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _fill(t, "constant_", lambda s: np.full(s, val))


def zeros_(t: Tensor) -> Tensor:
    """Fill with zeros."""
    return _fill(t, "zeros_", np.zeros)


def ones_(t: Tensor) -> Tensor:
    """Fill with ones."""
    return _fill(t, "ones_", np.ones)


def xavier_uniform_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot uniform: ``U(-a, a)`` with ``a = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = fans(t)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(t, "xavier_uniform_", lambda s: _random.default_rng().uniform(-a, a, s))


def xavier_normal_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot normal: ``N(0, std²)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fans(t)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(t, "xavier_normal_", lambda s: _random.default_rng().normal(0.0, std, s))


def kaiming_uniform_(t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "relu") -> Tensor:
    """He uniform: ``U(-b, b)`` with ``b = gain * sqrt(3 / fan)`` (``a`` is leaky_relu's slope).

    Unlike PyTorch (``nonlinearity="leaky_relu"``), the default is ``"relu"``,
    the book's He initialisation; the two agree when ``a = 0``.
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode, "kaiming_uniform_"))
    bound = math.sqrt(3.0) * std
    return _fill(t, "kaiming_uniform_", lambda s: _random.default_rng().uniform(-bound, bound, s))


def kaiming_normal_(t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "relu") -> Tensor:
    """He normal: ``N(0, std²)``, ``std = gain / sqrt(fan)``: ``sqrt(2 / fan_in)`` for relu (book: He)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode, "kaiming_normal_"))
    return _fill(t, "kaiming_normal_", lambda s: _random.default_rng().normal(0.0, std, s))

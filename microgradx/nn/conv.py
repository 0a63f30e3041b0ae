"""Convolution and pooling layers: Conv2d, MaxPool2d, AvgPool2d, and Flatten.

Images are channels-first, ``(N, C, H, W)``, as in PyTorch and the book
(*Deep Learning from Scratch*, chapter 7). The layers call the functions of
:mod:`microgradx.ops.conv` (``F.conv2d``, ``F.max_pool2d``, ``F.avg_pool2d``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import random as _random
from ..ops.conv import _pair, avg_pool2d, conv2d, max_pool2d
from ..tensor import Tensor
from . import init as _init
from .module import Module, Parameter

__all__ = ["AvgPool2d", "Conv2d", "Flatten", "MaxPool2d"]

INITS = ("he", "xavier")


class Conv2d(Module):
    """2-D convolution layer: ``F.conv2d(x, weight, bias, stride, padding, dilation)``.

    ``weight`` has shape ``(out_channels, in_channels, kh, kw)`` and ``bias``
    ``(out_channels,)``, as in PyTorch (and the book's ``W`` and ``b``), so
    their values copy across directly. ``kernel_size``, ``stride``,
    ``padding`` (zeros) and ``dilation`` are an int or an (height, width)
    pair.

    Initialisation follows the book rather than PyTorch: ``init="he"`` (the
    default, for the ReLU that follows a convolution) draws the weight from
    ``N(0, 2 / fan_in)`` with ``fan_in = in_channels * kh * kw``
    (``nn.init.kaiming_normal_``); ``init="xavier"`` draws it from Glorot's
    uniform distribution (``nn.init.xavier_uniform_``), as ``nn.Linear``
    does. Biases start at zero. (PyTorch draws both from
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``; for that, call
    ``nn.init.kaiming_uniform_(conv.weight, a=math.sqrt(5), nonlinearity="leaky_relu")``.)
    Draws come from ``rng``, else from the generator that ``mgx.manual_seed`` seeds.

    >>> import numpy as np
    >>> from microgradx import nn
    >>> conv = nn.Conv2d(1, 30, 5)  # the book's SimpleConvNet: 30 filters of 5x5
    >>> conv
    Conv2d(1, 30, kernel_size=(5, 5), stride=(1, 1))
    >>> conv(np.zeros((100, 1, 28, 28))).shape
    (100, 30, 24, 24)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        bias: bool = True,
        init: str = "he",
        dtype: Any = np.float64,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        for what, n in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
                raise ValueError(f"Conv2d: {what} must be a positive int, got {n!r}")
        if init not in INITS:
            raise ValueError(f"Conv2d: init must be one of {INITS}, got {init!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = _pair(stride, "stride", "Conv2d", 1)
        self.padding = _pair(padding, "padding", "Conv2d", 0)
        self.dilation = _pair(dilation, "dilation", "Conv2d", 1)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.weight = Parameter(np.zeros(shape), dtype=dtype)
        self.bias = Parameter(np.zeros(self.out_channels), dtype=dtype) if bias else None
        fan_in, fan_out = _init.fans(self.weight)
        rng = rng if rng is not None else _random.default_rng()
        if init == "he":
            w = rng.normal(0.0, math.sqrt(2.0 / fan_in), shape)
        else:
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            w = rng.uniform(-limit, limit, shape)
        self.weight.data[...] = w

    def forward(self, x: Any) -> Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        return text if self.bias is not None else text + ", bias=False"


class _Pool2d(Module):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        name = type(self).__name__
        _pair(kernel_size, "kernel_size", name, 1)  # checked now, not at the first call
        if stride is not None:
            _pair(stride, "stride", name, 1)
        _pair(padding, "padding", name, 0)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max pooling: ``F.max_pool2d(x, kernel_size, stride, padding, dilation)``; ``stride`` defaults
    to ``kernel_size``.

    The gradient of each window goes to its first largest element, as in PyTorch.

    >>> from microgradx import nn
    >>> nn.MaxPool2d(2)
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1)
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1) -> None:
        super().__init__(kernel_size, stride, padding)
        _pair(dilation, "dilation", "MaxPool2d", 1)
        self.dilation = dilation

    def forward(self, x: Any) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", dilation={self.dilation}"


class AvgPool2d(_Pool2d):
    """Average pooling: ``F.avg_pool2d(x, kernel_size, stride, padding)``; ``stride`` defaults to
    ``kernel_size``.

    Padding zeros count in the averages (PyTorch's default, ``count_include_pad=True``).
    """

    def forward(self, x: Any) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class Flatten(Module):
    """Dimensions ``start_dim`` to ``end_dim`` merged into one, as ``torch.nn.Flatten``.

    The default keeps the batch dimension: ``(N, C, H, W)`` becomes ``(N, C * H * W)``,
    what a Linear layer after a convolution takes.

    >>> import numpy as np
    >>> from microgradx import nn
    >>> nn.Flatten()(np.zeros((100, 30, 12, 12))).shape
    (100, 4320)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        shape = x.shape
        n = len(shape)
        start, end = self.start_dim, self.end_dim
        if not (-max(n, 1) <= start < max(n, 1) and -max(n, 1) <= end < max(n, 1)):
            raise IndexError(
                f"Flatten: start_dim={start} and end_dim={end} must be in [{-max(n, 1)}, {max(n, 1) - 1}] "
                f"for an input of shape {shape}"
            )
        if n == 0:
            return x.reshape(1)
        start, end = start % n, end % n
        if start > end:
            raise ValueError(
                f"Flatten: start_dim={self.start_dim} comes after end_dim={self.end_dim} "
                f"for an input of shape {shape}"
            )
        return x.reshape(*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

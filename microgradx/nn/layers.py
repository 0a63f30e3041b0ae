"""Layers: Linear, Sequential, the activations as modules, and MLP."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import random as _random
from ..ops.elementwise import relu, sigmoid, tanh
from ..ops.linalg import linear
from ..ops.nn import softmax
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["MLP", "Linear", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh"]

INITS = ("xavier", "he")


def _float_dtype(layer: str, dtype: Any) -> np.dtype:
    """``dtype`` as a NumPy float dtype, or a TypeError naming the layer and the dtype given."""
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{layer}: dtype must be a float dtype such as np.float32, got {dtype!r}") from e
    if dt.kind != "f":
        raise TypeError(
            f"{layer}: dtype must be a float dtype (np.float32 or np.float64), got {dt}; "
            "parameters are trained by gradients, which need floating-point values"
        )
    return dt


class Linear(Module):
    """Affine layer ``y = x @ weight + bias``, with ``weight`` of shape (in_features, out_features).

    The weight layout is the book's (``x @ W``); ``init`` chooses Xavier/Glorot
    (uniform, for sigmoid and tanh; the default) or He (normal, for relu).
    Biases start at zero. Initialisation draws from ``rng``, else from the
    generator that ``mgx.manual_seed`` seeds.

    Parameters
    ----------
    in_features, out_features : int
        The sizes of an input row and an output row.
    bias : bool
        Add a learned bias (of shape ``(out_features,)``).
    init : {"xavier", "he"}
        The weights' initialisation.
    dtype : float dtype
        The parameters' dtype: ``np.float64`` (the default) or ``np.float32``
        (also as a string, ``"float32"``). The values drawn are the same, rounded.
    rng : numpy.random.Generator, optional
        Draw the initial weights from it.

    Notes
    -----
    Mixed dtypes follow the rule of every op, NumPy's: the result has the wider
    dtype, and each gradient has the dtype of its own tensor. A float32 input to a
    float64 layer gives a float64 output, float64 weight gradients and a float32
    ``x.grad``; a float64 input to a float32 layer computes in float64 too (cast
    the input, ``x.astype(np.float32)``, to compute in float32). PyTorch raises
    on mixed dtypes instead.

    Examples
    --------
    >>> import numpy as np
    >>> import microgradx as mgx
    >>> from microgradx import nn
    >>> layer = nn.Linear(3, 2, dtype=np.float32)
    >>> layer.weight.dtype, layer(np.ones((4, 3), np.float32)).dtype
    (dtype('float32'), dtype('float32'))
    >>> layer(np.ones((4, 3))).dtype  # a float64 input: the wider dtype wins
    dtype('float64')
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str = "xavier",
        dtype: Any = np.float64,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Linear: sizes must be positive, got ({in_features}, {out_features})")
        if init not in INITS:
            raise ValueError(f"Linear: init must be one of {INITS}, got {init!r}")
        dtype = _float_dtype("Linear", dtype)
        rng = rng if rng is not None else _random.default_rng()
        if init == "xavier":
            limit = np.sqrt(6.0 / (in_features + out_features))
            w = rng.uniform(-limit, limit, (in_features, out_features))
        else:
            w = rng.normal(0.0, np.sqrt(2.0 / in_features), (in_features, out_features))
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(w, dtype=dtype)
        self.bias = Parameter(np.zeros(out_features), dtype=dtype) if bias else None

    def forward(self, x: Any) -> Tensor:
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class Sequential(Module):
    """Modules applied one after another; their parameters are named ``0.weight``, ``1.bias``, ..."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: item {i} is a {type(m).__name__}, not a Module")
            setattr(self, str(i), m)

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    def __getitem__(self, i: int) -> Module:
        children = [m for _, m in self.named_children()]
        return children[i]

    def forward(self, x: Any) -> Any:
        for _, m in self.named_children():
            x = m(x)
        return x


class _Activation(Module):
    fn: Callable[[Any], Tensor]

    def forward(self, x: Any) -> Tensor:
        return type(self).fn(x)


class Sigmoid(_Activation):
    """Elementwise logistic sigmoid as a module."""

    fn = staticmethod(sigmoid)


class ReLU(_Activation):
    """Elementwise ``max(x, 0)`` as a module."""

    fn = staticmethod(relu)


class Tanh(_Activation):
    """Elementwise hyperbolic tangent as a module."""

    fn = staticmethod(tanh)


class Softmax(Module):
    """Softmax along ``axis`` as a module."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        return softmax(x, axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


ACTIVATIONS: dict[str, tuple[type[Module], str]] = {
    "sigmoid": (Sigmoid, "xavier"),
    "tanh": (Tanh, "xavier"),
    "relu": (ReLU, "he"),
}


class MLP(Module):
    """A multilayer perceptron: Linear layers of ``sizes`` with ``activation`` between them.

    No activation follows the last layer (pair it with ``F.cross_entropy``,
    which applies softmax itself). Weights are initialised for the
    activation: Xavier for sigmoid and tanh, He for relu. Parameters are named
    ``layers.0.weight``, ``layers.0.bias``, ``layers.2.weight``, ...
    ``dtype`` (``np.float64`` by default, or ``np.float32``) is every layer's,
    with :class:`Linear`'s rule for inputs of another dtype; ``rng`` draws the
    initial weights.

    >>> from microgradx import nn
    >>> nn.MLP([784, 100, 10]).layers
    Sequential(
      (0): Linear(in_features=784, out_features=100, bias=True)
      (1): Sigmoid()
      (2): Linear(in_features=100, out_features=10, bias=True)
    )
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "sigmoid",
        dtype: Any = np.float64,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {list(sizes)}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        dtype = _float_dtype("MLP", dtype)
        act, init = ACTIVATIONS[activation]
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            if i:
                layers.append(act())
            layers.append(Linear(n_in, n_out, init=init, dtype=dtype, rng=rng))
        self.sizes = list(sizes)
        self.layers = Sequential(*layers)

    def forward(self, x: Any) -> Tensor:
        return self.layers(x)  # type: ignore[no-any-return]

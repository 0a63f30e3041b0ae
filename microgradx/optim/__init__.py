"""Optimizers: SGD (momentum, Nesterov, weight decay), AdaGrad, RMSprop, Adam and AdamW.

Each follows PyTorch's definition (``torch.optim``), so a model trained with
either library takes the same steps; the tests compare the trajectories. The
book's names are kept (*Deep Learning from Scratch*, ch. 6: ``SGD``,
``Momentum`` is ``SGD(momentum=...)``, ``AdaGrad``, ``RMSprop``, ``Adam``).

``step()`` updates each parameter's array in place (outside any graph) and
bumps its version counter, so a graph recorded before the step cannot be
backpropagated with the changed weights by mistake.

``state_dict()`` returns a flat dict of NumPy arrays (the hyperparameters and
each parameter's buffers, ``"0.momentum_buffer"``, ``"0.exp_avg"``, ...) that
:func:`microgradx.save` writes, so training resumes exactly after
``mgx.save`` / ``mgx.load``::

    mgx.save({**model.state_dict(), **{"optim." + k: v for k, v in opt.state_dict().items()}}, path)
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..autograd import bump_version
from ..errors import fmt_shape
from ..tensor import Tensor

__all__ = ["SGD", "AdaGrad", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]


class Optimizer:
    """Holds the parameters and their state; subclasses define ``_update(w, g, state)``.

    ``lr`` is an attribute that a learning-rate scheduler (or you) may change
    between steps. ``HYPER`` names the other hyperparameters saved by
    :meth:`state_dict`; ``BUFFERS`` the per-parameter arrays.
    """

    HYPER: tuple[str, ...] = ()
    BUFFERS: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty list of parameters")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: parameter {i} is not a Tensor that requires grad")
        self.lr = _check(type(self).__name__, "lr", lr, lambda v: v > 0, "positive")
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Clear every parameter's ``.grad``."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        for p, state in zip(self.params, self.state, strict=True):
            if p.grad is not None:
                self._update(p.data, p.grad.data, state)
                bump_version(p)

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _step_count(self, state: dict[str, np.ndarray]) -> float:
        """Count this parameter's steps (for bias correction); returns the new count."""
        if "step" not in state:
            state["step"] = np.zeros(())
        state["step"] += 1
        return float(state["step"])

    # ------------------------------------------------------------------ #
    # saving and resuming
    # ------------------------------------------------------------------ #
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """The hyperparameters and every parameter's buffers, as a flat dict of arrays (copies)."""
        out: OrderedDict[str, np.ndarray] = OrderedDict()
        for name in ("lr", *self.HYPER):
            out[name] = np.asarray(getattr(self, name), dtype=np.float64)
        for i, state in enumerate(self.state):
            for key, arr in state.items():
                out[f"{i}.{key}"] = arr.copy()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned; checks everything before changing anything."""
        name = type(self).__name__
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{name}.load_state_dict: expected a dict of arrays, got {type(state_dict).__name__}"
            )
        hyper = {}
        for key in ("lr", *self.HYPER):
            if key not in state_dict:
                raise KeyError(f"{name}.load_state_dict: missing {key!r} (the keys are {list(state_dict)})")
            hyper[key] = float(np.asarray(state_dict[key]))
        states: list[dict[str, np.ndarray]] = [{} for _ in self.params]
        for key, value in state_dict.items():
            if key in hyper:
                continue
            index, _, buf = str(key).partition(".")
            if not index.isdigit() or int(index) >= len(self.params) or buf not in (*self.BUFFERS, "step"):
                raise KeyError(
                    f"{name}.load_state_dict: unexpected key {key!r} (this optimizer has "
                    f"{len(self.params)} parameters with buffers {('step', *self.BUFFERS)})"
                )
            p = self.params[int(index)]
            arr = np.array(value, dtype=np.float64 if buf == "step" else p.dtype)
            want = () if buf == "step" else p.shape
            if arr.shape != want:
                raise ValueError(
                    f"{name}.load_state_dict: {key!r} has shape {fmt_shape(arr.shape)} but parameter "
                    f"{index} needs {fmt_shape(want)}"
                )
            states[int(index)][buf] = arr
        for key, v in hyper.items():
            setattr(self, key, v)
        self.state = states

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={getattr(self, k)!r}" for k in ("lr", *self.HYPER))
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


def _check(opt: str, name: str, value: Any, ok: Any, what: str) -> float:
    """``value`` as a float, or a ValueError naming the optimizer, the argument and the value."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.ndarray, Tensor)):
        raise TypeError(f"{opt}: {name} must be a number, got {value!r}")
    v = float(value)
    if not (math.isfinite(v) and ok(v)):
        raise ValueError(f"{opt}: {name} must be {what}, got {value!r}")
    return v


def _nonnegative(opt: str, name: str, value: Any) -> float:
    return _check(opt, name, value, lambda v: v >= 0, ">= 0")


def _fraction(opt: str, name: str, value: Any) -> float:
    return _check(opt, name, value, lambda v: 0 <= v < 1, "in [0, 1)")


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum (the book's ``Momentum``) and Nesterov momentum.

    ``g = grad + weight_decay * w``; with momentum, ``b = g`` at the first
    step and ``b = momentum * b + (1 - dampening) * g`` after, then
    ``g = g + momentum * b`` (Nesterov) or ``g = b``; finally ``w -= lr * g``
    (PyTorch's form: the book's ``v = momentum * v - lr * grad; w += v`` takes
    the same steps while ``lr`` is constant).
    """

    HYPER = ("momentum", "dampening", "weight_decay")
    BUFFERS = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        dampening: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _fraction("SGD", "momentum", momentum)
        self.weight_decay = _nonnegative("SGD", "weight_decay", weight_decay)
        self.dampening = _check("SGD", "dampening", dampening, lambda v: 0 <= v <= 1, "in [0, 1]")
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0")
        self.nesterov = bool(nesterov)

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * w
        if self.momentum:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.copy()
            else:
                b *= self.momentum
                b += (1 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        w -= self.lr * g


class AdaGrad(Optimizer):
    """AdaGrad (Duchi et al., 2011): each weight's step shrinks with its accumulated squared gradients.

    ``g = grad + weight_decay * w``; ``h += g**2``; ``w -= lr * g / (sqrt(h) + eps)``
    (PyTorch's ``Adagrad``; the book writes ``eps = 1e-7``).
    """

    HYPER = ("eps", "weight_decay")
    BUFFERS = ("sum",)

    def __init__(
        self, params: Iterable[Tensor], lr: float = 0.01, eps: float = 1e-10, weight_decay: float = 0.0
    ):
        super().__init__(params, lr)
        self.eps = _nonnegative("AdaGrad", "eps", eps)
        self.weight_decay = _nonnegative("AdaGrad", "weight_decay", weight_decay)

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        self._step_count(state)
        if self.weight_decay:
            g = g + self.weight_decay * w
        h = state.setdefault("sum", np.zeros_like(w))
        h += g * g
        w -= self.lr * g / (np.sqrt(h) + self.eps)


#: PyTorch's spelling
Adagrad = AdaGrad


class RMSprop(Optimizer):
    """RMSprop (Hinton): AdaGrad with a moving average of the squared gradients.

    ``g = grad + weight_decay * w``; ``v = alpha * v + (1 - alpha) * g**2``;
    ``d = sqrt(v) + eps`` (centered: ``sqrt(v - a**2) + eps`` with the moving
    average ``a`` of ``g``); with momentum ``b = momentum * b + g / d`` and
    ``w -= lr * b``, else ``w -= lr * g / d`` (PyTorch's form; the book's
    ``decay_rate`` is ``alpha``).
    """

    HYPER = ("alpha", "eps", "weight_decay", "momentum")
    BUFFERS = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.alpha = _fraction("RMSprop", "alpha", alpha)
        self.eps = _nonnegative("RMSprop", "eps", eps)
        self.weight_decay = _nonnegative("RMSprop", "weight_decay", weight_decay)
        self.momentum = _fraction("RMSprop", "momentum", momentum)
        self.centered = bool(centered)

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        self._step_count(state)
        if self.weight_decay:
            g = g + self.weight_decay * w
        v = state.setdefault("square_avg", np.zeros_like(w))
        v *= self.alpha
        v += (1 - self.alpha) * (g * g)
        if self.centered:
            a = state.setdefault("grad_avg", np.zeros_like(w))
            a *= self.alpha
            a += (1 - self.alpha) * g
            d = np.sqrt(v - a * a) + self.eps
        else:
            d = np.sqrt(v) + self.eps
        if self.momentum:
            b = state.setdefault("momentum_buffer", np.zeros_like(w))
            b *= self.momentum
            b += g / d
            w -= self.lr * b
        else:
            w -= self.lr * g / d


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with bias correction, and L2 ``weight_decay`` as PyTorch's Adam.

    ``g = grad + weight_decay * w``; ``m = b1 m + (1 - b1) g``,
    ``v = b2 v + (1 - b2) g**2``,
    ``w -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``.
    """

    HYPER = ("beta1", "beta2", "eps", "weight_decay")
    BUFFERS = ("exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        name = type(self).__name__
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}") from None
        self.beta1, self.beta2 = _fraction(name, "betas[0]", b1), _fraction(name, "betas[1]", b2)
        self.eps = _nonnegative(name, "eps", eps)
        self.weight_decay = _nonnegative(name, "weight_decay", weight_decay)

    @property
    def betas(self) -> tuple[float, float]:
        return (self.beta1, self.beta2)

    def _decay(self, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Adam's weight decay is L2: added to the gradient."""
        return g + self.weight_decay * w if self.weight_decay else g

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        b1, b2 = self.beta1, self.beta2
        t = self._step_count(state)
        g = self._decay(w, g)
        m = state.setdefault("exp_avg", np.zeros_like(w))
        v = state.setdefault("exp_avg_sq", np.zeros_like(w))
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        denom = np.sqrt(v) / math.sqrt(1 - b2**t) + self.eps
        step = (self.lr / (1 - b1**t)) * m / denom
        w -= step.astype(w.dtype, copy=False)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as PyTorch's ``AdamW``.

    ``w -= lr * weight_decay * w``, then Adam's step on the plain gradient.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)

    def _decay(self, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        if self.weight_decay:
            w *= 1 - self.lr * self.weight_decay
        return g


from . import lr_scheduler  # noqa: E402  (it imports Optimizer from here)

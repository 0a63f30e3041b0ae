"""Training utilities: ``clip_grad_norm_``, as ``torch.nn.utils``."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor

__all__ = ["clip_grad_norm_"]


def clip_grad_norm_(
    parameters: Iterable[Tensor] | Tensor,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients of ``parameters`` so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if concatenated into one
    vector (``norm_type`` 2, 1, or ``inf``); when it exceeds ``max_norm`` every
    gradient is multiplied by ``max_norm / (norm + 1e-6)`` (PyTorch's
    definition). Parameters without a gradient are skipped. Returns the norm
    before clipping, as a 0-d Tensor. A NaN or infinite norm raises when
    ``error_if_nonfinite=True`` (else the gradients are scaled by NaN or 0 as
    in PyTorch).

    Each gradient is replaced by a new array rather than scaled in place: two
    parameters' gradients may be the same array (the backward of ``a + b``
    passes one array to both), and scaling it twice would be wrong.
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    norm_type = float(norm_type)
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm!r}")
    if not (norm_type > 0 or math.isinf(norm_type)):
        raise ValueError(f"clip_grad_norm_: norm_type must be positive or inf, got {norm_type!r}")
    grads = [p.grad.data for p in params if p.grad is not None]
    if not grads:
        return Tensor(0.0)
    dtype = np.result_type(*grads)
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        total = float(sum(float(np.sum(np.abs(g) ** norm_type)) for g in grads) ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}; "
            "a gradient holds NaN or infinity (set error_if_nonfinite=False to clip anyway)"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1 or math.isnan(coef):
        for p in params:
            if p.grad is not None:
                p.grad = Tensor(p.grad.data * coef, dtype=p.grad.dtype)
    return Tensor(np.asarray(total, dtype=dtype))

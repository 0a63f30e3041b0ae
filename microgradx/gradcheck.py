"""Gradient checking: the central-difference oracle ``numerical_gradient``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import describe

__all__ = ["numerical_gradient"]


def numerical_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central-difference gradient of scalar ``f`` at ``x``: the oracle every op is tested against.

    For each element, ``(f(x + h e_i) - f(x - h e_i)) / (2 h)``, the formula of
    *Deep Learning from Scratch* generalised to any shape. ``x`` is perturbed in
    place one element at a time and restored unchanged on return (also when
    ``f`` raises).

    Parameters
    ----------
    f : callable
        Takes an array shaped like ``x``, returns a scalar (a number, a
        one-element array or Tensor).
    x : numpy.ndarray
        A float array of any shape.
    h : float
        The step; 1e-4 as in the book.

    Returns
    -------
    numpy.ndarray
        The gradient, shaped like ``x``.

    Examples
    --------
    >>> numerical_gradient(lambda x: np.sum(x ** 2), np.array([3.0, 4.0]))
    array([6., 8.])
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(
            f"numerical_gradient: x must be a float numpy.ndarray, got {describe(x)}"
            + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else "")
        )
    if not x.flags.writeable:
        raise ValueError("numerical_gradient: x must be writeable (it is perturbed in place)")
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        orig = x[idx].copy()
        try:
            x[idx] = orig + h
            f_plus = _scalar(f(x))
            x[idx] = orig - h
            f_minus = _scalar(f(x))
        finally:
            x[idx] = orig
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def _scalar(value: Any) -> float:
    arr = np.asarray(value.data if hasattr(value, "data") and not isinstance(value, np.ndarray) else value)
    if arr.size != 1:
        raise ValueError(f"numerical_gradient: f must return a scalar, got a value of shape {arr.shape}")
    return float(arr.reshape(()))

"""Every error microgradx raises for a user's mistake, and the helpers that word them.

Messages name the operation, the input and the shapes or values involved, so
that a reader can find the mistake without a debugger.
"""

from __future__ import annotations

from typing import Any


class GradcheckError(AssertionError):
    """Raised by :func:`microgradx.gradcheck` when an analytic gradient is wrong."""


class BackwardError(RuntimeError):
    """A backward pass cannot run: freed graph, modified saved tensor, bad gradient."""


def fmt_shape(shape: tuple[int, ...]) -> str:
    """``(2, 3)`` for a shape, ``()`` for a scalar."""
    return str(tuple(int(s) for s in shape))


def broadcast_error(op: str, *shapes: tuple[int, ...]) -> ValueError:
    """The ValueError for operands whose shapes do not broadcast together."""
    listed = " and ".join(fmt_shape(s) for s in shapes)
    return ValueError(f"{op}: shapes {listed} cannot be broadcast together")


def describe(value: Any) -> str:
    """A short description of a value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

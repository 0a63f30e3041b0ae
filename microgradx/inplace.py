"""In-place updates on a recorded graph: memory, versions, views and write-back.

An in-place operator (``+=``, ``-=``, ``*=``, ``/=``, ``t[i] = v``) writes into the
tensor's memory, as in NumPy and PyTorch, so every view of that memory sees the
new values. Outside a recorded graph that is all it does (and bumps the version
counter). While a graph is recorded, :func:`record` also keeps the gradients
right:

1. It computes the new value out of place with the ordinary op (``Add``,
   ``SetItem``, ...), recorded as usual: that op read the *old* version of the
   tensor, so its gradient flows into the old history.
2. It writes the new values into memory and bumps the version counter that all
   views of the memory share, then gives the tensor its new creator. The old
   creator is remembered with the epoch it was replaced at (``Tensor._past``),
   so ops recorded earlier still backpropagate into the history they read
   (:func:`microgradx.autograd.creator_read_by`).
3. If the tensor is a view of another (``c[0:2]``, ``c.reshape(2, 2)``, ``c.T``),
   the base changed too: its new history is "the old base with the view's
   positions replaced" (:class:`~microgradx.ops.shape.ViewWrite`, PyTorch's
   CopySlices), recorded up the chain of views.

Every value a backward reads is checked, not assumed: ``Function.input(i)`` and
``Function.result`` raise if it was overwritten after the op was recorded (as
PyTorch does). Where an op's own backward needs the value it overwrites
(``c *= w`` needs the old ``c`` for ``w``'s gradient), it keeps a copy.

Other views of the same memory do not need to be found when this happens: a
view remembers its base and how it was made (``Tensor._view``), and the next
time it is used in a recorded op, :func:`refresh` gives it the base's new
history (a stale view never reaches a graph).

A tensor made by ``detach()`` shares the memory but not the history: updating
it changes the original's values without a trace in the original's graph, as
in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .autograd import Function, bump_version, is_grad_enabled, set_grad_enabled
from .errors import BackwardError, fmt_shape
from .tensor import Tensor

__all__ = ["record", "recording", "refresh"]


def recording(target: Tensor, operands: tuple[Tensor, ...]) -> bool:
    """Whether an in-place update of ``target`` must be recorded: grad mode is on and the
    target, an operand, or a tensor the target is a view of requires grad."""
    if not is_grad_enabled():
        return False
    if target._rg or any(o._rg for o in operands):
        return True
    return any(base._rg for base, _ in _view_chain(target))


def record(
    target: Tensor,
    op: type[Function],
    operands: tuple[Tensor, ...],
    sym: str,
    keep_original: bool = False,
    **params: Any,
) -> None:
    """Update ``target`` in place to ``op(target, *operands)``, recording it (see the module doc).

    ``keep_original``: the op's backward reads its first input (the target), so
    keep a copy of the value being overwritten.
    """
    refresh(target)
    links = _view_chain(target)
    _check_updatable(target, links, sym)
    original = _snapshot(target) if keep_original else None
    new = op.apply(target, *operands, **params)  # recorded: reads target's current (old) version
    if new.shape != target.shape:
        raise ValueError(
            f"{sym}: the result has shape {fmt_shape(new.shape)} but the tensor updated in place has "
            f"shape {fmt_shape(target.shape)}; broadcasting may not grow the updated tensor"
        )
    fn = new.creator
    assert fn is not None
    if original is not None:
        fn.__dict__["_originals"] = {0: original}  # read by Function.input(0)
    np.copyto(target.data, new.data, casting="same_kind")  # every view of the memory sees it
    changed = [(target, fn)]
    _replace_history(target, fn, bump_version(target))
    view = target
    for base, view_op in links:  # the bases changed too: record their new values, up the chain
        base_fn = _view_write(base, view, view_op)
        _replace_history(base, base_fn, bump_version(base))
        changed.append((base, base_fn))
        view = base
    final = view._version
    for t, f in changed:  # the whole chain is now current, and each op's output was written then
        t._hist = final
        f._out_epoch = final


def refresh(t: Tensor) -> None:
    """Bring a view whose base was updated in place (by a recorded op) up to date.

    The view's values already changed (it shares the memory); its history becomes
    "the same view of the base's new history", as PyTorch regenerates a view's
    ``grad_fn``. Ops recorded before keep the history they read.
    """
    link = t._view
    if link is None:
        return
    base, view_op = link
    refresh(base)
    if base._hist <= t._hist:
        return
    if view_op.view_of is None:
        raise BackwardError(
            f"this tensor (shape {fmt_shape(t.shape)}) is a view, made by {view_op.name}, of a tensor "
            f"that an in-place operation changed since; {view_op.name} cannot remake the view, so its "
            "history would be wrong. Make the view again after the in-place operation."
        )
    with set_grad_enabled(True):  # remaking the history is recorded whatever the caller's mode
        remade = view_op.view_of(base)
    _replace_history(t, remade.creator, base._hist)
    t._rg = remade._rg
    t._view = (base, remade.creator or view_op)


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #
def _view_chain(t: Tensor) -> list[tuple[Tensor, Function]]:
    """``[(base, view_op), ...]``: what ``t`` is a view of, what that is a view of, and so on."""
    links = []
    while t._view is not None:
        base, view_op = t._view
        links.append((base, view_op))
        t = base
    return links


def _check_updatable(target: Tensor, links: list[tuple[Tensor, Function]], sym: str) -> None:
    """Refuse an in-place update the engine cannot record correctly, before anything is written."""
    if target.data.dtype.kind != "f":
        raise TypeError(
            f"{sym}: cannot record an in-place update of a {target.data.dtype} tensor (its values "
            "would be cut to integers); make it floating-point first"
        )
    if not target.data.flags.writeable:
        raise ValueError(
            f"{sym}: this tensor (shape {fmt_shape(target.shape)}) is read-only: it is a broadcast "
            "view, where one element stands for many. Update a copy (x.clone()) instead"
        )
    if target._rg and target.creator is None:
        raise RuntimeError(
            f"{sym}: a leaf tensor that requires grad cannot be modified in place while the graph "
            "is recorded; do it under `with mgx.no_grad():` (as optimizers do) or write x = x + y"
        )
    for base, view_op in links:
        if base._rg and base.creator is None:
            raise RuntimeError(
                f"{sym}: this tensor is a view of a leaf tensor that requires grad (shape "
                f"{fmt_shape(base.shape)}); modifying it in place would modify the leaf. Do it under "
                "`with mgx.no_grad():` or work on a copy (x.clone())"
            )
        if view_op.view_of is None:
            raise RuntimeError(
                f"{sym}: this tensor is a view made by {view_op.name}, which cannot write the update "
                "back into the tensor it views; work on a copy (x.clone()) instead"
            )


def _snapshot(t: Tensor) -> Tensor:
    """A copy of ``t``'s current value with its current history (for a backward that reads it)."""
    s = Tensor._wrap(t.data.copy())
    s.creator, s._rg = t.creator, t._rg
    return s


def _view_write(base: Tensor, view: Tensor, view_op: Function) -> Function:
    """Record ``base``'s new value after an update of its ``view``; return the op."""
    from .ops.shape import ViewWrite

    new_base = ViewWrite.apply(base, view, view=view_op)
    assert new_base.creator is not None
    return new_base.creator


def _replace_history(t: Tensor, fn: Function | None, epoch: int) -> None:
    """Give ``t`` the creator ``fn`` from ``epoch`` on; ops recorded before keep the old one."""
    if t._past is None:
        t._past = []
    t._past.append((epoch, t.creator))
    t.creator = fn
    t._rg = t._rg or fn is not None
    t._hist = epoch

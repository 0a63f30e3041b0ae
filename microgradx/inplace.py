"""In-place updates on a recorded graph: memory, versions, views and write-back.

An in-place operator (``+=``, ``-=``, ``*=``, ``/=``, ``t[i] = v``) writes into the
tensor's memory, as in NumPy and PyTorch, so every view of that memory sees the
new values. Outside a recorded graph that is all it does (and bumps the version
counter). While a graph is recorded, :func:`record` also keeps the gradients
right:

1. It computes the new value out of place with the ordinary op (``Add``,
   ``SetItem``, ...), recorded as usual: that op read the *old* version of the
   tensor, so its gradient flows into the old history.
2. If the tensor is a view of another (``c[0:2]``, ``c.reshape(2, 2)``, ``c.T``),
   the tensor that owns the memory changed too: its new value is "the old one
   with the view's part replaced" (:class:`~microgradx.ops.shape.ViewWrite`,
   PyTorch's CopySlices), recorded up the chain of views.
3. It writes the new values into memory and bumps the version counter that all
   views of the memory share, then gives the owner its new creator, and each
   view in the chain the same view of the owner's new history (a view is always
   a function of its base, as in PyTorch). A replaced creator is remembered with
   the epoch it was replaced at (``Tensor._past``), so ops recorded earlier
   still backpropagate into the history they read
   (:func:`microgradx.autograd.creator_read_by`).

Every value a backward reads is checked, not assumed: ``Function.input(i)`` and
``Function.result`` raise if it was overwritten after the op was recorded (as
PyTorch does). Where an op's own backward needs the value it overwrites
(``c *= w`` needs the old ``c`` for ``w``'s gradient), it keeps a copy.

Other views of the same memory do not need to be found when this happens: a
view remembers its base, how it was made (``Tensor._view``) and the version of
the memory its history was made at (``Tensor._hist``); the next time it is used
in a recorded op after any write to that memory, :func:`refresh` remakes it as
a view of its base's current history (a stale view never reaches a graph).

A tensor made by ``detach()`` shares the memory but not the history: updating
it changes the original's values without a trace in the original's graph, as
in PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .autograd import Function, bump_version, is_grad_enabled, set_grad_enabled
from .errors import BackwardError, fmt_shape
from .ops.shape import ViewWrite
from .tensor import Tensor

__all__ = ["memory_owner", "record", "recording", "refresh", "update"]


def update(
    target: Tensor,
    op: type[Function],
    operands: tuple[Tensor, ...],
    sym: str,
    write: Callable[..., None],
    keep_original: bool = False,
    **params: Any,
) -> None:
    """Update ``target`` in place to ``op(target, *operands)``: every in-place operator comes here.

    Recorded (:func:`record`) while grad mode is on and something involved requires
    grad; otherwise ``write(target.data, *operand arrays)`` does it in NumPy, and the
    version is bumped.
    """
    if not target.data.flags.writeable:
        raise ValueError(
            f"{sym}: this tensor (shape {fmt_shape(target.shape)}) is read-only: it is a broadcast "
            "view, where one element stands for many. Update a copy (x.clone()) instead"
        )
    if recording(target, operands):
        record(target, op, operands, sym, keep_original, **params)
        return
    try:
        write(target.data, *[o.data for o in operands])
    except (ValueError, TypeError) as e:
        shapes = ", ".join(f"{fmt_shape(o.shape)} {o.data.dtype}" for o in operands)
        what = (
            f"{sym}: cannot update a tensor of shape {fmt_shape(target.shape)} ({target.data.dtype}) "
            f"in place with {shapes}"
        )
        if isinstance(e, TypeError):
            raise TypeError(f"{what}: {e}") from e
        raise ValueError(f"{what}: {e}") from e
    bump_version(target)


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
    value = new
    for base, view_op in links:  # each base's new value: the old base with the view's part replaced
        value = ViewWrite.apply(base, value, view=view_op)
    np.copyto(target.data, new.data, casting="same_kind")  # every view of the memory sees it
    epoch = bump_version(target)
    owner = links[-1][0] if links else target  # the tensor whose memory it is
    assert value.creator is not None
    _replace_history(owner, value.creator, epoch)
    value.creator._written_at = epoch  # its output was written after it was recorded
    # Each view in the chain is now the same view of the owner's new history (as PyTorch
    # regenerates a view's grad_fn from its base): a view is always a function of its base.
    for view, _ in _each_view(target, links):
        _remake(view, epoch)


def refresh(t: Tensor) -> None:
    """Bring a view up to date after its memory was written since its history was made.

    The view's values already changed (it shares the memory); its history becomes
    "the same view of the base's current history", as PyTorch regenerates a view's
    ``grad_fn`` (also after a write that was not recorded: through ``detach()`` or
    under ``no_grad``). Ops recorded before keep the history they read.
    """
    if t._view is None:
        return
    version = t._version
    if version <= t._hist:  # not written since its history was made
        return
    _remake(t, version)


def memory_owner(t: Tensor) -> Tensor:
    """The tensor whose memory ``t`` views (``t`` itself if it is not a view)."""
    chain = _view_chain(t)
    return chain[-1][0] if chain else t


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


def _each_view(target: Tensor, links: list[tuple[Tensor, Function]]) -> list[tuple[Tensor, Any]]:
    """``(view, (base, view_op))`` for each view in ``target``'s chain: the target, then each
    base that is itself a view (the owner of the memory, last, is nobody's view)."""
    return list(zip([target] + [base for base, _ in links], links, strict=False))


def _check_updatable(target: Tensor, links: list[tuple[Tensor, Function]], sym: str) -> None:
    """Refuse an in-place update the engine cannot record correctly, before anything is written."""
    if target.data.dtype.kind != "f":
        raise TypeError(
            f"{sym}: cannot record an in-place update of an {target.data.dtype} tensor (its values "
            "would be cut to integers); make it floating-point first"
        )
    if target._rg and target.creator is None:
        raise RuntimeError(
            f"{sym}: this tensor is a leaf that requires grad (a parameter, or an argument that "
            "mgx.grad differentiates); updating it in place would lose the gradient through the "
            f"update. Write it out of place: {_out_of_place(sym)}. (Only an update that must not be "
            "differentiated, an optimizer step or initialisation, belongs under `with mgx.no_grad():`.)"
        )
    for view, (base, view_op) in _each_view(target, links):
        if base._rg and not view._rg:  # (refresh would have remade a view made before base did)
            raise RuntimeError(
                f"{sym}: this tensor is a view made under no_grad of a tensor that requires grad; "
                "updating it now, with grad mode on, is ambiguous (should the update be part of the "
                "graph?) and is refused, as in PyTorch. Make the view and update it both inside the "
                "no_grad block (not recorded) or both outside it (recorded)"
            )
        if base._rg and base.creator is None:
            raise RuntimeError(
                f"{sym}: this tensor is a view of a leaf that requires grad (shape "
                f"{fmt_shape(base.shape)}); updating it in place would update the leaf and lose the "
                "gradient through the update. Work on a copy (x = x.clone(), then update it), or write "
                "the update out of place"
            )
        if view_op.view_of is None:
            raise RuntimeError(
                f"{sym}: this tensor is a view made by {view_op.name}, which cannot write the update "
                "back into the tensor it views; work on a copy (x.clone()) instead"
            )


def _out_of_place(sym: str) -> str:
    """How to write the update ``sym`` out of place, for an error message."""
    if sym == "[]=":
        return "x = x.clone(); x[i] = v (the clone is not a leaf)"
    return f"x = x {sym[:-1]} y"


def _snapshot(t: Tensor) -> Tensor:
    """A copy of ``t``'s current value with its current history (for a backward that reads it)."""
    s = Tensor._wrap(t.data.copy())
    s.creator, s._rg = t.creator, t._rg
    return s


def _remake(t: Tensor, epoch: int) -> None:
    """Give the view ``t`` the history "the same view of the tensor that owns the memory".

    The view ops of the chain are replayed from the owner (a view of a view is a view
    of the owner, as in PyTorch), so ``t``'s new history does not pass through the
    intermediate views' handles (their retained gradients do not collect ``t``'s uses).
    """
    links = _view_chain(t)
    for _, view_op in links:
        if view_op.view_of is None:
            raise BackwardError(
                f"this tensor (shape {fmt_shape(t.shape)}) is a view, made by {view_op.name}, of a "
                f"tensor whose memory was changed in place since; {view_op.name} cannot remake the "
                "view, so its history would be wrong. Make the view again after the in-place operation."
            )
    remade = links[-1][0]
    with set_grad_enabled(True):  # remaking the history is recorded whatever the caller's mode
        for _, view_op in reversed(links):
            remade = view_op.view_of(remade)  # type: ignore[misc]
    _replace_history(t, remade.creator, epoch)
    t._rg = remade._rg
    t._hist = t._version


def _replace_history(t: Tensor, fn: Function | None, epoch: int) -> None:
    """Give ``t`` the creator ``fn`` from ``epoch`` on; ops recorded before keep the old one."""
    if t._past is None:
        t._past = []
    t._past.append((epoch, t.creator))
    t.creator = fn
    t._rg = t._rg or fn is not None

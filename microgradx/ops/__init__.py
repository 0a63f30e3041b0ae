"""The differentiable operations, one module per family.

Each op is a :class:`~microgradx.Function` subclass whose docstring states its
``Forward:`` and ``Backward:`` formulas, followed by the public function that
calls it. :mod:`microgradx.functional` re-exports the public functions.

Every backward here is written once, with operations that NumPy arrays and
Tensors share, reading the inputs through ``self.saved`` and the output through
``self.result``: a plain ``backward()`` runs it on arrays (no graph, no Tensor
per step: fast), ``create_graph=True`` on Tensors (recorded, so differentiable
again). Where arrays and Tensors spell an operation differently, a helper
below each op's module takes either (``_exp``, ``_broadcast_to``, ...).
"""

from ..autograd import Function


class _BuiltinOp(Function):
    """Base of the built-in ops: backward runs on arrays in a plain backward pass."""

    backward_on_arrays = True

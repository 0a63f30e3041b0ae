"""The differentiable operations, one module per family.

Each op is a :class:`~microgradx.Function` subclass whose docstring states its
``Forward:`` and ``Backward:`` formulas, followed by the public function that
calls it. :mod:`microgradx.functional` re-exports the public functions.
"""

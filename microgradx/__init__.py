"""microgradx: a small, readable, rigorously tested automatic differentiation engine on NumPy."""

from .autograd import (  # first: the rest imports it
    Function,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .errors import BackwardError, GradcheckError
from .gradcheck import GradcheckWarning, grad, gradcheck, numerical_gradient
from .tensor import Tensor, tensor
from .viz import GraphvizNotFoundError, render_graph, to_dot

__version__ = "0.1.0"

__all__ = [
    "BackwardError",
    "Function",
    "GradcheckError",
    "GradcheckWarning",
    "GraphvizNotFoundError",
    "Tensor",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "numerical_gradient",
    "render_graph",
    "set_grad_enabled",
    "tensor",
    "to_dot",
]

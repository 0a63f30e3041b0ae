"""microgradx: a small, readable, rigorously tested automatic differentiation engine on NumPy."""

# Tensor first: tensor.py imports the op modules, which import Tensor back.
from .tensor import Tensor, tensor  # isort: skip

from . import nn, optim
from .autograd import (
    Function,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .errors import BackwardError, GradcheckError
from .gradcheck import GradcheckWarning, grad, gradcheck, numerical_gradient
from .io import load, save
from .random import manual_seed
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
    "load",
    "manual_seed",
    "nn",
    "no_grad",
    "numerical_gradient",
    "optim",
    "render_graph",
    "save",
    "set_grad_enabled",
    "tensor",
    "to_dot",
]

"""microgradx: a small, readable, rigorously tested automatic differentiation engine on NumPy."""

# Tensor first: tensor.py imports the op modules, which import Tensor back.
from .tensor import Tensor, tensor  # isort: skip

from . import nn, optim
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .autograd import (
    Function,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .compile import TraceError, compile  # noqa: A004 - mgx.compile, as torch.compile
from .creation import (
    arange,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    zeros,
    zeros_like,
)
from .errors import BackwardError, GradcheckError
from .gradcheck import GradcheckWarning, grad, gradcheck, numerical_gradient
from .io import load, save
from .random import manual_seed
from .transforms import hessian, hvp, jacobian, jvp, value_and_grad, vjp
from .viz import GraphvizNotFoundError, render_graph, to_dot

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "BackwardError",
    "Function",
    "GradcheckError",
    "GradcheckWarning",
    "GraphvizNotFoundError",
    "Tensor",
    "TraceError",
    "arange",
    "compile",
    "detect_anomaly",
    "empty",
    "empty_like",
    "enable_grad",
    "eye",
    "full",
    "full_like",
    "grad",
    "gradcheck",
    "hessian",
    "hvp",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "linspace",
    "load",
    "manual_seed",
    "nn",
    "no_grad",
    "numerical_gradient",
    "ones",
    "ones_like",
    "optim",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "render_graph",
    "save",
    "set_detect_anomaly",
    "set_grad_enabled",
    "tensor",
    "to_dot",
    "value_and_grad",
    "vjp",
    "zeros",
    "zeros_like",
]

"""Layers and models: ``nn.Module``, ``nn.Linear``, ``nn.MLP`` and friends; ``nn.init`` and ``nn.utils``."""

from . import init, utils
from .layers import MLP, Linear, ReLU, Sequential, Sigmoid, Softmax, Tanh
from .module import Module, Parameter

__all__ = [
    "MLP",
    "Linear",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "init",
    "utils",
]

"""Layers and models: ``nn.Module``, ``nn.Linear``, ``nn.MLP`` and friends; ``nn.init`` and ``nn.utils``."""

from . import init, utils
from .conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from .layers import MLP, Linear, ReLU, Sequential, Sigmoid, Softmax, Tanh
from .module import Module, Parameter
from .norm import BatchNorm1d, BatchNorm2d, Dropout, Embedding, LayerNorm

__all__ = [
    "MLP",
    "AvgPool2d",
    "Conv2d",
    "Flatten",
    "MaxPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Dropout",
    "Embedding",
    "LayerNorm",
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

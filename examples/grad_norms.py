"""Print each layer's gradient norm during training, with tensor hooks.

    python examples/grad_norms.py [--activation sigmoid|relu|tanh] [--steps N] [--every K]

A deep MLP (2-32-32-32-32-3) learns the three-armed spiral of DeZero's book.
Each weight gets a hook (``p.register_hook``) that notes the norm of its
gradient every time backward computes it; every K steps a line shows those
norms, first layer to last, and the loss. With sigmoid the first layer's
gradient starts hundreds of times smaller than the last layer's (vanishing
gradients, *Deep Learning from Scratch* §6.2) and the loss stalls at ln 3
(chance); with relu and He initialisation the norms stay comparable and the
spiral is learnt. A forward hook on each Linear layer (``register_forward_hook``)
notes the spread of its output, to see where activations shrink.

The hooks only watch (they return None), so the training is exactly what it
would be without them; ``main`` removes them before returning.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

import microgradx as mgx
import microgradx.functional as F
from microgradx import nn, optim

SIZES = [2, 32, 32, 32, 32, 3]


def spiral(n_per_class: int = 100, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The spiral of DeZero's ``dezero.datasets.get_spiral``: ``classes`` arms of ``n_per_class`` points."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n_per_class * classes, 2))
    t = np.zeros(n_per_class * classes, dtype=np.int64)
    for c in range(classes):
        for i in range(n_per_class):
            rate = i / n_per_class
            radius = rate
            theta = c * 4.0 + 4.0 * rate + rng.normal() * 0.2
            k = n_per_class * c + i
            x[k] = radius * np.sin(theta), radius * np.cos(theta)
            t[k] = c
    return x, t


def make_model(activation: str, seed: int = 0) -> nn.MLP:
    return nn.MLP(SIZES, activation=activation, rng=np.random.default_rng(seed))


def watch(model: nn.MLP) -> tuple[dict[str, list[float]], dict[str, list[float]], list[Any]]:
    """Hooks on ``model``: the gradient norm of each weight, and the output spread of each Linear.

    Returns the two logs (layer name -> one value per backward, or per forward) and the handles.
    """
    grad_norms: dict[str, list[float]] = {}
    spreads: dict[str, list[float]] = {}
    handles = []
    for name, p in model.named_parameters():
        if name.endswith(".weight"):
            log = grad_norms.setdefault(name.removesuffix(".weight"), [])
            # g is dL/dW of this backward pass, before it reaches p.grad
            handles.append(p.register_hook(lambda g, log=log: log.append(float(np.linalg.norm(g.data)))))
    for name, layer in model.layers.named_children():
        if isinstance(layer, nn.Linear):
            log = spreads.setdefault(f"layers.{name}", [])
            handles.append(
                layer.register_forward_hook(lambda m, inputs, out, log=log: log.append(float(out.data.std())))
            )
    return grad_norms, spreads, handles


def train(
    model: nn.Module, steps: int, lr: float = 0.5, on_step: Callable[[int, float], None] | None = None
) -> list[float]:
    """Full-batch SGD on the spiral; ``on_step(step, loss)`` after each step. Returns the losses."""
    x, t = spiral()
    xt = mgx.tensor(x)
    opt = optim.SGD(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), t)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if on_step is not None:
            on_step(step, losses[-1])
    return losses


def main(activation: str = "sigmoid", steps: int = 100, every: int = 20) -> dict[str, Any]:
    """Train with the hooks on, printing the table; return the model, the logs, the losses and the
    first step's ratio of the first layer's gradient norm to the last layer's."""
    model = make_model(activation)
    grad_norms, spreads, handles = watch(model)

    def report(step: int, loss: float) -> None:
        if step % every == 0 or step == steps - 1:
            norms = "  ".join(f"{log[-1]:9.2e}" for log in grad_norms.values())
            print(f"{step:5d}  {loss:7.4f}  {norms}")

    print(f"{activation}: |dL/dW| of each layer, first to last")
    print(" step     loss  " + "  ".join(f"{name:>9}" for name in grad_norms))
    try:
        losses = train(model, steps, on_step=report)
    finally:
        for h in handles:
            h.remove()
    logs = list(grad_norms.values())
    ratio = logs[0][0] / logs[-1][0]
    print(f"at step 0, |dL/dW| of the first layer is {ratio:.1e} times the last layer's")
    print(
        "mean std of each Linear's output: " + ", ".join(f"{n} {np.mean(v):.3f}" for n, v in spreads.items())
    )
    return {"model": model, "grad_norms": grad_norms, "spreads": spreads, "losses": losses, "ratio": ratio}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activation", default="sigmoid", choices=["sigmoid", "relu", "tanh"])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--every", type=int, default=20)
    args = parser.parse_args()
    main(args.activation, args.steps, args.every)

"""Train a tiny 2-8-1 sigmoid network on XOR with microgradx and print its loss falling.

Run with ``make demo``. Everything is plain microgradx: tensors, operators,
backward, and a hand-written gradient-descent step.
"""

import numpy as np

import microgradx as mgx
import microgradx.functional as F


def main(epochs: int = 2000, lr: float = 1.0, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    X = mgx.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = mgx.tensor([[0.0], [1.0], [1.0], [0.0]])
    W1 = mgx.tensor(rng.normal(0, 1, (2, 8)), requires_grad=True, name="W1")
    b1 = mgx.tensor(np.zeros(8), requires_grad=True, name="b1")
    W2 = mgx.tensor(rng.normal(0, 1, (8, 1)), requires_grad=True, name="W2")
    b2 = mgx.tensor(np.zeros(1), requires_grad=True, name="b2")
    params = [W1, b1, W2, b2]

    for epoch in range(epochs + 1):
        pred = F.sigmoid(F.sigmoid(X @ W1 + b1) @ W2 + b2)
        loss = F.mse_loss(pred, y)
        for p in params:
            p.grad = None
        loss.backward()
        with mgx.no_grad():
            for p in params:
                p -= lr * p.grad
        if epoch % (epochs // 10) == 0:
            print(f"epoch {epoch:5d}   loss {loss.item():.6f}")
    print("predictions:", np.round(pred.data.ravel(), 3), " targets:", y.data.ravel())
    return loss.item()


if __name__ == "__main__":
    main()

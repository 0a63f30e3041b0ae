"""Run N steps of one W1 contender, for counting instructions with valgrind's callgrind.

    valgrind --tool=callgrind --callgrind-out-file=/dev/null python benchmarks/instructions.py mgx 20
    valgrind --tool=callgrind --callgrind-out-file=/dev/null python benchmarks/instructions.py mgx 0

The difference of the two "Collected" totals, divided by 20, is the instructions
per training step; do the same for ``numpy`` (the floor). Instruction counts do
not depend on what else the machine is doing, so they compare contenders
exactly where wall-clock times on a shared machine are noisy. (They understate
the interpreter's share of time: Python code retires fewer instructions per
cycle than BLAS kernels do.) Add ``float32`` as a third argument for the
float32 step.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402


def main(which: str, steps: int, dtype: str = "float64") -> None:
    make = {"numpy": bench.floor_mlp, "microgradx": bench.mgx_mlp, "mgx": bench.mgx_mlp}[which]
    step = make(*bench.mlp_problem([784, 100, 10], 100, np.dtype(dtype)))
    step()  # set-up and first-call costs are in both runs, and cancel
    for _ in range(steps):
        step()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), *sys.argv[3:])

"""Install the built wheel in a fresh venv, as a user would, and run the README and the quickstart there.

    python .ci/check_wheel.py DIST_DIR        (run by `make dist`, which .ci/run calls)

DIST_DIR holds what `python -m build` made: one wheel and one sdist. Every
snippet runs from an empty temporary directory with a clean environment, so
nothing can be imported from the checkout.

1. A venv with the wheel alone (NumPy comes with it): microgradx imports from
   site-packages, with its py.typed marker; the README's "Ten lines" print what
   the README shows; microgradx.testing's strategies say how to get Hypothesis
   (pip install microgradx[testing]), and assert_gradients_match works without it.
2. The same venv after `pip install "WHEEL[testing,viz]"`: docs/quickstart.md's
   Python blocks run in order, and microgradx.testing.tensors() draws arrays.

Exits non-zero, saying which check failed, on the first failure.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)


def fail(message: str) -> None:
    print(f"check_wheel: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def run(python: Path, code: str, cwd: Path) -> str:
    """Run ``code`` with ``python`` in ``cwd`` with a clean environment; its stdout, or fail."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["MPLBACKEND"] = "Agg"
    done = subprocess.run([str(python), "-c", code], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"this code exited with {done.returncode}:\n{code}\n--- stderr ---\n{done.stderr}")
    return done.stdout


def pip(python: Path, *args: str) -> None:
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", *args], capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"pip install {' '.join(args)}:\n{done.stdout}\n{done.stderr}")


def check_archives(wheel: Path, sdist: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for want in ("microgradx/__init__.py", "microgradx/py.typed"):
        if want not in names:
            fail(f"{wheel.name} lacks {want}")
    if not any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in names):
        fail(f"{wheel.name} has no LICENSE in its .dist-info")
    if any(n.startswith(("tests/", "examples/", "benchmarks/")) for n in names):
        fail(f"{wheel.name} installs tests, examples or benchmarks as top-level packages")
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[-1] for m in tar.getmembers()}
    for want in ("LICENSE", "README.md", "setup.cfg", "pyproject.toml", "microgradx/py.typed"):
        if want not in members:
            fail(f"{sdist.name} lacks {want}")
    print(f"check_wheel: {wheel.name} and {sdist.name} hold the package, py.typed and LICENSE")


def main(dist: Path) -> None:
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        fail(f"expected one wheel and one sdist in {dist}, found {[p.name for p in dist.iterdir()]}")
    wheel = wheels[0].resolve()
    check_archives(wheel, sdists[0])

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```python\n(.*?)```", readme, re.S)
    shown = re.search(r"prints\n\n```text\n(.*?)```", readme, re.S)
    if example is None or shown is None:
        fail("README.md has no ```python example followed by 'prints' and a ```text block")
    quickstart = "\n".join(
        body
        for lang, body in FENCE.findall((ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8"))
        if lang == "python"
    )

    with tempfile.TemporaryDirectory(prefix="microgradx-wheel-") as tmp:
        home, work = Path(tmp) / "venv", Path(tmp) / "work"
        work.mkdir()
        venv.EnvBuilder(with_pip=True).create(home)
        python = home / "bin" / "python"
        if not python.exists():  # Windows
            python = home / "Scripts" / "python.exe"

        pip(python, str(wheel))
        where = run(
            python, "import microgradx, pathlib; print(pathlib.Path(microgradx.__file__).parent)", work
        )
        package = Path(where.strip())
        if home.resolve() not in package.resolve().parents:
            fail(f"microgradx was imported from {package}, not from the fresh venv {home}")
        if not (package / "py.typed").exists():
            fail("the installed package has no py.typed")
        out = run(python, example.group(1), work)
        if out != shown.group(1):
            fail(f"the README's example printed\n{out}\ninstead of what the README shows:\n{shown.group(1)}")
        print(
            "check_wheel: the wheel alone: imports from the venv; the README's example prints what it shows"
        )
        run(
            python,
            "import numpy as np\n"
            "import microgradx.testing as T\n"
            "T.assert_gradients_match(lambda x: x * x, np.array([1.0, 2.0]))\n"
            "try:\n"
            "    T.tensors()\n"
            "except ModuleNotFoundError as e:\n"
            "    assert 'pip install microgradx[testing]' in str(e), e\n"
            "else:\n"
            "    raise SystemExit('tensors() worked without Hypothesis?')\n",
            work,
        )
        print("check_wheel: without Hypothesis, the strategies say: pip install microgradx[testing]")

        pip(python, f"{wheel}[testing,viz]")
        run(python, quickstart, work)
        run(
            python,
            "from hypothesis import find\nimport microgradx.testing as T\n"
            "print(find(T.tensors(shape=(2,)), lambda a: True))\n",
            work,
        )
        print("check_wheel: with [testing,viz]: docs/quickstart.md runs, and the strategies draw")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))

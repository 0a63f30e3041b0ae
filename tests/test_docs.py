"""Every Python block of docs/*.md runs (blocks of one page share a namespace, in order)."""

import contextlib
import io
import re
from pathlib import Path

import pytest

DOCS = sorted((Path(__file__).resolve().parent.parent / "docs").glob("*.md"))


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_python_blocks_run(page):
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
    with contextlib.redirect_stdout(io.StringIO()):
        for block in blocks:
            exec(compile(block, str(page), "exec"), namespace)


def test_documented_outputs():
    out = io.StringIO()
    page = Path(__file__).resolve().parent.parent / "docs" / "gradient_checking.md"
    ns: dict = {}
    with contextlib.redirect_stdout(out):
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), re.S):
            exec(compile(block, str(page), "exec"), ns)
    text = out.getvalue()
    assert "[6. 8.]" in text and "0.3" in text
    assert "is wrong at index (1, 0)" in text and "4 of 4 elements are off" in text


def test_the_site_builds_strictly(tmp_path):
    """`make docs` builds with --strict; CI builds it here (any warning fails)."""
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    ops = (tmp_path / "site" / "ops" / "index.html").read_text()
    assert "Backward:" in ops and "sigmoid" in ops.lower()  # the formulas come from the docstrings

"""The figures and the printed output of `make demo` and the book's scripts, as a reader sees them.

Every plot has a title and axis labels, epoch (and step) axes have whole-number
ticks, simpleNet's heat map prints its values, printed paths are normalised
(examples/out/x.png, not examples/book/../out/x.png), and `make demo` piped into
a file gives one line per epoch (no tqdm bar stuck at 0%). Figures are caught
as the scripts save them (Figure.savefig is wrapped), so nothing is read back
from image files.
"""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.figure  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PLOTS = {  # script: (its figure's name, the axes whose x ticks count epochs or steps)
    "demo.py": ("digits_training.png", "epoch"),
    "book/gradient_descent.py": ("gd.png", None),
    "book/linear_regression.py": ("lr.png", "step"),
    "book/numerical_gradient.py": ("field.png", None),
    "book/quadratic_descent.py": ("q.png", None),
    "book/simple_net.py": ("s.png", None),
    "book/tangent_line.py": ("t.png", None),
}


@pytest.fixture
def saved_figures(monkeypatch):
    """The figures the scripts save, drawn (so their ticks are final), in order."""
    figures = []
    original = matplotlib.figure.Figure.savefig

    def savefig(fig, *args, **kwargs):
        original(fig, *args, **kwargs)
        figures.append(fig)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    return figures


def _run(script, out_dir):
    main = runpy.run_path(str(EXAMPLES / script), run_name="example")["main"]
    if script == "demo.py":
        return main(str(out_dir), epochs=2, quiet=True)
    return main(str(out_dir / PLOTS[script][0]))


def _plot_axes(fig):
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


@pytest.mark.parametrize("script", sorted(PLOTS))
def test_every_plot_has_a_title_and_axis_labels(script, tmp_path, saved_figures, capsys):
    _run(script, tmp_path)
    capsys.readouterr()
    (fig,) = saved_figures
    for ax in _plot_axes(fig):
        assert ax.get_title(), f"{script}: an axes without a title"
        assert ax.get_xlabel() and ax.get_ylabel(), f"{script}: '{ax.get_title()}' lacks an axis label"
        counted = PLOTS[script][1]
        if counted is not None and ax.get_xlabel() == counted:
            lo, hi = ax.get_xlim()
            ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
            assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), (script, ticks)


def test_simple_net_heat_map_shows_its_values(tmp_path, saved_figures, capsys):
    dW, _, _ = _run("book/simple_net.py", tmp_path)
    capsys.readouterr()
    (ax,) = _plot_axes(saved_figures[0])
    shown = sorted(t.get_text() for t in ax.texts)
    assert shown == sorted(f"{v:.8f}" for v in np.ravel(dW))  # each dL/dW[i, j], 8 decimals as the book


@pytest.mark.parametrize(
    "script", [s for s in sorted(PLOTS) if s.startswith("book/")] + ["book/mlp_w21_update.py"]
)
def test_default_paths_are_printed_normalised(script, tmp_path, monkeypatch, capsys):
    """`python examples/book/x.py` from the repository's root prints examples/out/..., no book/../."""
    copy = tmp_path / "examples" / script
    copy.parent.mkdir(parents=True)
    copy.write_text((EXAMPLES / script).read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(copy), run_name="example")["main"]()  # __file__ absolute, as python gives a script
    lines = capsys.readouterr().out.splitlines()
    printed = [line.split(": ", 1)[1] for line in lines if line.startswith("figure: ")]
    printed += [line.split(" written to ", 1)[1] for line in lines if " written to " in line]
    assert printed or "graph not drawn" in "\n".join(lines)  # (mlp_w21_update without Graphviz)
    for path in printed:
        assert path == os.path.join("examples", "out", os.path.basename(path)), path
        assert (tmp_path / path).exists()


def test_make_demo_piped_prints_one_line_per_epoch(tmp_path):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py"), str(tmp_path / "a" / ".." / "out"), "--epochs", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one pipe for both, as `make demo | tee log` with 2>&1
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout
    out = done.stdout
    assert "\r" not in out and "%|" not in out, out  # no tqdm bar in a pipe
    assert [line.split()[:2] for line in out.splitlines() if line.startswith("epoch")] == [
        ["epoch", "1"],
        ["epoch", "2"],
    ]
    assert f"loss/accuracy curve: {tmp_path / 'out' / 'digits_training.png'}" in out  # normalised

"""The notebooks in notebooks/ (English) and notebooks/zh/ (Chinese) run and teach the right numbers.

Every notebook is executed top to bottom with nbclient, in a kernel running this
interpreter; any error fails the test. The numbers asserted are the book's printed
values (Deep Learning from Scratch, chapter 4) or closed forms computed here with
NumPy, named next to each. The twins' code cells must be equal, so the two
languages cannot drift apart, and every committed notebook must carry no outputs.

The structural tests need only the standard library; executing needs nbclient,
nbformat and ipykernel (in the dev extra, so CI runs it).
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
STEMS = [  # one per worked example of docs/book.md; a missing file fails, it is not skipped
    "01_numerical_gradient",
    "02_gradient_descent",
    "03_simple_net",
    "04_mlp_w21_step",
    "05_linear_regression",
]
LANGUAGES = {"en": NOTEBOOKS, "zh": NOTEBOOKS / "zh"}
PATHS = [
    pytest.param(folder / f"{stem}.ipynb", id=f"{lang}/{stem}")
    for lang, folder in LANGUAGES.items()
    for stem in STEMS
]
# the book's Chinese terms (Simplified), as its Chinese edition uses them
BOOK_TERMS_ZH = ["数值微分", "梯度", "计算图", "反向传播", "链式法则", "损失函数", "交叉熵误差", "学习率"]


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell):
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


# --------------------------------------------------------------------------- #
# structure: no nbclient needed
# --------------------------------------------------------------------------- #
def test_there_is_one_notebook_per_example_in_each_language():
    for folder in LANGUAGES.values():
        assert sorted(p.stem for p in folder.glob("*.ipynb")) == STEMS, folder


@pytest.mark.parametrize("stem", STEMS)
def test_twins_have_the_same_code_and_translated_text(stem):
    en, zh = (read(folder / f"{stem}.ipynb")["cells"] for folder in LANGUAGES.values())
    assert [c["cell_type"] for c in en] == [c["cell_type"] for c in zh], (
        "the twins' cells differ in kind or order"
    )
    for i, (a, b) in enumerate(zip(en, zh, strict=True)):
        if a["cell_type"] == "code":
            assert source(a) == source(b), f"code cell {i} differs between {stem}'s twins"
        else:
            assert re.search(r"[\u4e00-\u9fff]", source(b)), f"zh/{stem} markdown cell {i} is not translated"
            assert not re.search(r"[\u4e00-\u9fff]", source(a)), f"{stem} markdown cell {i} has Chinese text"


def test_the_chinese_twins_use_the_books_terms():
    text = "".join(source(c) for stem in STEMS for c in read(NOTEBOOKS / "zh" / f"{stem}.ipynb")["cells"])
    assert [t for t in BOOK_TERMS_ZH if t not in text] == []


@pytest.mark.parametrize("path", PATHS)
def test_committed_notebooks_carry_no_outputs(path):
    nb = read(path)
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"cell {i}: run nbstripout"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", PATHS)
def test_nbstripout_would_change_nothing(path):
    pytest.importorskip("nbstripout", reason="nbstripout (dev extra) checks the committed form")
    run = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--verify", str(path)], capture_output=True, text=True
    )
    assert run.returncode == 0, f"{path.name} is not as nbstripout leaves it: {run.stdout}{run.stderr}"


# --------------------------------------------------------------------------- #
# execution
# --------------------------------------------------------------------------- #
def closed_form_linear_fit():
    """np.polyfit's least-squares line through the notebook's five points."""
    X = np.array([0.0, 0.25, 0.5, 0.74, 1.0])
    Y = np.array([0.0, 0.36, 0.54, 0.82, 1.0])
    slope, intercept = np.polyfit(X, Y, 1)
    return f"w = {slope:.6f}, b = {intercept:.6f}"


# strings each notebook must print (each at least `count` times), and the rich outputs it must show
EXPECTED = {
    "01_numerical_gradient": {
        # the book's gradient_2d.py prints these three
        "text": {
            "[3.0, 4.0] [6. 8.]": 1,
            "[0.0, 2.0] [0. 4.]": 1,
            "[3.0, 0.0] [6. 0.]": 1,
            "backprop:           [6.0, 8.0]": 1,  # 2x, exactly
        },
        "mime": {"image/png": 1, "text/html": 2},  # the field; x and y as tables
    },
    "02_gradient_descent": {
        "text": {
            # the book's numerical_diff, digit for digit; the exact derivative 0.02 x + 0.1
            "x = 5: numerical_diff 0.1999999999990898, backprop 0.2": 1,
            "x = 10: numerical_diff 0.2999999999986347, backprop 0.3": 1,
            # the book's gradient_method.py, backprop with optim.SGD, and 0.8**100 * (-3, 4)
            "[-6.11110793e-10  8.14814391e-10]": 3,
            "[-2.58983747e+13 -1.29524862e+12]": 1,  # the book, lr = 10
            "[-2.99999994  3.99999992]": 1,  # the book, lr = 1e-10
            "numerical_gradient at x_large: [0. 0.]": 1,  # why lr = 10 stalls there
            # backprop diverges as the exact iteration x <- -19 x does
            str((-19.0) ** 100 * np.array([-3.0, 4.0])): 2,
        },
        "mime": {"image/png": 2},
    },
    "03_simple_net": {
        "text": {
            "[1.05414809 0.63071653 1.1328074 ]": 1,  # the book's net.predict(x)
            f"{0.92806853663411326:.8f}\n": 1,  # the book's printed loss, to the 8 digits of its printed W
            "0.92806829\n": 1,  # -log(y + 1e-7), the loss as the book's code computes it
            # the book's printed dW (the exact loss)
            "[[ 0.21924763  0.14356247 -0.36281009]\n [ 0.32887144  0.2153437  -0.54421514]]": 1,
            "[[ 0.21924757  0.14356243 -0.36281   ]": 1,  # dW of the loss as coded
        },
        "mime": {"image/svg+xml": 1, "image/png": 1, "text/html": 1},
    },
    "04_mlp_w21_step": {
        "text": {
            "dE/dw21 = -0.0035747": 1,  # the source: -0.004, rounded
            "chain rule by hand: -0.0035746767": 1,
            "backprop:           -0.0035746767": 1,
            "w21 - lr * dE/dw21      = 2.0007149": 1,  # 2 + 0.2 * 0.0035746767
            "w21 + lr * (-0.004)     = 1.9992": 1,  # what the source prints
        },
        "mime": {"image/svg+xml": 1},
    },
    "05_linear_regression": {
        "text": {closed_form_linear_fit(): 2},  # gradient descent reaches the least-squares line
        "mime": {"image/svg+xml": 1, "image/png": 1, "text/html": 1},
    },
}
NEEDS_DOT = "image/svg+xml"


@pytest.fixture(scope="module")
def kernel_manager_factory(tmp_path_factory):
    """Kernels that run this interpreter (whatever 'python3' means elsewhere on the machine)."""
    pytest.importorskip(
        "nbclient", reason="executing notebooks needs nbclient, nbformat and ipykernel (dev extra)"
    )
    pytest.importorskip("ipykernel", reason="executing notebooks needs ipykernel (dev extra)")
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec = tmp_path_factory.mktemp("kernels") / "python3"
    spec.mkdir()
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"})
    )
    specs = KernelSpecManager(kernel_dirs=[str(spec.parent)], ensure_native_kernel=False)
    return lambda: KernelManager(kernel_name="python3", kernel_spec_manager=specs)


_EXECUTED = {}  # path -> the executed notebook: each runs once per session


def execute(path, kernel_manager_factory):
    import nbformat
    from nbclient import NotebookClient

    if path not in _EXECUTED:
        nb = nbformat.read(path, as_version=4)
        resources = {
            "metadata": {"path": str(path.parent)}
        }  # run from the notebook's folder, as Jupyter does
        NotebookClient(nb, km=kernel_manager_factory(), timeout=300, resources=resources).execute()
        _EXECUTED[path] = nb  # execute() raised CellExecutionError, naming the cell, on any error
    return _EXECUTED[path]


@pytest.mark.parametrize("path", PATHS)
def test_notebook_runs_and_shows_the_books_numbers(path, kernel_manager_factory):
    expected = EXPECTED[path.stem]
    if NEEDS_DOT in expected["mime"] and shutil.which("dot") is None:
        pytest.skip("this notebook draws a graph: it needs Graphviz's dot program (make dot installs it)")
    nb = execute(path, kernel_manager_factory)
    text, mimes = "", []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name}: {out}"
            if out["output_type"] == "stream" and out["name"] == "stdout":
                text += out["text"]
            elif out["output_type"] in ("display_data", "execute_result"):
                mimes += list(out["data"])
                text += out["data"].get("text/plain", "") + "\n"
    for want, count in expected["text"].items():
        assert text.count(want) >= count, f"{path.name} should print {want!r} ({count}x); it printed:\n{text}"
    for mime, count in expected["mime"].items():
        assert mimes.count(mime) >= count, f"{path.name} should show {count} {mime}; it showed {mimes}"


def test_the_w21_step_goes_downhill_and_the_sources_goes_uphill(kernel_manager_factory):
    """E after descent < E before < E after the source's step (read from the notebook's own table)."""
    nb = execute(NOTEBOOKS / "04_mlp_w21_step.ipynb", kernel_manager_factory)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    E = {k: float(v) for k, v in re.findall(r"^(before|descent|source)\s+w21 = \S+\s+E = (\S+)$", text, re.M)}
    assert E["descent"] < E["before"] < E["source"], E

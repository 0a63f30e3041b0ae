"""The package as PyPI and a user's pip see it: metadata, licence, long description, the wheel.

`make dist` (which CI runs) builds the real sdist and wheel with `python -m build`,
runs `twine check --strict` and installs the wheel in a fresh venv
(.ci/check_wheel.py). These tests check the same promises without the network:
the metadata in setup.cfg, the README's links, and a wheel built offline from a
copy of the sources.
"""

import configparser
import email.parser
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CFG = configparser.ConfigParser()
CFG.read(ROOT / "setup.cfg", encoding="utf-8")
META = CFG["metadata"]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.strip().splitlines() if line.strip()]


def test_licence_file_is_mit_as_declared():
    assert META["license_expression"] == "MIT" and META["license_files"].strip() == "LICENSE"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c)")
    assert "Permission is hereby granted, free of charge" in text  # the MIT text, not another
    # PEP 639: with a License-Expression, "License ::" classifiers are deprecated (setuptools warns)
    assert not any(c.startswith("License ::") for c in _lines(META["classifiers"]))


def test_classifiers_name_status_topic_and_the_tested_pythons():
    classifiers = _lines(META["classifiers"])
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert any(c.startswith("Topic :: Scientific/Engineering") for c in classifiers)
    versions = [
        c.rsplit(" :: ", 1)[1]
        for c in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    low = re.fullmatch(r">=(3\.\d+)", CFG["options"]["python_requires"].strip()).group(1)
    assert versions[0] == low  # python_requires and the classifiers agree
    assert [int(v.split(".")[1]) for v in versions] == list(range(10, 10 + len(versions)))  # no gap
    # CI tests the oldest and newest of exactly these (.ci/run's SUPPORTED)
    supported = (
        re.search(r"^SUPPORTED=\(([^)]*)\)", (ROOT / ".ci" / "run").read_text(), re.M).group(1).split()
    )
    assert supported == versions


def test_authors_and_project_urls():
    assert META["author"].strip()
    url = META["url"].strip()
    urls = dict(line.split(" = ", 1) for line in _lines(META["project_urls"]))
    assert {"Documentation", "Source", "Issues"} <= set(urls)
    assert all(u.startswith(url) for u in urls.values())


def test_testing_extra_installs_hypothesis_and_dev_stays():
    extras = CFG["options.extras_require"]
    assert any(r.startswith("hypothesis") for r in _lines(extras["testing"]))
    dev = _lines(extras["dev"])
    assert any(r.startswith("hypothesis") for r in dev) and any(r.startswith("pytest") for r in dev)


def test_readme_links_and_images_are_absolute_and_name_files_that_exist():
    """PyPI shows the README without the repository: a relative link or image breaks there."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    url = META["url"].strip()
    raw = url.replace("https://github.com/", "https://raw.githubusercontent.com/")
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r"""(?:src|href)=["']([^"']+)""", text)
    assert len(targets) >= 5
    for target in targets:
        if target.startswith("#"):
            continue
        assert target.startswith(("https://", "http://")), f"README link {target!r} is relative"
        if target.startswith(url + "/blob/main/") or target.startswith(url + "/tree/main/"):
            path = target.split("/main/", 1)[1]
        elif target.startswith(raw + "/main/"):
            path = target[len(raw + "/main/") :]
        else:
            continue  # a link elsewhere
        assert (ROOT / path).exists(), f"README links to {target}, but {path} is not in the repository"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """A wheel built offline (no build isolation) from a copy of what the sdist holds."""
    pytest.importorskip("setuptools", minversion="77", reason="setuptools >= 77 builds the wheel")
    src = tmp_path_factory.mktemp("src")
    for name in ("setup.cfg", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "microgradx", src / "microgradx", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(src),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (path,) = out.glob("microgradx-*.whl")
    return path


def test_the_wheel_holds_the_package_typed_and_licensed(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "microgradx/py.typed" in names and "microgradx/nn/layers.py" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "examples/", "benchmarks/", "docs/")) for n in names)


def test_the_wheel_metadata(wheel):
    with zipfile.ZipFile(wheel) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        meta = email.parser.Parser().parsestr(z.read(name).decode("utf-8"))
    assert meta["License-Expression"] == "MIT"
    assert meta["Requires-Python"] == ">=3.10"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().strip() == (ROOT / "README.md").read_text(encoding="utf-8").strip()
    assert 'hypothesis>=6.100; extra == "testing"' in meta.get_all("Requires-Dist")
    assert "Programming Language :: Python :: 3.13" in meta.get_all("Classifier")
    assert any(v.startswith("Source, https://") for v in meta.get_all("Project-URL"))


def test_twine_check_strict_passes(wheel):
    """PyPI's own rendering of the long description (``make dist`` runs it on the real artefacts)."""
    pytest.importorskip("twine", reason="twine is not installed here; `make dist` installs and runs it")
    markdown = pytest.importorskip("readme_renderer.markdown")
    if not markdown.variants:
        pytest.skip("readme_renderer[md] is not installed: without it twine renders no Markdown")
    html = markdown.render((ROOT / "README.md").read_text(encoding="utf-8"))
    assert html is not None and '<img src="https://' in html  # rendered, the image absolute
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel)], capture_output=True, text=True
    )
    assert done.returncode == 0 and "PASSED" in done.stdout, done.stdout + done.stderr


def test_the_api_reference_documents_tensor_once():
    """docs/reference.md: `::: microgradx.tensor` (the module) must not render the Tensor class again."""
    page = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    directives = re.findall(r"^::: (\S+)\n((?:    .*\n)*)", page, re.M)
    targets = [name for name, _ in directives]
    assert targets.count("microgradx.Tensor") == 1 and "microgradx.tensor.Tensor" not in targets
    (options,) = [opts for name, opts in directives if name == "microgradx.tensor"]
    members = re.search(r"members: \[([^\]]*)\]", options)
    assert members is not None and [m.strip() for m in members.group(1).split(",")] == ["tensor"]
    assert "microgradx.set_grad_enabled" in targets

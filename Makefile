# Every target does its own set-up on a fresh machine: a .venv with the package
# and its extras, and the Graphviz `dot` program when it is missing.
# Another interpreter gets its own venv: make test PYTHON=python3.13 VENV=.venv/py3.13
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)
EXTRAS ?= dev,viz,examples,docs
# TORCH_ORACLE=1 also installs PyTorch (CPU, ~200 MB) so the tests compare every op with it.
TORCH_STAMP := $(if $(TORCH_ORACLE),$(VENV)/.installed-torch,)

# Extra pytest arguments, e.g. PYTEST_ARGS="-x tests/test_tensor.py"
PYTEST_ARGS ?=

.PHONY: test demo docs bench lint typecheck dot clean images dist

$(STAMP):
	rm -f $(VENV)/.installed-*
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS)]'
	touch $@

$(VENV)/.installed-torch: $(STAMP)
	$(BIN)/python -m pip install -q 'torch==2.13.0'
	touch $@

# Graphviz's `dot` renders graphs; install the system package when we can.
dot:
	@command -v dot >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo -n"; \
	    ($$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq graphviz >/dev/null) \
	      || echo "note: could not install graphviz (dot); rendering tests will skip"; \
	  elif command -v brew >/dev/null 2>&1; then brew install graphviz; \
	  else echo "note: install Graphviz (the dot program) to render graphs"; fi; }

test: $(STAMP) $(TORCH_STAMP) dot
	$(BIN)/ruff check microgradx tests examples benchmarks
	$(BIN)/ruff format --check --quiet microgradx tests examples benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP) dot
	$(BIN)/python examples/demo.py

# Redraw the committed pictures in docs/images (the examples write to examples/out/ otherwise).
images: $(STAMP) dot
	$(BIN)/python examples/engine_step.py docs/images/engine_step.svg
	$(BIN)/python examples/book/mlp_w21_update.py docs/images/mlp_2_2_1.svg

# Benchmarks against the hand-written NumPy floor (and PyTorch CPU with TORCH_ORACLE=1).
bench: $(STAMP) $(TORCH_STAMP)
	$(BIN)/python benchmarks/bench.py

# The documentation site (MkDocs + Material + mkdocstrings), built with --strict into site/.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff check microgradx tests examples benchmarks
	$(BIN)/ruff format --check microgradx tests examples benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# The release artefacts in dist/: sdist and wheel built as a release would be
# (python -m build), checked as PyPI will (twine check --strict), then the wheel
# installed in a fresh venv where the README's example and docs/quickstart.md run.
dist: $(STAMP)
	$(BIN)/python -m pip install -q build twine 'readme_renderer[md]'  # [md]: twine check renders Markdown
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*
	$(BIN)/python .ci/check_wheel.py dist

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis

# The two commands a new developer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit extension-test vscode-test screenshots bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python samples/demo.py

lint: $(STAMP)
	$(BIN)/ruff check server agent tests benchmarks samples
	$(BIN)/lint-imports

# tests/vscode needs the .vsix and code-server: `make vscode-test` runs it.
unit: $(STAMP)
	$(BIN)/python -m pytest -q --ignore=tests/vscode

# The VS Code extension: its unit tests, then its .vsix (vscode-extension/kubelocal.vsix).
extension-test:
	cd vscode-extension && npm ci --no-audit --no-fund && npm test && npm run package

# A real VS Code (code-server in headless Chromium; install.sh puts it in tests/vscode/driver once)
# installs the .vsix and connects through the command palette against the sandbox.
vscode-test: $(STAMP) extension-test
	tests/vscode/driver/install.sh
	$(BIN)/python -m pytest -q tests/vscode

# The README's screenshots (docs/images/vscode-*.png), refreshed by a run of that test.
screenshots: $(STAMP) extension-test
	tests/vscode/driver/install.sh
	KUBELOCAL_VSCODE_SCREENSHOTS=docs/images $(BIN)/python -m pytest -q tests/vscode

test: lint unit extension-test vscode-test

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .bench

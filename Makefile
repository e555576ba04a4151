# The two commands a new developer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit extension-test bench clean

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

unit: $(STAMP)
	$(BIN)/python -m pytest -q

# The VS Code extension: its unit tests, then its .vsix (vscode-extension/kubelocal.vsix).
extension-test:
	cd vscode-extension && npm ci --no-audit --no-fund && npm test && npm run package

test: lint unit extension-test

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .bench

# The two set-up commands: `make export` and `make test`. Both create .venv when missing;
# only `make test` installs the test extras.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: export test bench pictures venv clean

export: $(STAMP)
	$(BIN)/cfexport build --framework framework --out output

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

pictures: $(STAMP)
	$(BIN)/python tools/make_pictures.py

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

clean:
	rm -rf $(VENV) output/*/ output/*.json

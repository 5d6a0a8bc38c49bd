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

# setuptools warns on every editable install of a package whose data folder (templates/) sits
# outside src/; that note is for setuptools' own developers, not for people running make.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

# `make clean` removes .venv and, in output/, what a build wrote there: the top-level files and
# folders its manifest lists, the manifest, and a killed build's hidden leftovers (.cfexport-*).
# output/.gitkeep, packs/ and files of your own stay.
define CLEAN_OUTPUT
import json, pathlib, shutil
out = pathlib.Path("output")
try:
    names = {f["path"].split("/")[0] for f in json.loads((out / "manifest.json").read_text("utf-8"))["files"]}
except (OSError, ValueError, KeyError, TypeError, AttributeError):
    names = set()
for name in sorted(names | {"manifest.json"}):
    path = out / name
    if not name or name.startswith(".") or path.parent != out:
        continue
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
endef
export CLEAN_OUTPUT

clean:
	$(PYTHON) -c "$$CLEAN_OUTPUT"
	rm -rf $(VENV) output/.cfexport-*

# Two commands do all the set-up on a fresh machine:
#   make report Q="Which product categories grew fastest in 2024?"   (needs a model key)
#   make test
# Both create .venv and install stageagent into it first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
Q ?= Which product categories brought the most revenue in 2024, and how did they trend month by month?
OUT ?= out/report
MODEL ?=

.PHONY: install report test bench clean

$(BIN)/stageagent: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/stageagent

report: install
	$(BIN)/stageagent report "$(Q)" --out $(OUT) $(if $(MODEL),--model $(MODEL),)

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) out .pytest_cache

# The two verbs a person needs: `make demo` and `make test`. Both set up .venv from pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
WORKDIR ?= guidefund-work
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/guidefund demo --workdir $(WORKDIR)

test: $(VENV)/.installed
	$(BIN)/ruff check guidefund flows warehouse expectations tests benchmarks
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check guidefund flows warehouse expectations tests benchmarks

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/demo_stages.py
	$(BIN)/python benchmarks/read_validate.py
	$(BIN)/python benchmarks/warehouse_load.py
	$(BIN)/python benchmarks/year_end_sql.py
	$(BIN)/python benchmarks/prefect_server.py
	$(BIN)/python benchmarks/printed_forms.py
	$(BIN)/python benchmarks/nightly_scale.py
	$(BIN)/python benchmarks/hostile.py

clean:
	rm -rf $(WORKDIR)

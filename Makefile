# Two commands on a fresh machine: `make demo` and `make test`. Each bootstraps .venv when missing.
VENV   ?= .venv
PY     := $(VENV)/bin/python
LADDER := $(VENV)/bin/ladder
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lab bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(LADDER) sandbox down
	$(LADDER) sandbox up
	$(LADDER) run 1-separate-dev-and-prod --config sandbox --apply

test: setup
	$(VENV)/bin/pytest --nbval-lax --nbval-current-env tests runbooks notebooks

lab: setup
	$(VENV)/bin/jupyter lab

bench: setup
	$(PY) bench/fanout.py

clean:
	$(LADDER) sandbox down || true
	rm -rf $(VENV) runs

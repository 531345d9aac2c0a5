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
	@before="$$($(LADDER) assess --config sandbox)" && echo "$$before" && \
	$(LADDER) run 1-separate-dev-and-prod --config sandbox --apply && \
	after="$$($(LADDER) assess --config sandbox)" && echo "$$after" && \
	echo && echo "assessment reports:" && \
	echo "  before rung 1: $$(echo "$$before" | sed -n 's/^ *report: *//p')" && \
	echo "  after rung 1:  $$(echo "$$after" | sed -n 's/^ *report: *//p')"

test: setup
	$(VENV)/bin/pytest --nbval-lax --nbval-current-env tests runbooks notebooks

lab: setup
	$(VENV)/bin/jupyter lab

bench: setup
	$(PY) bench/fanout.py
	$(PY) bench/overhead.py
	$(PY) bench/assess.py

clean:
	$(LADDER) sandbox down || true
	rm -rf $(VENV) runs

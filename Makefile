# Two commands on a fresh machine: `make demo` and `make test`. Each bootstraps .venv when missing.
VENV   ?= .venv
PY     := $(VENV)/bin/python
LADDER := $(VENV)/bin/ladder
STAMP  := $(VENV)/.installed
LINTED := lib tests bench conftest.py setup.py

.PHONY: setup demo test test-fast lint lock lab bench clean

setup: $(STAMP)

# constraints.txt pins every package (see its header); pyproject.toml only gives ranges.
$(STAMP): pyproject.toml setup.py constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev,bench,gates]'
	touch $(STAMP)

# The sandbox's short timings: alerts judged over seconds, a canary's steps of 10 s with Flagger's load tester.
SANDBOX_ALERTS = -p alert_window 20s -p alert_for 3s -p alert_interval 1s
SANDBOX_CANARY = -p interval 10 -p load_rps 20 -p max_p99_ms 1000

demo: setup
	$(LADDER) sandbox down
	$(LADDER) sandbox up --hosts 2
	@before="$$($(LADDER) assess --config sandbox)" && echo "$$before" && \
	$(LADDER) run 1-separate-dev-and-prod --config sandbox --apply && \
	after="$$($(LADDER) assess --config sandbox)" && echo "$$after" && \
	$(LADDER) run 2-trunk-based-development --config sandbox --apply && \
	after2="$$($(LADDER) assess --config sandbox)" && echo "$$after2" && \
	$(LADDER) run 3a-packaged-artifacts --config sandbox --apply && \
	after3a="$$($(LADDER) assess --config sandbox)" && echo "$$after3a" && \
	$(LADDER) run 3b-continuous-integration --config sandbox --apply && \
	after3b="$$($(LADDER) assess --config sandbox)" && echo "$$after3b" && \
	$(LADDER) run 4-continuous-delivery --config sandbox --apply && \
	after4="$$($(LADDER) assess --config sandbox)" && echo "$$after4" && \
	$(LADDER) run 5b-logs-and-monitoring --config sandbox --apply $(SANDBOX_ALERTS) && \
	$(LADDER) run 5c-schema-migrations --config sandbox --apply && \
	$(LADDER) run 5a-canary-release --config sandbox --apply -p pipeline_stage true $(SANDBOX_CANARY) && \
	good="$$($(LADDER) sandbox release --push)" && echo "a good release, through the pipeline and its canary: $$good" && \
	bad="$$($(LADDER) sandbox release --push --fault error)" && echo "a bad release (500s), stopped by its canary: $$bad" && \
	fix="$$($(LADDER) sandbox release --push)" && echo "its fix, shipped through the canary: $$fix" && \
	after5="$$($(LADDER) assess --config sandbox)" && echo "$$after5" && \
	echo && echo "assessment reports:" && \
	echo "  before rung 1: $$(echo "$$before" | sed -n 's/^ *report: *//p')" && \
	echo "  after rung 1:  $$(echo "$$after" | sed -n 's/^ *report: *//p')" && \
	echo "  after rung 2:  $$(echo "$$after2" | sed -n 's/^ *report: *//p')" && \
	echo "  after rung 3a: $$(echo "$$after3a" | sed -n 's/^ *report: *//p')" && \
	echo "  after rung 3b: $$(echo "$$after3b" | sed -n 's/^ *report: *//p')" && \
	echo "  after rung 4:  $$(echo "$$after4" | sed -n 's/^ *report: *//p')" && \
	echo "  after rung 5:  $$(echo "$$after5" | sed -n 's/^ *report: *//p')" && \
	index="$$($(LADDER) report --config sandbox)" && \
	echo && echo "every run and assessment, the level over time and DORA:" && \
	echo "  $$(echo "$$index" | sed -n 's/^index: *//p')"

# Everything, every notebook under nbval: what CI runs. Two workers (most tests wait on kernels, sshd and
# browsers); --dist loadfile keeps each file, and so each notebook's cells, on one worker.
test: setup
	$(VENV)/bin/pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env tests runbooks notebooks

# Unit and local tests only, for the edit loop.
test-fast: setup
	$(VENV)/bin/pytest -n 4 -m "unit or local" tests

lint: setup
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/mypy lib/ladder

# Refresh constraints.txt: the newest versions pyproject.toml allows, installed into a scratch venv.
# Then `make setup test`, and commit constraints.txt if green.
lock:
	@scratch="$$(mktemp -d)" && trap 'rm -rf "$$scratch"' EXIT && \
	python3 -m venv "$$scratch/venv" && \
	"$$scratch/venv/bin/python" -m pip install -q --upgrade pip && \
	"$$scratch/venv/bin/python" -m pip install -q -e '.[dev,bench,gates]' && \
	{ sed -n '/^#/p' constraints.txt; "$$scratch/venv/bin/python" -m pip freeze --exclude-editable; } > "$$scratch/constraints.txt" && \
	mv "$$scratch/constraints.txt" constraints.txt && echo "constraints.txt refreshed; now: make setup test"

# As root (CI, many containers) Jupyter refuses to start without --allow-root. LAB_ARGS: more flags.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: setup
	$(VENV)/bin/jupyter lab $(LAB_FLAGS) $(LAB_ARGS)

bench: setup
	$(PY) bench/fanout.py
	$(PY) bench/overhead.py
	$(PY) bench/assess.py
	$(PY) bench/faults.py

clean:
	$(LADDER) sandbox down || true
	rm -rf $(VENV) runs

# The two commands: `make run` (set up everything, start the app) and `make test` (same, plus dev tools).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501

.PHONY: run test install dev model browser lint eval bench clean

run: install model
	$(BIN)/policyqa init --sample samples
	$(BIN)/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT) --server.headless true

test: dev model browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pip-audit --progress-spinner off -r requirements-dev.lock --disable-pip --no-deps || echo "pip-audit: reported above (advisory only, offline machines may not reach the database)"
	$(BIN)/pytest -q

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

# torch goes first and exactly as torch==2.13.0: a CPU wheel on these machines; any other spec pulls CUDA.
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.lock
	touch $@

# The default embedding model, fetched once per machine into ~/.cache/policyqa (POLICYQA_CACHE_DIR).
model: install
	$(BIN)/policyqa model fetch > /dev/null

# Debian's Chromium for the real-browser test (Playwright's own browser download does not work offline),
# and a Japanese font so its screenshots show text rather than empty boxes.
browser:
	@(test -x /usr/bin/chromium && fc-list :lang=ja | grep -q .) || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-ipafont-gothic > /dev/null) || \
	  echo "chromium not installed: the browser test will be skipped"

# Quality figures: evaluation corpus + sample → eval/results.md, eval/recall.png, README quality section.
eval: dev model
	$(BIN)/python eval/run.py

# Benchmarks (not tests): bench/results/results.md and latency.png. About 10 minutes on 2 cores.
bench: dev model
	$(BIN)/python bench/run.py

lint: dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache *.egg-info

# The two commands: `make run` (set up everything, start the app) and `make test` (same, plus dev tools).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501

.PHONY: run test install dev model browser lint eval bench clean llm llm-install llm-if-provisioned

# Streamlit's upload endpoint gets the app's own limit from the start (0 MB in read-only mode: nothing to upload).
UPLOAD_MB = $$($(BIN)/python -c 'from policyqa.settings import Settings as S; s = S.from_env(); print(0 if s.read_only else s.upload_limit_mb)')

run: install model
	$(BIN)/policyqa init --sample samples
	$(BIN)/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT) --server.headless true \
	  --server.maxUploadSize $(UPLOAD_MB)

test: dev model browser llm-if-provisioned
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

# Optional local answer model: Qwen2.5-Coder-1.5B-Instruct (GGUF) served by llama-cpp-python's OpenAI-compatible
# server on 127.0.0.1 (then: POLICYQA_LLM_URL=http://127.0.0.1:$(LLM_PORT)/v1 make run). llama-cpp-python is
# source-only: built once per machine (6–10 min on 2 cores) with portable CPU flags (the default native build
# crashed with "Illegal instruction" on other CPUs) into the cache, and installed into its own venv.
LLM_VENV   := .venv-llm
LLM_CACHE  := $(or $(POLICYQA_CACHE_DIR),$(HOME)/.cache/policyqa)
LLM_WHEELS := $(LLM_CACHE)/wheels
LLM_PORT   ?= 8080
LLM_FLAGS  := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

llm: install llm-install
	$(BIN)/policyqa llm fetch > /dev/null
	@echo "Serving the answer model on http://127.0.0.1:$(LLM_PORT)/v1 (Ctrl-C stops it). In another terminal:"
	@echo "  POLICYQA_LLM_URL=http://127.0.0.1:$(LLM_PORT)/v1 POLICYQA_LLM_TIMEOUT=300 make run"
	$(LLM_VENV)/bin/python -m llama_cpp.server --model "$$($(BIN)/policyqa llm fetch)" --model_alias local \
	  --host 127.0.0.1 --port $(LLM_PORT) --n_ctx 4096 --n_threads $$(nproc)

llm-install: $(LLM_VENV)/.installed

# For `make test`: where `make llm` already built llama-cpp-python and fetched the model on this machine, install
# it into this clone (seconds) so tests/test_llm_real.py runs against the real model; elsewhere it is skipped.
llm-if-provisioned:
	@if ls $(LLM_WHEELS)/llama_cpp_python-0.3.36-*.whl > /dev/null 2>&1 && \
	  test -f $(LLM_CACHE)/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf; then \
	  $(MAKE) --no-print-directory llm-install || echo "llm-install failed: the real-model test will be skipped"; fi

$(LLM_VENV)/.installed: requirements-llm.lock
	test -x $(LLM_VENV)/bin/python || $(PYTHON) -m venv $(LLM_VENV)
	ls $(LLM_WHEELS)/llama_cpp_python-0.3.36-*.whl > /dev/null 2>&1 || \
	  CMAKE_ARGS="$(LLM_FLAGS)" $(LLM_VENV)/bin/pip wheel -q --no-deps --no-cache-dir -w $(LLM_WHEELS) llama-cpp-python==0.3.36
	$(LLM_VENV)/bin/pip install -q --disable-pip-version-check --find-links $(LLM_WHEELS) -r requirements-llm.lock
	touch $@

lint: dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) $(LLM_VENV) data .pytest_cache .ruff_cache *.egg-info

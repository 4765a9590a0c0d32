# Anfu: the two commands a fresh machine needs are `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench train train-emotion train-risk train-cause train-replies train-outcome train-presend check-rules clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench,scale]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/anfu serve --demo

test: install
	$(BIN)/python -m pytest -q --durations=25  # the slowest, to keep CI under 30 minutes

bench: install
	$(BIN)/python -m bench.run

# every shipped model, from the labels in corpus/ and the public sets in ../shared/data, in
# dependency order (the risk head reads the emotion model; the persona, SOP and outcome models
# read the pipeline's risk; the outcome model reads the emotion and pre-send models' output)
train: train-emotion
	$(MAKE) train-risk
	$(MAKE) train-cause train-replies train-presend train-persona train-sop
	$(MAKE) train-outcome

train-emotion: install
	$(BIN)/anfu train --out anfu/backends/weights/emotion_ngram.npz

train-risk: install
	$(BIN)/anfu train-risk --out anfu/backends/weights/risk_ngram.npz

train-cause: install
	$(BIN)/anfu train-cause --out anfu/backends/weights/cause_ngram.npz

train-outcome: install
	$(BIN)/anfu train-outcome --out anfu/backends/weights/outcome.json

train-presend: install
	$(BIN)/anfu train-presend --out anfu/backends/weights/reply_context.npz

train-persona: install
	$(BIN)/anfu train-persona --out anfu/backends/weights/persona.npz

train-sop: install
	$(BIN)/anfu train-sop --out anfu/backends/weights/sop.npz

train-replies: install
	$(BIN)/anfu train-replies --out anfu/backends/weights/reply_ngram.npz

check-rules: install
	$(BIN)/anfu check-rules

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info

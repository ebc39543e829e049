# Two entry points that work on a fresh machine with only Python 3.11:
#   make run   - virtualenv, install, migrate, deploy the library, seed the sample plant, serve on :8000
#   make test  - the whole test suite (SQLite always; PostgreSQL/Redis/Mosquitto when reachable,
#                and required when ANJIAN_REQUIRE_SERVICES=1)
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install clean bench simulate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Scheduled hub jobs in the demo: MES sync every 15 min (start `anjian mes-simulator` for data; without
# it each sync is recorded as failed), the fusion analyses nightly at 02:00 UTC. Override by setting them.
run: export ANJIAN_MES_SYNC_SECONDS ?= 900
run: export ANJIAN_ANALYTICS_AT ?= 02:00
run: $(STAMP)
	$(BIN)/anjian migrate
	$(BIN)/anjian deploy bpmn forms --as designer1
	$(BIN)/anjian seed
	$(BIN)/anjian serve --host 127.0.0.1 --port 8000

# In a second terminal while `make run` serves: sensor readings for tank-farm-3 with a gas excursion
# after 20 s, written through the ingest pipeline (no MQTT broker needed). With MQTT_URL set and
# `anjian ingest` running, drop --direct to publish over MQTT instead.
simulate: $(STAMP)
	$(BIN)/anjian simulate --area tank-farm-3 --direct --duration 120

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache

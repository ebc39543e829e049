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

# The demo: migrate, deploy the library, seed the sample plant and load a marked demo year into the data
# hub with the analyses of the last full month, so the fusion report has findings (`anjian hub demo
# --remove` takes it out, and it is not loaded again; their output goes to var/setup.log, shown only when
# a step fails), then serve with the MES simulator beside it, so the scheduled MES sync
# (every 15 min) has work orders to read; the fusion analyses run nightly at 02:00 UTC. The first lines
# printed are the workspace URL and the demo users. Ctrl-C stops both.
run: export ANJIAN_MES_SYNC_SECONDS ?= 900
run: export ANJIAN_ANALYTICS_AT ?= 02:00
run: $(STAMP)
	@mkdir -p var
	@( $(BIN)/anjian migrate && $(BIN)/anjian deploy bpmn forms --as designer1 && $(BIN)/anjian seed \
	  && $(BIN)/anjian hub demo --if-new ) \
	  > var/setup.log 2>&1 || { cat var/setup.log; exit 1; }
	@$(BIN)/anjian mes-simulator > var/mes-simulator.log 2>&1 & \
	  trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/anjian serve --host 127.0.0.1 --port 8000 --demo

# In a second terminal while `make run` serves: sensor readings for tank-farm-3 with a gas excursion
# after 20 s, written through the ingest pipeline (no MQTT broker needed). With MQTT_URL set and
# `anjian ingest` running, drop --direct to publish over MQTT instead.
simulate: $(STAMP)
	$(BIN)/anjian simulate --area tank-farm-3 --direct --duration 120

# Test files run on TEST_JOBS processes (a file stays on one: its module fixtures start servers once).
TEST_JOBS ?= 2
test: $(STAMP)
	$(BIN)/pytest -n $(TEST_JOBS) --dist loadfile $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache

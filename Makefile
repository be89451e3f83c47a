# layer2.linux: the README's words are the targets. Run as root on Debian 12.
VENV ?= .venv
PYTHON := $(abspath $(VENV))/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)
export PYTHON

.PHONY: demo test lint sanity unit integration kernel molecule bench build system-deps venv clean

demo: venv
	$(PYTHON) -m demo

# The kernel tier runs in the background from the start (its UML kernel built while the venv installs), beside the host
# tiers (scripts/test-tiers.sh, which installs both). Each tier's wall time is printed after it and kept in $(TIMES),
# which .ci/run prints again at the end.
TIMES := .cache/tier-times
test:
	@scripts/test-tiers.sh $(TIMES) kernel lint sanity unit integration

system-deps:
	scripts/system-deps.sh

venv: system-deps $(VENV)/.installed

$(VENV)/.installed: requirements.txt test-requirements.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -r test-requirements.txt
	touch $@

lint: venv
	ruff check .
	yamllint -s .
	ansible-lint
	antsibull-changelog lint

# ansible-test installs its pinned tools into the interpreter it runs on: give it a venv of its own.
SANITY_VENV ?= .cache/sanity-venv
sanity: venv $(SANITY_VENV)/.installed
	PATH=$(abspath $(SANITY_VENV))/bin:$$PATH scripts/sanity.sh

$(SANITY_VENV)/.installed: test-requirements.txt
	python3 -m venv $(SANITY_VENV)
	$(SANITY_VENV)/bin/python -m pip install -q "$$(grep -m1 '^ansible-core' test-requirements.txt)"
	touch $@

# Each tier leaves a JUnit report in $(JUNIT) so CI can print one total for all tiers.
JUNIT := .cache/junit
unit: venv
	$(PYTHON) -m pytest tests/unit --junitxml=$(JUNIT)/unit.xml

integration: venv
	$(PYTHON) -m pytest tests/integration --junitxml=$(JUNIT)/integration.xml

# Two UML boots side by side, each with half of the test files (tests/kernel/run-halves).
kernel: venv
	tests/kernel/run-halves $(JUNIT)

# The vlan_router Molecule scenario alone (the kernel tier runs it too, in a UML boot shared with other kernel tests).
molecule: venv
	tests/kernel/run -k molecule

bench: venv
	@for b in bench/*; do [ -x "$$b" ] && { echo "== $$b"; $$b || exit 1; }; done; true

build: venv
	ansible-galaxy collection build --force

clean:
	rm -rf $(VENV) .cache layer2-linux-*.tar.gz .pytest_cache .ruff_cache

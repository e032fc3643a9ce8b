# Every target first makes sure .venv matches the pinned requirements.txt.
# The copy .venv/requirements.txt is the stamp: it is written only after a
# successful install, so a changed pin (or a half-finished install) reinstalls.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HUGO := $(BIN)/hugo
PORT ?= 1313
PAGEFIND := $(BIN)/python -m pagefind
# Python may cache compiled modules (__pycache__, gitignored): with PYTHONDONTWRITEBYTECODE
# set, every `python -m twnotes` the tests start compiles the package again, and pytest
# rewrites every test module (and its plugins' modules) on every run.
unexport PYTHONDONTWRITEBYTECODE
# config.toml takes last-modified dates from git; a source tree outside git (a tarball)
# builds without them instead of failing.
export HUGO_ENABLEGITINFO := $(shell git rev-parse --is-inside-work-tree >/dev/null 2>&1 && echo true || echo false)

.PHONY: venv node serve build test test-fast lint content-check audit pytest snippets example-output bench mutation clean

venv:
	@if ! cmp -s requirements.txt $(VENV)/requirements.txt; then \
		echo "Setting up $(VENV) from requirements.txt"; \
		rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && \
		$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt && \
		$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e . && \
		cp requirements.txt $(VENV)/requirements.txt; \
	fi

# Node tools (axe-core, vnu-jar, ...) pinned by package-lock.json; the copy
# node_modules/.lock-stamp marks a finished `npm ci` for exactly that lock.
# --ignore-scripts: vnu-jar's postinstall would fetch a JRE; the system Java is used.
node:
	@if ! cmp -s package-lock.json node_modules/.lock-stamp; then \
		echo "Installing node_modules from package-lock.json"; \
		npm ci --ignore-scripts --no-audit --no-fund && \
		cp package-lock.json node_modules/.lock-stamp; \
	fi

# Search while serving: one throwaway build is indexed into static/pagefind/ (gitignored),
# which `hugo server` then serves; run `make serve` again to refresh the index.
serve: venv
	rm -rf .cache/serve-site static/pagefind
	$(HUGO) --quiet --logLevel warn --destination .cache/serve-site
	$(PAGEFIND) --quiet --site .cache/serve-site --output-path static/pagefind
	@# twnotes watch runs every snippet (a failure prints as file:line: reason and shows as
	@# failed on its page, it does not stop the preview), starts hugo server, and reruns a
	@# page's snippets whenever it is saved; Hugo sees the results file change and the badges
	@# follow. Ctrl-C stops all of it. In memory: by default hugo server writes a development
	@# build (livereload script, localhost URLs) into public/, where a deploy would pick it up.
	$(BIN)/twnotes watch -- $(HUGO) server --bind 127.0.0.1 --port $(PORT) \
		--disableFastRender --renderToMemory

# BASEURL publishes under another address, e.g. a sub-path:
#   make build BASEURL=https://example.org/twisted-notes/
# (the Pages workflow passes the URL that actions/configure-pages reports).
BASEURL ?=

# The layouts delimit every region whose HTML comes from a note with a token made for this
# build alone (a note cannot know it); `twnotes enforce` cleans each region again with the
# sanitiser's policy and removes the delimiters. A region it has to change fails the build
# (exit 1: the source sanitiser missed something), and so does a bad delimiter (exit 2).
# What the build printed is kept in $(RECORD) (hugo.log, token, enforce.log) as well as
# shown, so that `make test` can hand this very build to the tests (tests/conftest.py).
RECORD := .cache/build

build: venv snippets
	rm -rf public $(RECORD) && mkdir -p $(RECORD)
	@$(BIN)/python -c 'import secrets; print(secrets.token_hex(16))' > $(RECORD)/token
	HUGO_TW_REGION_TOKEN=$$(cat $(RECORD)/token) $(HUGO) --minify --gc --logLevel warn $(if $(BASEURL),--baseURL "$(BASEURL)") \
		> $(RECORD)/hugo.log 2>&1; status=$$?; cat $(RECORD)/hugo.log; exit $$status
	HUGO_TW_REGION_TOKEN=$$(cat $(RECORD)/token) $(BIN)/twnotes enforce public \
		> $(RECORD)/enforce.log 2>&1; status=$$?; cat $(RECORD)/enforce.log; exit $$status
	rm -rf public/pagefind
	$(PAGEFIND) --quiet --site public

lint: venv
	$(BIN)/ruff check tools examples tests bench mutation
	$(BIN)/mypy

# Every Python block of the pages runs once here (unchanged ones come from the cache), and
# the results land where the code-block render hook reads them. A plain `pytest` also
# collects content/ (twnotes.pytest_plugin); `make test` runs tests/ only so that no
# snippet runs twice.
snippets: venv
	mkdir -p data/generated
	$(BIN)/twnotes snippets --json data/generated/snippets.json content

# pytest-xdist: PYTEST_WORKERS processes (auto: one per core); --dist loadgroup keeps the
# tests of one xdist_group (a module whose fixture builds a site) on one worker.
PYTEST_WORKERS ?= auto
XDIST := -n $(PYTEST_WORKERS) --dist loadgroup

# The two-step run: the xdist part, then the tests marked `alone` by themselves (Lighthouse
# scores blocking time, which a sweep running on another worker inflates). $(1) is an env
# prefix for both steps.
define run-pytest
$(1) $(BIN)/pytest $(XDIST) -m "not alone" tests
$(1) $(BIN)/pytest -n 0 -m alone tests
endef

pytest: venv node
	$(call run-pytest)

# The dev loop: everything but the tests marked slow (pytest.mark.slow), no `make build`.
test-fast: venv node
	$(BIN)/pytest $(XDIST) -q -m "not slow" tests

# Record again the real output that the example pages show (examples/output/*.txt), after
# changing an example; `make test` compares fresh runs with these records.
example-output: venv
	UPDATE_EXAMPLE_OUTPUT=1 $(BIN)/pytest -q tests/test_examples_output.py

# Raw HTML in content must already be clean (`twnotes sanitize content` fixes it).
content-check: venv
	$(BIN)/twnotes sanitize --check content

# The built (and enforced) site: no script the page's Content-Security-Policy does not name
# by hash or that is not the site's own file, no handler, no script URL.
audit: build
	$(BIN)/twnotes audit public

# One build for everything: `make build` (which runs the snippets first) makes public/, the
# tests judge that build (TWNOTES_BUILT_SITE) instead of building their own; the audit of it
# is tests/test_audit.py's (the function `twnotes audit` runs). Without BASEURL only: the
# tests expect the configured address, so a BASEURL build is audited here instead.
MADE_BUILD := $(if $(BASEURL),,TWNOTES_BUILT_SITE=$(CURDIR)/public TWNOTES_BUILD_RECORD=$(CURDIR)/$(RECORD))

test: lint content-check build node
	$(call run-pytest,$(MADE_BUILD))
	$(if $(BASEURL),$(BIN)/twnotes audit public)

# An extra requirements file (bench, mutation) installed into the same .venv; its copy in
# .venv is the stamp, as .venv/requirements.txt is for `venv`.
define install-extra
@if ! cmp -s $(1) $(VENV)/$(1); then \
	echo "Installing $(1) into $(VENV)"; \
	$(BIN)/pip install --quiet --disable-pip-version-check -r $(1) && \
	cp $(1) $(VENV)/$(1); \
fi
endef

# Benchmark-only tools (bleach, nh3, pyinstrument) go into the same .venv (install-extra).
# Not part of `make test`: it takes minutes. BENCH_ARGS passes options, e.g.
#   make bench BENCH_ARGS="--sizes 100,1000 --repeats 3"
BENCH_ARGS ?=

bench: venv
	$(call install-extra,requirements-bench.txt)
	@# The snippet runs' peer, pytest-markdown-docs, needs markdown-it-py < 4: its own venv.
	@if ! cmp -s requirements-bench-peer.txt .venv-peer/requirements.txt; then \
		echo "Setting up .venv-peer from requirements-bench-peer.txt"; \
		rm -rf .venv-peer && $(PYTHON) -m venv .venv-peer && \
		.venv-peer/bin/pip install --quiet --disable-pip-version-check -r requirements-bench-peer.txt && \
		cp requirements-bench-peer.txt .venv-peer/requirements.txt; \
	fi
	@# twnotes is installed editable: without this its modules would be compiled from source
	@# on every run where PYTHONDONTWRITEBYTECODE is set (the peer's were compiled by pip).
	$(BIN)/python -m compileall -q tools
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# Mutation testing (cosmic-ray, requirements-mutation.txt; not part of `make test`: it takes
# many minutes and both cores). The mutants live in a copy of the tree (.cache/mutation), one
# module at a time; mutation/modules.toml names the modules and the tests that judge each,
# mutation/named.toml the mutants that must be killed. MUTATE picks modules, e.g.
#   make mutation MUTATE="policy pages"      make mutation MUTATE=--named-only
MUTATE ?=

mutation: venv
	$(call install-extra,requirements-mutation.txt)
	nice $(BIN)/python -m mutation.run $(MUTATE)

clean:
	rm -rf public static/pagefind .cache/serve-site resources/_gen .pytest_cache .mypy_cache .ruff_cache .venv-peer

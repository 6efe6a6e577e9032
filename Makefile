# lrlab: `make lab` opens the lessons, `make test` checks everything.
# Both create .venv on first use (Python 3.10-3.13 on Linux) and fetch the data.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   := data/gtsrb-tiny
# A local copy of the tiny subset to use instead of downloading (make data SOURCE=path).
SOURCE ?=

# Quiet TensorFlow start-up (both are needed) and run the venv's tools first.
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 0
export PATH := $(CURDIR)/$(BIN):$(PATH)

NBVAL_OPTS := --nbval --nbval-current-env --nbval-cell-timeout=900 \
              --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: lab test unit notebooks figures data sync exercises bench execute lint clean \
        check-shootout check-budgets check-batch colab-check colab-links probes site site-check lab-check

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 10) <= v <= (3, 13) else "lrlab needs Python 3.10 to 3.13, found %d.%d: run make PYTHON=python3.12 (or another)" % v)'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[cpu,test,lab]"
	touch $(STAMP)

$(DATA)/.complete: | $(STAMP)
	$(BIN)/python -m lrlab.data fetch --dest $(DATA) $(if $(SOURCE),--source $(SOURCE))

data: $(DATA)/.complete

# JupyterLab's settings for the lessons (tools/lab-overrides.json): a lesson's .py opens as a
# notebook on double-click (jupytext pairs it with its .ipynb), and no news or update check
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
$(LAB_SETTINGS): tools/lab-overrides.json | $(STAMP)
	mkdir -p $(dir $@)
	cp tools/lab-overrides.json $@

# (root, as in a container, needs --allow-root)
lab: $(STAMP) $(LAB_SETTINGS) data
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

# Lesson 08 stores outputs from gtsrb-small at its full budget (a sweep of 3 peaks for each
# schedule, then every schedule and 2 controls x 5 seeds, 8 epochs: about half an hour on
# 2 cores); in `make test` it runs 2 epochs x 2 seeds on the tiny subset instead, where its
# full-budget claims are deferred.
SHOOTOUT_CHECK := LRLAB_SHOOTOUT_DATA=data/gtsrb-tiny LRLAB_SHOOTOUT_EPOCHS=2 LRLAB_SHOOTOUT_SEEDS=2
# `make check-shootout` (lesson 08), `make check-batch` (lesson 09) and `make check-budgets`
# (lesson 10) run a lesson at its full budget under nbval, so that a claim deferred on the
# small run and failing there fails the command (SHOOTOUT_DATA=path/to/gtsrb-small,
# BATCH_DATA=..., BUDGETS_DATA=... for another folder).
SHOOTOUT_DATA ?= data/gtsrb-small
BUDGETS_DATA  ?= data/gtsrb-small
BATCH_DATA    ?= data/gtsrb-small

# $(call full_budget,notebook,variable the lesson reads,folder,target)
define full_budget
	@test -d "$(3)" || { \
	    echo "$(4) needs the gtsrb-small subset, not found at '$(3)': pass its folder" \
	         "with make $(4) $(5)=path/to/gtsrb-small (python -m lrlab.data fetch" \
	         "--subset small --dest data/gtsrb-small makes it)" >&2; \
	    exit 2; }
	$(2)=$(abspath $(3)) $(BIN)/python -m pytest \
	    $(subst --nbval-cell-timeout=900,--nbval-cell-timeout=7200,$(NBVAL_OPTS)) \
	    notebooks/$(1).ipynb
endef

## the Keras backend of make test / unit / notebooks: BACKEND=jax or torch (default tensorflow);
## torch is installed from pyproject's torch extra when missing (jax is in the test extra)
BACKEND ?= tensorflow
INSTALL_TORCH := $(BIN)/python -c 'import torch' 2>/dev/null || \
                 $(BIN)/python -m pip install --quiet -e ".[cpu,test,lab,torch]"
define CHECK_BACKEND
@case "$(BACKEND)" in tensorflow|jax|torch) ;; *) \
    echo "BACKEND must be tensorflow, jax or torch, got '$(BACKEND)'" >&2; exit 2;; esac
$(if $(filter torch,$(BACKEND)),$(INSTALL_TORCH))
endef

## everything: unit tests, then every notebook executed and checked by nbval
test: $(STAMP) data
	$(CHECK_BACKEND)
	KERAS_BACKEND=$(BACKEND) $(SHOOTOUT_CHECK) $(BIN)/python -m pytest tests notebooks $(NBVAL_OPTS)

## lesson 08 at its full budget on gtsrb-small, checked by nbval with its claims tested
check-shootout: $(STAMP)
	$(call full_budget,08_schedule_shootout,LRLAB_SHOOTOUT_DATA,$(SHOOTOUT_DATA),check-shootout,SHOOTOUT_DATA)

## lesson 10 at its full budget on gtsrb-small, checked by nbval with its claims tested
check-budgets: $(STAMP)
	$(call full_budget,10_one_run_many_budgets,LRLAB_BUDGETS_DATA,$(BUDGETS_DATA),check-budgets,BUDGETS_DATA)

## lesson 09 at its full budget on gtsrb-small, checked by nbval with its claims tested
check-batch: $(STAMP)
	$(call full_budget,09_batch_size_and_learning_rate,LRLAB_BATCH_DATA,$(BATCH_DATA),check-batch,BATCH_DATA)

## the unit tests only, on one Keras backend (BACKEND as for make test)
unit: $(STAMP) data
	$(CHECK_BACKEND)
	KERAS_BACKEND=$(BACKEND) $(BIN)/python -m pytest tests

## every lesson under nbval, on BACKEND; LESSONS="notebooks/0[1-3]_*.ipynb" for some of them
LESSONS ?= notebooks
notebooks: $(STAMP) data
	$(CHECK_BACKEND)
	KERAS_BACKEND=$(BACKEND) $(SHOOTOUT_CHECK) $(BIN)/python -m pytest $(LESSONS) $(NBVAL_OPTS)

## regenerate every figure in figures/ (the notebooks save them as they run)
figures: notebooks

## re-execute notebooks and store their outputs (NB=notebooks/07_exponential_and_step_decay.ipynb for one)
NB ?= $(wildcard notebooks/*.ipynb)
execute: $(STAMP) data sync
	for nb in $(NB); do $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=3600 $$nb || exit 1; done

sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/*.py

## learner copies exercises/NN_topic.ipynb (kept in the repository, each with its Colab badge)
exercises: $(STAMP)
	$(BIN)/python tools/make_exercises.py --out exercises

## every lesson and learner copy as on Colab: lrlab's wheel installed by the Colab cell into a
## throwaway venv with tensorflow preinstalled, each notebook alone in an empty folder with the
## tiny subset uploaded (ONLY="03 exercises/07" for some; lesson 08 on the small budget)
ONLY ?=
colab-check: $(STAMP) data
	$(SHOOTOUT_CHECK) $(BIN)/python tools/colab_check.py $(if $(ONLY),--only $(ONLY))

## point every Colab badge and Colab cell at a fork: make colab-links REPOSITORY=owner/name
REPOSITORY ?=
colab-links:
	@test -n "$(REPOSITORY)" || { \
	    echo "colab-links needs the fork: make colab-links REPOSITORY=owner/name" >&2; exit 2; }
	$(PYTHON) tools/colab_links.py "$(REPOSITORY)"

## the lessons as a static site in build/site, from their stored outputs (nothing executed):
## Sphinx + MyST-NB, installed from pyproject's site extra when missing
INSTALL_SITE := $(BIN)/python -c 'import myst_nb, sphinx_book_theme, playwright' 2>/dev/null || \
                $(BIN)/python -m pip install --quiet -e ".[cpu,test,lab,site]"
site: $(STAMP)
	@$(INSTALL_SITE)
	$(BIN)/python tools/build_site.py --out build/site

## every page of build/site opened in headless Chromium (the distribution's: apt-get install
## chromium), failing on console errors, failed requests, images, math and links;
## SCREENSHOTS=folder (outside the repository) for the two screenshots
SCREENSHOTS ?=
site-check: site
	$(BIN)/python tools/check_site.py --site build/site $(if $(SCREENSHOTS),--screenshots $(SCREENSHOTS))

## lesson 01 run through JupyterLab's menu in headless Chromium, and lesson 02's .py opened as
## a notebook, in a throwaway folder (tools/check_lab.py)
lab-check: $(STAMP) $(LAB_SETTINGS)
	@$(INSTALL_SITE)
	$(BIN)/python tools/check_lab.py $(if $(SCREENSHOTS),--screenshots $(SCREENSHOTS))

## the adversarial probes of lrlab's public surface: counts by outcome, fails unless all pass
probes: $(STAMP)
	$(BIN)/python tools/probes.py --strict

bench: $(STAMP) data
	for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check lrlab tests tools benchmarks docs notebooks/*.py

# (exercises/ is kept: the learner copies are part of the repository)
clean:
	rm -rf $(VENV) results .pytest_cache figures/*.png build/site build/site-src
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

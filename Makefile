# The two commands a fresh machine needs: `make book` (the HTML book) and `make test` (everything).
# Both create .venv when it is missing and install the pinned stack from requirements/book.txt.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The benchmark environment: timm needs torchvision, which does not import beside the book's torch.
BENCH_VENV := .bench-venv
BENCH_PY := $(BENCH_VENV)/bin/python
JB := $(VENV)/bin/jupyter-book
VENDOR := book/vendor
CHAPTERS := $(wildcard chapters/*.md)
export PYTHONHASHSEED := 0

.PHONY: book test unit html-check notebooks vendor browser bench gpu-check stress reference clean lock help \
	student-notebooks student-book colab grade-check slides pdf

help:
	@echo "make book        build the HTML book into _build/html (executes every chapter)"
	@echo "make test        unit tests, book built with -W (every chapter executed once), student edition, pages checked"
	@echo "make notebooks   write the output-free .ipynb paired with each chapter, and the Colab edition"
	@echo "make colab       write the Colab edition: notebooks/*.ipynb (with solutions) and notebooks/student/*.ipynb (without)"
	@echo "make student-notebooks  student notebooks without solutions in _build/student_notebooks (full copies in instructor/)"
	@echo "make student-book       the student HTML edition, without solutions, in _build/student_src/_build/html"
	@echo "make pdf         the PDF edition: _build/pdf/book.pdf (instructor) and book-student.pdf (make student-book first)"
	@echo "make slides      one reveal.js deck per lecture in _build/slides (from tagged chapter cells; make book first)"
	@echo "make grade-check the autograder on every autograded chapter: stub, solved and wrong notebooks (minutes)"
	@echo "make bench       benchmarks (not part of the tests; the ViT-vs-timm one in its own .bench-venv)"
	@echo "make reference   the reference runs of chapters 9 and 10 on 2 CPU cores (up to 90 min), into results/"
	@echo "make gpu-check   on a CUDA machine: every chapter in the full profile, benchmarks, a report"
	@echo "make stress      the notebook-execution stall, with and without the fix (not part of make test; ~40 min)"

$(VENV)/.installed: requirements/book.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/book.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# MathJax 3, the ipywidgets HTML manager and require.js, served by the book itself (offline pages).
$(VENDOR)/.vendored: scripts/vendor_js.sh
	bash scripts/vendor_js.sh $(VENDOR)
	touch $@

vendor: $(VENDOR)/.vendored

# Headless Chromium for the page checks and the PDF edition, poppler (pdftotext, pdftoppm) for the PDF's test
# (Debian's packages; needs root, as on CI).
browser:
	@command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; }

book: $(VENV)/.installed $(VENDOR)/.vendored
	rm -rf _build/html _build/.doctrees
	$(JB) build . --warningiserror --keep-going

notebooks: $(VENV)/.installed colab
	$(PY) scripts/pair_notebooks.py write $(CHAPTERS)

# The Colab edition (notebooks/*.ipynb): the chapters with their MyST markup converted to plain Markdown.
colab: $(VENV)/.installed
	$(PY) scripts/colab_edition.py write $(CHAPTERS)
	$(PY) scripts/colab_edition.py write --student $(CHAPTERS)

STUDENT_SRC := _build/student_src

student-notebooks: $(VENV)/.installed
	$(PY) scripts/student_edition.py notebooks _build/student_notebooks

# The student HTML edition reuses the outputs of the main build (`make book` first): nothing runs twice.
student-book: $(VENV)/.installed $(VENDOR)/.vendored
	@test -d _build/jupyter_execute || { echo "error: _build/jupyter_execute is missing: run make book first"; exit 1; }
	rm -rf $(STUDENT_SRC)
	$(PY) scripts/student_edition.py source $(STUDENT_SRC) --executed _build/jupyter_execute
	$(JB) build $(STUDENT_SRC) --warningiserror --keep-going

# The lecture decks (reveal.js; oversmoothing.book.slides): the tagged cells of the chapters with the outputs of
# the main build (`make book` first), into _build/slides/ with their assets, so that the folder opens from disk.
slides: $(VENV)/.installed $(VENDOR)/.vendored
	@test -d _build/jupyter_execute/chapters || { echo "error: _build/jupyter_execute is missing: run make book first"; exit 1; }
	$(PY) scripts/slides.py --out _build/slides

# The PDF edition (oversmoothing.book.pdf): headless Chromium prints the built HTML, page by page. The
# instructor edition from _build/html (make book), the student edition from the student build (make student-book).
pdf: $(VENV)/.installed browser
	@test -f _build/html/index.html || { echo "error: _build/html is missing: run make book first"; exit 1; }
	@test -f $(STUDENT_SRC)/_build/html/index.html || { echo "error: the student build is missing: run make student-book first"; exit 1; }
	$(PY) scripts/book_pdf.py --source . --edition instructor --out _build/pdf/book.pdf
	$(PY) scripts/book_pdf.py --source $(STUDENT_SRC) --edition student --out _build/pdf/book-student.pdf

unit: $(VENV)/.installed
	$(PY) -m pytest -m "not slow and not html and not grading" -q -n 2

# Every autograded chapter's student notebook graded three times (as handed out, solved, with wrong answers).
grade-check: $(VENV)/.installed
	$(PY) -m pytest tests/book/test_grading.py -k folder_of_notebooks -q -p no:cacheprovider -n 2

html-check: browser
	$(PY) -m pytest -m html -q

# Each phase is timed against its budget (seconds; README, "The two commands"); the table is printed at
# the end, or when a phase fails. The book build is the chapter test: every chapter runs once there.
TIMES := _build/test-times.tsv
PHASE := bash scripts/phase.sh $(TIMES)

test:
	@mkdir -p _build && : > $(TIMES)
	@$(PHASE) install 140 $(MAKE) --no-print-directory $(VENV)/.installed $(VENDOR)/.vendored browser
	@$(PHASE) "unit tests" 130 $(PY) -m pytest -m "not html and not grading" -q -p no:cacheprovider -n 2
	@$(PHASE) "book build" 320 $(MAKE) --no-print-directory book
	@$(PHASE) "student edition" 60 $(MAKE) --no-print-directory student-book
	@$(PHASE) "page checks" 200 $(PY) -m pytest -m html -q -p no:cacheprovider
	@$(PHASE) --report

# The committed reference runs of chapters 9 and 10 (results/*-reference.json): 2 CPU cores, at most 90 minutes.
reference: $(VENV)/.installed
	$(VENV)/bin/oversmoothing experiment vision --profile reference --device cpu --out results --overwrite
	$(VENV)/bin/oversmoothing experiment language --profile reference --device cpu --out results --overwrite

# The stall of notebook execution, measured (scripts/stress_execution.py): unfixed, then fixed.
stress: $(VENV)/.installed
	$(PY) scripts/stress_execution.py --mode both --unfixed-executions 60 --executions 300 --out reports/stress.json

# torch 2.14.1 + torchvision + timm (a CUDA build of torch, about 5.5 GB, that also runs on the CPU).
$(BENCH_VENV)/.installed: benchmarks/requirements-timm.txt requirements/book.txt pyproject.toml
	test -x $(BENCH_PY) || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install --quiet --upgrade pip
	grep -v '^torch==' requirements/book.txt > $(BENCH_VENV)/constraints.txt
	$(BENCH_PY) -m pip install --quiet -r benchmarks/requirements-timm.txt -c $(BENCH_VENV)/constraints.txt
	$(BENCH_PY) -m pip install --quiet --no-deps -e .
	touch $@

# Both benchmarks run; the target fails when either does.
bench: $(VENV)/.installed $(BENCH_VENV)/.installed
	status=0; $(PY) -m benchmarks.bench_mean_cosine || status=1; \
	$(BENCH_PY) -m benchmarks.bench_vit_timm || status=1; exit $$status

gpu-check: $(VENV)/.installed
	$(PY) scripts/gpu_check.py

# requirements/book.txt from requirements/top-level.txt (every pin lives there, torch's included); the
# local version label of a CPU build (torch==X+cpu) is dropped so that a CUDA build of X satisfies it.
lock:
	rm -rf /tmp/lock-venv && $(PYTHON) -m venv /tmp/lock-venv
	/tmp/lock-venv/bin/pip install --quiet -r requirements/top-level.txt
	{ sed -n '1,/^[^#]/{/^#/p}' requirements/book.txt; /tmp/lock-venv/bin/pip freeze | sed -E 's/^(torch==[^+]+)\+cpu$$/\1/'; } \
		> requirements/book.lock.tmp && mv requirements/book.lock.tmp requirements/book.txt

clean:
	rm -rf _build .pytest_cache

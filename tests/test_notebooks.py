"""The lessons as files: pairs in sync, executed, the same Colab cell, figures saved.

nbval (``make test``) executes every notebook and compares its outputs; this
module checks what nbval does not: that the ``.py`` a learner or instructor
edits and the ``.ipynb`` that is executed hold the same cells.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
REPOSITORY = "lrlab-course/lrlab"

COLAB_CELL = """\
# On Colab only: install lrlab from the repository and fetch the data (`make lab` did both elsewhere).
import sys

if "google.colab" in sys.modules:
    import subprocess

    repository = "https://github.com/lrlab-course/lrlab"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"lrlab @ git+{repository}"], check=True)
    subprocess.run([sys.executable, "-m", "lrlab.data", "fetch", "--dest", "data/gtsrb-tiny"], check=True)"""


def _cells(notebook):
    return [
        (cell.cell_type, cell.source.strip(), tuple(cell.get("metadata", {}).get("tags", [])))
        for cell in notebook.cells
    ]


def test_there_are_lessons():
    assert LESSONS, "no notebooks/NN_topic.py found"


def test_every_notebook_is_paired():
    py = {p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.py")}
    ipynb = {p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    assert py == ipynb, f"unpaired: .py only {sorted(py - ipynb)}, .ipynb only {sorted(ipynb - py)}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_pair_in_sync(lesson):
    source = jupytext.read(lesson)
    stored = jupytext.read(lesson.with_suffix(".ipynb"))
    assert _cells(source) == _cells(stored), (
        f"{lesson.name} and its .ipynb differ: run `make sync`, then `make execute NB={lesson.with_suffix('.ipynb').relative_to(ROOT)}`"
    )


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_stored_notebook_was_executed_top_to_bottom(lesson):
    notebook = nbformat.read(lesson.with_suffix(".ipynb"), as_version=4)
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{lesson.stem}.ipynb was not executed in one run from the top (execution counts {counts}): "
        "run `make execute`"
    )
    for cell in notebook.cells:
        if cell.cell_type != "code" or "NBVAL_RAISES_EXCEPTION" in cell.source:
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{lesson.stem}.ipynb stores an error: {errors[0].get('ename')}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_opens_with_title_badge_and_colab_cell(lesson):
    cells = jupytext.read(lesson).cells
    title, colab = cells[0], cells[1]
    number = lesson.stem[:2]
    assert title.cell_type == "markdown" and title.source.startswith(f"# {number} · "), (
        f"{lesson.name}: the first cell must be markdown starting '# {number} · Title'"
    )
    badge = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/{lesson.stem}.ipynb"
    assert badge in title.source, (
        f"{lesson.name}: the title cell needs the Colab badge linking {badge}"
    )
    assert colab.cell_type == "code" and colab.source.strip() == COLAB_CELL, (
        f"{lesson.name}: the second cell must be the standard Colab cell (see tests/test_notebooks.py)"
    )


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_saves_its_figures_under_its_number(lesson):
    text = lesson.read_text()
    names = re.findall(r"savefig\([^,]+,\s*f?[\"']([^\"']+)[\"']", text)
    assert names, f"{lesson.name} saves no figure with lrlab.plotting.savefig"
    wrong = [n for n in names if not n.startswith(lesson.stem[:3])]
    assert not wrong, f"{lesson.name}: figure names must start with '{lesson.stem[:3]}': {wrong}"

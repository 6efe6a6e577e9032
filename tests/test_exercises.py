"""Exercises: learner copies scaffold every solution, and each check gives the right verdict.

For every cell tagged ``solution`` the test runs, in one fresh Python process,
(a) the scaffold that ``make exercises`` writes, then its check cell: the check
must print "not implemented yet" and not crash; (b) the solution, then its check
cell: the check must print "correct".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from make_exercises import learner_copy, main, scaffold_source  # noqa: E402

LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def _exercises(lesson: Path) -> list[tuple[str, str]]:
    """(solution source, check source) pairs of a lesson."""
    cells = [c for c in jupytext.read(lesson).cells if c.cell_type == "code"]
    pairs = []
    for index, cell in enumerate(cells):
        if "solution" in cell.get("metadata", {}).get("tags", []):
            following = cells[index + 1].source if index + 1 < len(cells) else ""
            assert "checks.check_" in following, (
                f"{lesson.name}: the cell after a solution cell must call lrlab.checks.check_*"
            )
            pairs.append((cell.source, following))
    return pairs


EXERCISES = [(lesson, pair) for lesson in LESSONS for pair in _exercises(lesson)]
EXERCISE_IDS = [f"{lesson.stem}-{index}" for index, (lesson, _) in enumerate(EXERCISES)]

RUNNER = textwrap.dedent(
    """
    import contextlib, io, json, sys
    results = []
    for cell, check in json.load(sys.stdin):
        namespace = {}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec("from lrlab import checks", namespace)
            exec(cell, namespace)
            exec(check, namespace)
        results.append(out.getvalue())
    print(json.dumps(results))
    """
)


def _run(pairs: list[tuple[str, str]]) -> list[str]:
    env = dict(
        os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0"
    )
    done = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(pairs),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, f"the exercise cells crashed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_lesson_has_an_exercise():
    without = [lesson.name for lesson in LESSONS if not _exercises(lesson)]
    assert not without, f"lessons without an exercise: {without}"


@pytest.fixture(scope="module")
def verdicts():
    scaffolds = [(scaffold_source(solution), check) for _, (solution, check) in EXERCISES]
    solutions = [(solution, check) for _, (solution, check) in EXERCISES]
    outputs = _run(scaffolds + solutions)
    return outputs[: len(EXERCISES)], outputs[len(EXERCISES) :]


@pytest.mark.parametrize("index", range(len(EXERCISES)), ids=EXERCISE_IDS)
def test_unfilled_exercise_says_not_implemented_yet(verdicts, index):
    output = verdicts[0][index]
    assert "not implemented yet" in output, f"scaffold output was: {output!r}"


@pytest.mark.parametrize("index", range(len(EXERCISES)), ids=EXERCISE_IDS)
def test_solution_passes_its_check(verdicts, index):
    output = verdicts[1][index]
    assert "correct:" in output and "not right yet" not in output, (
        f"solution output was: {output!r}"
    )


def test_scaffold_keeps_signature_docstring_and_imports():
    solution = textwrap.dedent(
        '''
        import math


        def half_life(rate):
            """Steps until the rate halves."""
            return math.log(2) / rate
        '''
    )
    scaffold = scaffold_source(solution)
    assert "import math" in scaffold
    assert 'def half_life(rate):\n    """Steps until the rate halves."""' in scaffold
    assert "math.log(2)" not in scaffold
    namespace = {}
    exec(scaffold, namespace)
    with pytest.raises(NotImplementedError, match="half_life"):
        namespace["half_life"](0.1)


def test_scaffold_refuses_a_cell_without_function():
    with pytest.raises(ValueError, match="at least one function"):
        scaffold_source("x = 1\n")


def test_make_exercises_writes_learner_copies(tmp_path):
    assert main(["--out", str(tmp_path)]) == 0
    for lesson in LESSONS:
        copy = nbformat.read(tmp_path / f"{lesson.stem}.ipynb", as_version=4)
        tags = [t for c in copy.cells for t in c.get("metadata", {}).get("tags", [])]
        assert "solution" not in tags
        assert tags.count("exercise") == len(_exercises(lesson))
        assert all(not c.get("outputs") for c in copy.cells if c.cell_type == "code")
    assert not list(tmp_path.glob("*.tmp"))


def test_learner_copy_leaves_the_lesson_untouched():
    lesson = jupytext.read(LESSONS[0])
    before = nbformat.writes(lesson)
    learner_copy(lesson)
    assert nbformat.writes(lesson) == before

"""Exercises: learner copies scaffold every solution, and each check gives the right verdict.

For every cell tagged ``solution`` the test runs, in one fresh Python process,
(a) the scaffold that ``make exercises`` writes, then its check cell: the check
must print "not implemented yet" and not crash; (b) the solution, then its check
cell: the check must print "correct".
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from make_exercises import learner_copy, main, retitle, scaffold_source  # noqa: E402

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


# --------------------------------------------------------------------------- stored copies

EXERCISES_DIR = ROOT / "exercises"


def test_stored_learner_copies_are_what_make_exercises_writes(tmp_path):
    # Input: every lesson regenerated into tmp_path. Expected: byte for byte the stored
    # exercises/NN_topic.ipynb, and no stored copy without a lesson.
    assert main(["--out", str(tmp_path)]) == 0
    fresh = {p.name: p.read_bytes() for p in tmp_path.glob("*.ipynb")}
    stored = {p.name: p.read_bytes() for p in EXERCISES_DIR.glob("*.ipynb")}
    assert sorted(stored) == sorted(fresh), "exercises/ and the lessons differ: `make exercises`"
    stale = [name for name in fresh if fresh[name] != stored[name]]
    assert not stale, f"stored learner copies out of date: {stale}: run `make exercises`"


def test_make_clean_keeps_the_learner_copies():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^clean:\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "rm" in recipe and "exercises" not in recipe, f"make clean deletes exercises/: {recipe}"


def test_learner_copy_is_the_same_every_time():
    # Cell ids are numbered (jupytext would draw random ones), so regenerating changes nothing.
    first = nbformat.writes(learner_copy(jupytext.read(LESSONS[0])))
    again = nbformat.writes(learner_copy(jupytext.read(LESSONS[0])))
    assert first == again
    ids = [cell["id"] for cell in nbformat.reads(first, 4).cells]
    assert ids == [f"cell-{n}" for n in range(1, len(ids) + 1)]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_learner_copy_badge_points_at_itself_and_links_the_solved_lesson(lesson):
    copy = learner_copy(jupytext.read(lesson))
    title = copy.cells[0].source
    solved = jupytext.read(lesson).cells[0].source
    # the lesson's own badge link, with notebooks/ replaced by exercises/
    link = re.search(r"https://colab\.research\.google\.com/github/\S+?\.ipynb", solved).group(0)
    assert link.replace("/notebooks/", "/exercises/") + ")" in title
    assert f"[notebooks/{lesson.stem}.ipynb]({link})" in title
    assert "learner copy" in title
    assert "jupytext" not in copy.metadata  # opening it does not pair it with a .py


def test_retitle_refuses_a_title_without_badge():
    with pytest.raises(ValueError, match="no Colab badge link"):
        retitle("# 09 · A lesson without badge\n")


def _uses_after_check(lesson: Path) -> list[tuple[str, int]]:
    """(exercise function, code cell number) for later cells that use an exercise's function
    without first replacing it by ``checks.yours_or_reference``."""
    cells = [c for c in jupytext.read(lesson).cells if c.cell_type == "code"]
    found = []
    for index, cell in enumerate(cells):
        if "solution" not in cell.get("metadata", {}).get("tags", []):
            continue
        names = [n.name for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)]
        for name in names:
            guarded = False
            for number, later in enumerate(cells[index + 2 :], start=index + 3):
                if f'checks.yours_or_reference({name}, "{name}")' in later.source:
                    guarded = True
                elif not guarded and re.search(rf"\b{name}\b", later.source):
                    found.append((name, number))
    return found


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_later_cells_use_an_exercise_only_through_yours_or_reference(lesson):
    # In a learner copy the function raises NotImplementedError: a later cell that calls it
    # directly would stop the lesson (lesson 07 trained with both exercise functions).
    unguarded = _uses_after_check(lesson)
    assert not unguarded, (
        f"{lesson.name}: code cells use exercise functions directly: {unguarded}; rebind them "
        'first, e.g. f = checks.yours_or_reference(f, "f")'
    )


# --------------------------------------------------------------------------- lesson 07's fallback

LESSON_07 = [
    ("exponential_decay", "reference_exponential_decay"),
    ("step_decay", "reference_step_decay"),
]


@pytest.mark.parametrize("name, reference", LESSON_07, ids=[n for n, _ in LESSON_07])
def test_reference_answer_passes_its_check(name, reference, capsys):
    from lrlab import checks

    check, answer = checks.REFERENCE_ANSWERS[name]
    assert answer is getattr(checks, reference)
    assert check(answer) is True
    assert "correct:" in capsys.readouterr().out


@pytest.mark.parametrize("name, reference", LESSON_07, ids=[n for n, _ in LESSON_07])
def test_yours_or_reference_picks_by_the_check(name, reference, capsys):
    from lrlab import checks

    solution = next(
        s for lesson, (s, _) in EXERCISES if lesson.stem.startswith("07_") and f"def {name}(" in s
    )
    written, scaffold = {}, {}
    exec(solution, written)
    exec(scaffold_source(solution), scaffold)

    def wrong(model, callbacks, initial_lr):  # Adam at a constant rate: not the exercise
        import keras

        model.compile(
            optimizer=keras.optimizers.Adam(initial_lr),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        return model, callbacks

    # a function that passes its check is used as it is, and the cell says so
    assert checks.yours_or_reference(written[name], name) is written[name]
    assert capsys.readouterr().out == f"{name}: training with yours (it passes its check)\n"
    # the scaffold: lrlab's reference, "not implemented yet"
    assert checks.yours_or_reference(scaffold[name], name) is getattr(checks, reference)
    assert capsys.readouterr().out == (
        f"{name}: training with lrlab's reference answer, yours is not implemented yet\n"
    )
    # a wrong answer: the reference, and the check's first complaint
    assert checks.yours_or_reference(wrong, name) is getattr(checks, reference)
    out = capsys.readouterr().out
    assert out.startswith(f"{name}: training with lrlab's reference answer, yours does not pass")
    assert "not right yet" in out and out.count("\n") == 1


def test_yours_or_reference_refuses_an_unknown_exercise():
    from lrlab import checks

    with pytest.raises(ValueError, match=r"'warmup_cosine'.*\['exponential_decay', 'step_decay'\]"):
        checks.yours_or_reference(print, "warmup_cosine")
    with pytest.raises(TypeError, match="name must be a str"):
        checks.yours_or_reference(print, None)

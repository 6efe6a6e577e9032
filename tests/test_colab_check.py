"""`make colab-check`'s own logic, without the throwaway venv (that is the target's run).

The full simulation (wheel, venv with tensorflow, every notebook) takes about 15 minutes
and runs in CI after `make test`; these tests check, in a second, the parts that decide
whether it passes: what counts as an unexpected error or a wrong verdict, how the data are
"uploaded", which TensorFlow is preinstalled, and that it never takes over a folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import colab_check  # noqa: E402
from test_notebooks import COLAB_CELL  # noqa: E402

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def _cell(source="", tags=(), outputs=()):
    return {
        "cell_type": "code",
        "source": source,
        "metadata": {"tags": list(tags)},
        "outputs": list(outputs),
    }


def _stream(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def _error(name="NameError"):
    return {"output_type": "error", "ename": name, "evalue": "boom", "traceback": []}


def test_tensorflow_is_colabs_package_in_the_cpu_extras_versions():
    # pyproject's cpu extra names tensorflow-cpu; Colab has `tensorflow` in the same versions
    cpu = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"][
        "cpu"
    ]
    bounds = next(r for r in cpu if r.startswith("tensorflow")).split("tensorflow-cpu")[1]
    assert colab_check.tensorflow_requirement() == "tensorflow" + bounds.replace(" ", "")


def test_jax_is_installed_within_the_test_extras_bounds():
    # Colab preinstalls jax; lesson 09 trains under it in a child process. The venv gets the
    # test extra's requirement as written there, spaces removed.
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["test"]
    written = next(r for r in extras if r.startswith("jax"))
    assert colab_check.jax_requirement() == written.replace(" ", "")
    assert colab_check.jax_requirement().startswith("jax>=")


def test_upload_copies_the_data_without_lrlabs_markers(tmp_path, monkeypatch):
    # Input: a fetched folder (.complete, .lrlab-source and two images). Expected: the upload
    # holds the images only, and its manifest names them with their sha256.
    source = tmp_path / "fetched"
    (source / "Final_Training" / "Images" / "00000").mkdir(parents=True)
    (source / "Final_Training" / "Images" / "00000" / "a.ppm").write_bytes(b"P6 a")
    (source / "signnames.csv").write_text("ClassId,SignName\n")
    (source / ".complete").write_text("")
    (source / ".lrlab-source").write_text("official archives\n")
    monkeypatch.setattr(colab_check, "DATA", source)
    folder = tmp_path / "run"
    manifest = colab_check.upload(folder)
    uploaded = folder / "data" / "gtsrb-tiny"
    assert sorted(manifest) == ["Final_Training/Images/00000/a.ppm", "signnames.csv"]
    assert not (uploaded / ".complete").exists() and not (uploaded / ".lrlab-source").exists()
    assert colab_check.data_manifest(uploaded) == manifest
    (uploaded / "signnames.csv").write_text("changed\n")  # what the check must notice
    assert colab_check.data_manifest(uploaded) != manifest


def test_judge_accepts_a_clean_solved_lesson():
    notebook = {
        "cells": [
            _cell("def f(): ...", tags=["solution"]),
            _cell("checks.check_f(f)", outputs=[_stream("correct: f matches every case.\n")]),
            _cell("# NBVAL_RAISES_EXCEPTION", tags=["raises-exception"], outputs=[_error()]),
        ]
    }
    assert colab_check.judge(notebook, learner=False) == []


def test_judge_names_every_problem():
    notebook = {
        "cells": [
            _cell("x", outputs=[_error("FileNotFoundError")]),  # no raises-exception tag
            _cell("print(data.summary())", outputs=[_stream("Data: SYNTHETIC stand-in ...\n")]),
            _cell("def f(): ...", tags=["exercise"]),
            _cell("checks.check_f(f)", outputs=[_stream(["correct: ", "f matches\n"])]),
        ]
    }
    problems = colab_check.judge(notebook, learner=True)
    assert len(problems) == 3
    assert "code cell 1 raised FileNotFoundError" in problems[0]
    assert "code cell 2 used the SYNTHETIC stand-in" in problems[1]
    assert "should say 'not implemented yet'" in problems[2]


def test_judge_wants_not_implemented_yet_in_a_learner_copy():
    verdict = "not implemented yet: write the body of f, then run this cell again.\n"
    notebook = {
        "cells": [
            _cell("def f(): raise NotImplementedError", tags=["exercise"]),
            _cell("checks.check_f(f)", outputs=[_stream(verdict)]),
        ]
    }
    assert colab_check.judge(notebook, learner=True) == []
    assert colab_check.judge(notebook, learner=False) == []  # no `solution` cell to judge


def test_the_failed_install_check_runs_the_standard_colab_cell():
    notebook = colab_check.colab_cell_notebook()
    assert len(notebook["cells"]) == 1
    source = notebook["cells"][0]["source"]
    assert ("".join(source) if isinstance(source, list) else source).strip() == COLAB_CELL
    assert notebook["cells"][0]["outputs"] == []


def test_only_selects_by_prefix_and_refuses_a_name_that_matches_nothing():
    chosen = colab_check.notebooks(["03", "exercises/07"])
    names = [str(p.relative_to(ROOT)) for p in chosen]
    assert names == [
        "notebooks/03_custom_schedules.ipynb",
        "exercises/03_custom_schedules.ipynb",
        "exercises/07_exponential_and_step_decay.ipynb",
    ]
    with pytest.raises(colab_check.CheckFailed, match="--only 99 matches none"):
        colab_check.notebooks(["99"])


def test_a_foreign_workdir_is_refused_and_left_alone(tmp_path, capsys):
    # Input: --workdir naming a folder with a user's file. Expected: exit 2, file intact.
    (tmp_path / "notes.txt").write_text("mine")
    if not (colab_check.DATA / ".complete").is_file():
        pytest.fail("the tiny subset is missing: run `make data` (the test suite needs it)")
    with pytest.raises(SystemExit) as stopped:
        colab_check.main(["--workdir", str(tmp_path)])
    assert stopped.value.code == 2
    assert "not made by colab_check" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "mine"

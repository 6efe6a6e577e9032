"""The lessons as files: pairs in sync, executed, the same Colab cell, figures saved.

nbval (``make test``) executes every notebook and compares its outputs; this
module checks what nbval does not: that the ``.py`` a learner or instructor
edits and the ``.ipynb`` that is executed hold the same cells.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import keras
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
sys.path.insert(0, str(ROOT / "tools"))

# the one place that names the repository (owner/name); `make colab-links` rewrites it
from colab_links import REPOSITORY, check_repository, relink  # noqa: E402

COLAB_CELL = """\
# Colab, or any Jupyter without lrlab: install lrlab from its repository (`make lab` did it here).
import importlib
import importlib.util
import os
import subprocess
import sys

LRLAB_REPOSITORY = "lrlab-course/lrlab"  # `make colab-links REPOSITORY=owner/name` rewrites it
if importlib.util.find_spec("lrlab") is None:
    source = os.environ.get("LRLAB_INSTALL") or f"git+https://github.com/{LRLAB_REPOSITORY}"
    pip = [sys.executable, "-m", "pip", "install", "-q", f"lrlab @ {source}"]
    if subprocess.run(pip).returncode == 0:
        importlib.invalidate_caches()
    else:
        print(
            f"Could not install lrlab from {source} (pip says why above). Check the network, or\\n"
            "name another source in a cell run before this one, then run this cell again:\\n"
            "    %env LRLAB_INSTALL=git+https://github.com/<owner>/<fork>\\n"
            "    %env LRLAB_INSTALL=file:///content/lrlab-0.1.0-py3-none-any.whl"
        )"""


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


# --------------------------------------------------------------------------- the repository

# Where a file names the repository: a Colab link, a GitHub link, the Colab cell's constant.
REPOSITORY_MENTIONS = re.compile(
    r'colab\.research\.google\.com/github/([^/\s)"]+/[^/\s)"]+)/'
    r'|github\.com/([A-Za-z0-9-]+/[A-Za-z0-9._-]+?)(?:\.git)?(?=[/\s)"`#]|$)'
    r'|LRLAB_REPOSITORY = \\?"([^"\\]+)\\?"'
)
# The files that `make colab-links` rewrites (tools/colab_links.py's own REPOSITORY aside).
LINKED_FILES = [
    Path("README.md"),
    Path("CONTRIBUTING.md"),
    *(p.relative_to(ROOT) for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.*"))),
    *(p.relative_to(ROOT) for p in sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))),
]


def _mentions(text: str) -> list[str]:
    """The repositories ``text`` names (placeholders such as ``<owner/name>`` left out)."""
    found = [next(g for g in match.groups() if g) for match in REPOSITORY_MENTIONS.finditer(text)]
    return [name for name in found if "<" not in name]


def test_colab_cell_names_the_repository():
    assert f'LRLAB_REPOSITORY = "{REPOSITORY}"' in COLAB_CELL, (
        f"COLAB_CELL must name tools/colab_links.py's REPOSITORY {REPOSITORY!r}"
    )


@pytest.mark.parametrize("name", LINKED_FILES, ids=str)
def test_every_link_names_the_repository(name):
    mentions = _mentions((ROOT / name).read_text())
    others = sorted(set(mentions) - {REPOSITORY})
    assert not others, (
        f"{name} links {others}, not {REPOSITORY} (tools/colab_links.py): "
        f"run `make colab-links REPOSITORY={REPOSITORY}`"
    )


def test_readme_has_a_badge_for_every_lesson_and_learner_copy():
    readme = (ROOT / "README.md").read_text()
    for lesson in LESSONS:
        for folder in ("notebooks", "exercises"):
            link = (
                f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/"
                f"{folder}/{lesson.stem}.ipynb"
            )
            assert link in readme, f"README.md lacks the Colab badge {link}"


def test_ci_runs_colab_check_after_make_test_and_docs_name_it():
    # .ci/run: `make test`, then `make colab-check`; both targets exist and the README says so
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "make test" in ci and "make colab-check" in ci
    assert ci.index("make colab-check") > ci.index("make test")
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), re.M))
    assert {"colab-check", "colab-links", "exercises"} <= targets
    readme = (ROOT / "README.md").read_text()
    assert "make colab-check" in readme and "make colab-links REPOSITORY=owner/name" in readme


FAKE_REPOSITORY = "some-fork/lrlab-copy"  # a fork's owner/name, found nowhere in the repository


def _copy_linked_files(tmp_path: Path) -> list[Path]:
    names = [*LINKED_FILES, Path("tests") / "test_notebooks.py", Path("tools") / "colab_links.py"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    return names


def test_colab_links_rewrites_every_link_and_nothing_else(tmp_path):
    # Input: a copy of every file that names the repository; `relink` to FAKE_REPOSITORY.
    names = _copy_linked_files(tmp_path)
    this_test = Path("tests") / "test_notebooks.py"  # it names FAKE_REPOSITORY itself
    before = {name: (tmp_path / name).read_text() for name in names}
    assert not any(FAKE_REPOSITORY in before[name] for name in names if name != this_test)
    changed = relink(FAKE_REPOSITORY, tmp_path)
    after = {name: (tmp_path / name).read_text() for name in names}
    for name in names:
        if name == this_test:
            continue
        old, new = before[name], after[name]
        # every mention now names the fork, as often as the original named the repository ...
        assert set(_mentions(new)) <= {FAKE_REPOSITORY}, f"{name} still links {REPOSITORY}"
        assert new.count(FAKE_REPOSITORY) == old.count(REPOSITORY), name
        # ... and nothing else differs: naming the repository again gives the original back
        assert new.replace(FAKE_REPOSITORY, REPOSITORY) == old, f"{name}: more than links changed"
        assert changed.get(name, 0) == old.count(REPOSITORY), name
    # the test's constants and the tool's own now name the fork
    assert f'REPOSITORY = "{FAKE_REPOSITORY}"' in after[Path("tools") / "colab_links.py"]
    # in this test file only COLAB_CELL's line changes
    changed_lines = [
        (old, new)
        for old, new in zip(before[this_test].splitlines(), after[this_test].splitlines(), strict=True)
        if old != new
    ]
    assert changed_lines == [
        (
            f'LRLAB_REPOSITORY = "{REPOSITORY}"  # `make colab-links REPOSITORY=owner/name` rewrites it',
            f'LRLAB_REPOSITORY = "{FAKE_REPOSITORY}"  # `make colab-links REPOSITORY=owner/name` rewrites it',
        )
    ]
    assert changed[this_test] == 1
    for lesson in LESSONS:
        py = tmp_path / "notebooks" / lesson.name
        ipynb = py.with_suffix(".ipynb")
        # the pair-sync test's comparison still holds, and the stored outputs are the same
        assert _cells(jupytext.read(py)) == _cells(jupytext.read(ipynb)), lesson.name
        outputs = [c.get("outputs") for c in nbformat.read(ipynb, as_version=4).cells]
        stored = nbformat.read(lesson.with_suffix(".ipynb"), as_version=4)
        assert outputs == [c.get("outputs") for c in stored.cells], lesson.name
        badge = f"https://colab.research.google.com/github/{FAKE_REPOSITORY}/blob/main/notebooks/{lesson.stem}.ipynb"
        assert badge in jupytext.read(py).cells[0].source
        colab = jupytext.read(py).cells[1].source
        assert colab == COLAB_CELL.replace(REPOSITORY, FAKE_REPOSITORY), lesson.name
    # a second run has nothing left to do
    assert relink(FAKE_REPOSITORY, tmp_path) == {}


def test_colab_links_then_make_exercises_agree(tmp_path):
    # The learner copies rewritten by `relink` equal those generated from the rewritten lessons.
    from make_exercises import learner_copy

    _copy_linked_files(tmp_path)
    relink(FAKE_REPOSITORY, tmp_path)
    for lesson in LESSONS:
        regenerated = nbformat.writes(learner_copy(jupytext.read(tmp_path / "notebooks" / lesson.name)))
        stored = (tmp_path / "exercises" / f"{lesson.stem}.ipynb").read_text()
        assert nbformat.reads(regenerated, 4) == nbformat.reads(stored, 4), lesson.name


@pytest.mark.parametrize(
    "bad",
    ["https://github.com/owner/name", "owner", "owner/name.git", "owner/name/extra",
     "-owner/name", "owner/", "own er/name"],
)
def test_colab_links_refuses_a_bad_repository_and_writes_nothing(tmp_path, bad):
    names = _copy_linked_files(tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in names}
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        relink(bad, tmp_path)
    assert {name: (tmp_path / name).read_bytes() for name in names} == before


def test_colab_links_refuses_a_repository_that_is_not_a_string():
    with pytest.raises(TypeError, match="owner/name"):
        check_repository(None)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_saves_its_figures_under_its_number(lesson):
    text = lesson.read_text()
    names = re.findall(r"savefig\([^,]+,\s*f?[\"']([^\"']+)[\"']", text)
    assert names, f"{lesson.name} saves no figure with lrlab.plotting.savefig"
    wrong = [n for n in names if not n.startswith(lesson.stem[:3])]
    assert not wrong, f"{lesson.name}: figure names must start with '{lesson.stem[:3]}': {wrong}"


# --------------------------------------------------------------------------- empirical cells

# Calls that train, time or sample: their numbers differ from machine to machine in the last
# bits, and training amplifies that into the third digit. (lrlab.scratch's NumPy optimisers
# are exact float64 arithmetic and are not listed.)
TRAINING_CALLS = {"fit", "find_lr", "fit_schedule", "train_once", "evaluate", "predict",
                  "perf_counter", "process_time", "time"}
IGNORED_MARKERS = ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP", "NBVAL_RAISES_EXCEPTION")
# A checked cell that trains but shows only what training cannot change (step counts, the
# rates a schedule or callback set, an exception) says so, with its reason, on a line of its
# own: `# exact output: the rates come from the schedule, not from the weights`.
EXACT_MARKER = re.compile(r"^# exact output: \S.{10,}$", re.MULTILINE)
# Calls whose value, as a cell's last line, shows no text (figures are not compared by nbval).
SILENT_CALLS = {"show", "savefig", "tight_layout", "print", "display", "summary", "show_table"}


def _outside_functions(tree):
    """Every node of ``tree`` except those inside a function or class definition."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(
            child
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
        )


def _called_names(tree, walk=ast.walk) -> set[str]:
    names = set()
    for node in walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Attribute):
                names.add(function.attr)
            elif isinstance(function, ast.Name):
                names.add(function.id)
    return names


def _loaded_names(tree, walk=ast.walk) -> set[str]:
    return {n.id for n in walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _stored_names(tree) -> set[str]:
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    stored |= {
        n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))
    }
    return stored


def _comprehension_targets(tree) -> set[str]:
    """Names bound by comprehensions, which do not leak out of them."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            names |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    return names


def _prints_outside_claims(tree) -> list[str]:
    """What a cell shows other than through lrlab.claims: print/display calls, a last expression."""
    shown = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in {"print", "display", "summary", "show_table"}:
                shown.append(f"{name}() on line {node.lineno}")
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1].value
        quiet = isinstance(last, ast.Call) and (
            getattr(last.func, "attr", None) in SILENT_CALLS
            or getattr(last.func, "id", None) in SILENT_CALLS
            or (isinstance(last.func, ast.Attribute) and getattr(last.func.value, "id", "") == "claims")
        )
        if not quiet and not isinstance(last, ast.Constant):
            shown.append(f"the value of its last line ({ast.unparse(last)[:40]})")
    return shown


def empirical_checked_cells(lesson: Path) -> list[tuple[int, str]]:
    """Checked code cells (not ignored by nbval) whose output depends on training.

    A cell is empirical when it calls a training function (TRAINING_CALLS, or a function a
    previous cell defined around one) or reads a name that an empirical cell assigned. An
    empirical cell that nbval checks may show its results only through ``lrlab.claims``:
    returns (cell number, what else it shows) for every cell that breaks this. A cell that
    trains but prints only exact values carries EXACT_MARKER with its reason.
    """
    tainted: set[str] = set()
    training = set(TRAINING_CALLS)
    problems = []
    code_cells = [c for c in jupytext.read(lesson).cells if c.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        source = "\n".join(
            line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        tree = ast.parse(source)
        functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        for name, function in functions.items():  # helpers that train make their callers train
            if _called_names(function) & training or _loaded_names(function) & tainted:
                training.add(name)
        calls_training = bool(_called_names(tree, _outside_functions) & training)
        stored = _stored_names(tree) - set(functions)
        comprehension_targets = _comprehension_targets(tree)
        # a name the cell binds itself is the cell's own value, not an earlier cell's
        earlier = _loaded_names(tree, _outside_functions) - stored - comprehension_targets
        empirical = calls_training or bool(earlier & tainted)
        stored -= comprehension_targets
        if empirical:
            tainted |= stored
        else:
            tainted -= stored
        ignored = any(marker in cell.source for marker in IGNORED_MARKERS)
        exact = EXACT_MARKER.search(cell.source)
        if empirical and exact is None and not ignored:
            shown = _prints_outside_claims(tree)
            uses_claims = "claims." in source
            if shown or not uses_claims:
                problems.append((number, ", ".join(shown) or "no lrlab.claims call"))
    return problems


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_checked_cells_show_training_results_only_through_claims(lesson):
    problems = empirical_checked_cells(lesson)
    assert not problems, (
        f"{lesson.name}: checked code cells depend on training but show more than claims "
        "(mark them # NBVAL_IGNORE_OUTPUT and state the conclusion with lrlab.claims): "
        + "; ".join(f"code cell {n}: {what}" for n, what in problems)
    )


SETUP_FACTS = """
import json, os
import keras
from tensorflow.python.framework import config  # the public API can set it, not read it
from lrlab import notebook
notebook.setup(3)
facts = {"tf_op_determinism": config.is_op_determinism_enabled()}
if keras.backend.backend() == "torch":
    import torch
    facts["torch_deterministic"] = torch.are_deterministic_algorithms_enabled()
    facts["cublas_workspace"] = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
def train():
    notebook.setup(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.5),
                              keras.layers.Dense(3, kernel_initializer="glorot_uniform")])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x = keras.random.normal((32, 4), seed=1)
    model.fit(x, x[:, :3], batch_size=8, epochs=2, verbose=0)
    return [w.tolist() for w in model.get_weights()]
facts["same_weights_twice"] = train() == train()
print(json.dumps(facts))
"""


def test_setup_makes_training_deterministic_on_the_current_backend():
    # Input: lrlab.notebook.setup(3), in a child process (op determinism is process-wide and
    # turns off jit_compile for the rest of a TensorFlow process), on the backend the tests
    # run on. Expected: TensorFlow's op determinism on (the data pipeline is tf.data on every
    # backend), torch.use_deterministic_algorithms on under PyTorch (and cuBLAS's workspace
    # set), and a model with dropout and a seeded initializer trained twice after setup(3)
    # ends with identical weights.
    done = subprocess.run([sys.executable, "-c", SETUP_FACTS], capture_output=True, text=True,
                          check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])  # the dict the child printed
    expected = {"tf_op_determinism": True, "same_weights_twice": True}
    if keras.backend.backend() == "torch":
        expected["torch_deterministic"] = True
        expected["cublas_workspace"] = ":4096:8"  # PyTorch's docs: needed on CUDA GPUs
    assert facts == expected

"""Write learner copies of the lessons: every cell tagged ``solution`` becomes a scaffold.

A solution cell defines one or more functions. The scaffold keeps the cell's
imports and each function's signature and docstring, and replaces the body with
``raise NotImplementedError``, so the check cell that follows prints
"not implemented yet" until the learner writes the body. Outputs are cleared.

The copies are kept in the repository (``exercises/NN_topic.ipynb``), so that each has its
own "Open in Colab" badge: the title cell's badge is rewritten to point at the learner copy
itself, and a note under it links the solved lesson. The copy is the same for the same
lesson (cell ids are numbered, not random), so a test can tell when regenerating would
change a stored copy.

    python tools/make_exercises.py --out exercises [notebooks/05_adaptive_optimisers.py ...]
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_TAG = "solution"
# The Colab link of a lesson in the title cell (tools/colab_links.py writes the owner/name).
LESSON_LINK = re.compile(
    r"https://colab\.research\.google\.com/github/(?P<repository>[^/\s)]+/[^/\s)]+)"
    r"/blob/(?P<branch>[^/\s)]+)/notebooks/(?P<stem>[0-9]{2}_[A-Za-z0-9_]+)\.ipynb"
)
LEARNER_NOTE = (
    "**This is the learner copy**: each exercise's solution is replaced by a scaffold, and the "
    "check under it says `not implemented yet` until you write the function. The solved "
    "lesson, with its outputs: [notebooks/{stem}.ipynb]({solved})."
)


def scaffold_source(source: str) -> str:
    """The cell ``source`` with the body of every top-level function replaced by a placeholder."""
    tree = ast.parse(source)
    functions = [
        node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    if not functions:
        raise ValueError("a cell tagged 'solution' must define at least one function")
    lines = source.splitlines()
    # replace bottom-up so earlier line numbers stay valid
    for function in reversed(functions):
        body = function.body
        has_docstring = (
            isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        )
        # 0-based index of the first line after the docstring (or of the first statement)
        first_body_line = body[0].end_lineno if has_docstring else body[0].lineno - 1
        indent = " " * body[0].col_offset
        lines[first_body_line : function.end_lineno] = [
            f"{indent}# Your code here: replace the next line.",
            f'{indent}raise NotImplementedError("exercise: write the body of {function.name}")',
        ]
    return "\n".join(lines) + "\n"


def retitle(source: str) -> str:
    """The title cell ``source`` with its badge pointing at the learner copy, plus a note.

    The badge links ``exercises/NN_topic.ipynb`` in the same repository and branch; the note
    says what a learner copy is and links the solved lesson.
    """
    match = LESSON_LINK.search(source)
    if match is None:
        raise ValueError(
            "the title cell has no Colab badge link of the form "
            "https://colab.research.google.com/github/<owner>/<name>/blob/<branch>/notebooks/"
            "NN_topic.ipynb (see tests/test_notebooks.py)"
        )
    solved = match.group(0)
    learner = solved.replace("/notebooks/", "/exercises/")
    lines = source.replace(solved, learner).splitlines()
    badge_line = next(index for index, line in enumerate(lines) if learner in line)
    note = LEARNER_NOTE.format(stem=match.group("stem"), solved=solved)
    lines[badge_line + 1 : badge_line + 1] = ["", note]
    return "\n".join(lines)


def learner_copy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with solution cells scaffolded and every output cleared.

    The title cell (the first) gets the learner copy's badge and note (``retitle``); cell ids
    are ``cell-1``, ``cell-2``, ...; jupytext's pairing metadata is dropped, so that opening
    the copy does not write a ``.py`` beside it.
    """
    copy = nbformat.from_dict(notebook)
    copy.metadata.pop("jupytext", None)
    copy.nbformat, copy.nbformat_minor = 4, 5
    for number, cell in enumerate(copy.cells, start=1):
        cell["id"] = f"cell-{number}"
        if number == 1 and cell.cell_type == "markdown":
            cell.source = retitle(cell.source)
        if cell.cell_type != "code":
            continue
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            cell.source = scaffold_source(cell.source)
            cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != SOLUTION_TAG] + [
                "exercise"
            ]
        cell.outputs = []
        cell.execution_count = None
    return copy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="lesson .py files (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "exercises", help="output folder")
    args = parser.parse_args(argv)
    sources = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    args.out.mkdir(parents=True, exist_ok=True)
    for path in sources:
        if not path.is_file():
            parser.error(f"no such lesson: {path}")
        notebook = jupytext.read(path)
        try:
            copy = learner_copy(notebook)
        except ValueError as error:
            parser.error(f"{path}: {error}")
        target = args.out / f"{path.stem}.ipynb"
        tmp = target.with_suffix(".ipynb.tmp")
        nbformat.write(copy, tmp)
        tmp.replace(target)
        exercises = sum(
            SOLUTION_TAG in c.get("metadata", {}).get("tags", []) for c in notebook.cells
        )
        print(f"{target}: {exercises} exercise(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

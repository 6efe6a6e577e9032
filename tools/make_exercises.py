"""Write learner copies of the lessons: every cell tagged ``solution`` becomes a scaffold.

A solution cell defines one or more functions. The scaffold keeps the cell's
imports and each function's signature and docstring, and replaces the body with
``raise NotImplementedError``, so the check cell that follows prints
"not implemented yet" until the learner writes the body. Outputs are cleared.

    python tools/make_exercises.py --out exercises [notebooks/05_adaptive_optimisers.py ...]
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_TAG = "solution"


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


def learner_copy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with solution cells scaffolded and every output cleared."""
    copy = nbformat.from_dict(notebook)
    for cell in copy.cells:
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
        target = args.out / f"{path.stem}.ipynb"
        tmp = target.with_suffix(".ipynb.tmp")
        nbformat.write(learner_copy(notebook), tmp)
        tmp.replace(target)
        exercises = sum(
            SOLUTION_TAG in c.get("metadata", {}).get("tags", []) for c in notebook.cells
        )
        print(f"{target}: {exercises} exercise(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

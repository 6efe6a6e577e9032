"""Adversarial probes of lrlab's public surface (issue 11), kept as a rerunnable script.

    python tools/probes.py                   # every module; a table and every failure
    python tools/probes.py --module data     # one module (repeat --module for more)
    python tools/probes.py --list            # the probes, with their input and expectation
    python tools/probes.py --json out.json   # also write every result as JSON
    python tools/probes.py --strict          # exit 1 unless every firm probe passed

Each probe is an input (a call or a command line), what it should do, and a classifier
that puts what it did into one outcome:

- ``clear error``: the expected exception type (or, for a command line, a non-zero exit with
  a message and no traceback) whose message names the bad value or file and says what is
  allowed or what to do;
- ``correct``: it returned and a predicate on the result holds;
- ``silent wrong``: it returned (exit 0) but the predicate fails or a bad input was accepted;
- ``lost``: a file lrlab did not write was deleted or changed (a silent wrong that loses data);
- ``unclear error``: an exception whose message lacks the value or the hint, of an internal
  type (KeyError, AttributeError, BadZipFile, UnicodeDecodeError, ...), or an error where the
  input was good;
- ``crash/hang``: a timeout, a death by signal, a traceback from a command line;
- ``half-written``: files left that should not be (0-byte files, ``.partial``/``.part`` or
  temporary files after the call, or after a rerun of an interrupted command).

Every probe works in its own temporary folder (``LRLAB_FIGURES_DIR`` and ``LRLAB_DATA_DIR``
point into it), never in the repository's ``data/`` or ``figures/``. The probes of a module
run in one worker process per module with a per-probe alarm; a worker that dies or hangs is
restarted after the probe it was running, which counts as a crash/hang. Commands that must
really be interrupted (SIGTERM/SIGKILL of ``fetch``, Ctrl-C of a fit) run as child processes.
The data probes copy a few classes of ``data/gtsrb-tiny`` into the temporary folder;
``python -m lrlab.data fetch`` runs as a child process (downloads come from a ``file://`` URL
or a slow local HTTP server, the archive's address patched in the child). The train command
line runs in process, ``lrlab.train.main(argv)`` on three tiny classes for one epoch: an
exception out of ``main`` is what the command line would print as a traceback.

To measure an older lrlab (a "before" baseline), put a copy of its package first on the
path: ``git archive HEAD lrlab | tar -x -C /tmp/old && PYTHONPATH=/tmp/old python
tools/probes.py``; the report's first line says which lrlab it measured.

A probe marked ``debatable`` has an expectation one could argue with; the report lists it
apart and it is still counted under the outcome it got.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "data" / "gtsrb-tiny"
PYTHON = sys.executable

OUTCOMES = (
    "clear error",
    "correct",
    "silent wrong",
    "lost",
    "unclear error",
    "crash/hang",
    "half-written",
)
GOOD = ("clear error", "correct")
MODULES = (
    "schedules",
    "callbacks",
    "finder",
    "plotting",
    "plateau",
    "scratch",
    "claims",
    "data",
    "train",
)

# Exception types that say where the code broke, not what the user did wrong.
INTERNAL_ERRORS = (
    "KeyError",
    "AttributeError",
    "IndexError",
    "ZeroDivisionError",
    "UnboundLocalError",
    "NameError",
    "RecursionError",
    "NotImplementedError",
    "StopIteration",
    "BadZipFile",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "DecompressionBombError",
    "InvalidArgumentError",
    "OverflowError",
    "JSONDecodeError",
)
# Words of a message that says what is allowed or what to do.
HINT = re.compile(
    r"must|should|expected|expect|allowed|one of|choose|use |give|run |pass|need|only|instead"
    r"|try|rename|remove|delete|replace|set |between|at least|at most|>=|<=|>|<|\bin [\[(]"
    r"|accept|valid|lower|fix|call |compile|define|decorate|register|not a|leave|either|takes",
    re.IGNORECASE,
)


class ProbeTimeout(BaseException):
    """Raised by the per-probe alarm (a BaseException, so ``except Exception`` cannot eat it)."""


@dataclass
class Context:
    """What a probe runs with: its temporary folder, the files it must not lose."""

    tmp: Path
    kept: dict = field(default_factory=dict)
    before: set = field(default_factory=set)
    allow_empty: set = field(default_factory=set)

    def keep(self, path: Path) -> Path:
        """``path`` (a user's file) must still be there, unchanged, after the probe."""
        self.kept[Path(path)] = _digest(Path(path))
        return Path(path)

    def snapshot(self) -> None:
        """Files present now are the probe's set-up; only later ones are checked for 0 bytes."""
        self.before = {p for p in self.tmp.rglob("*") if p.is_file()}


@dataclass
class Probe:
    module: str
    name: str
    input: str
    expect: str  # "error", "ok" or "error or ok"
    run: Callable[[Context], object]
    errors: tuple = (ValueError,)
    mentions: tuple = ()  # each a string or a tuple of alternatives, all must be in the message
    check: Callable | None = None  # check(result, ctx) -> None (fine) | str | (outcome, detail)
    timeout: float = 60.0
    debatable: str = ""


@dataclass
class Result:
    module: str
    name: str
    input: str
    expect: str
    outcome: str
    detail: str
    seconds: float
    debatable: str = ""


def _digest(path: Path) -> str | None:
    if path.is_dir():
        return "dir:" + ",".join(sorted(p.name for p in path.iterdir()))
    if not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- classifying


def _alternatives(item) -> tuple:
    return item if isinstance(item, tuple) else (item,)


def value_texts(value) -> tuple:
    """The ways a message may write ``value``: repr, str and, for numbers, %g."""
    texts = {repr(value), str(value)}
    if isinstance(value, float):
        texts.add(f"{value:g}")
        if math.isnan(value):
            texts.add("nan")
        if math.isinf(value):
            texts.add("inf")
    return tuple(texts)


def _missing_mentions(message: str, mentions) -> list[str]:
    lowered = message.lower()
    return [
        " / ".join(map(str, _alternatives(item)))
        for item in mentions
        if not any(str(alt).lower() in lowered for alt in _alternatives(item))
    ]


def judge_message(message: str, mentions) -> str | None:
    """None if ``message`` names every mention and gives a hint, else what it lacks."""
    lacks = _missing_mentions(message, mentions)
    if lacks:
        return f"message lacks {', '.join(lacks)}"
    if not HINT.search(message):
        return "message says neither what is allowed nor what to do"
    return None


def classify_exception(probe: Probe, error: BaseException) -> tuple[str, str]:
    kind = type(error).__name__
    message = str(error)
    shown = f"{kind}: {_short(message)}"
    if probe.expect == "ok":
        return "unclear error", f"good input raised {shown}"
    if kind in INTERNAL_ERRORS:
        return "unclear error", f"internal error type {shown}"
    if not isinstance(error, probe.errors):
        wanted = "/".join(t.__name__ for t in probe.errors)
        return "unclear error", f"{shown} (expected {wanted})"
    lacks = judge_message(message, probe.mentions)
    if lacks:
        return "unclear error", f"{shown}: {lacks}"
    return "clear error", shown


def _short(text: str, limit: int = 220) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


_PARTIAL = re.compile(r"(\.partial|\.part|\.tmp|\.old)(/|$)|/\.[^/]+\.[A-Za-z0-9_]{6,}\.(png|csv)$")


def leftover_problems(ctx: Context) -> tuple[str, str] | None:
    """("lost", ...) for a kept file gone or changed, ("half-written", ...) for leftovers."""
    for path, digest in ctx.kept.items():
        now = _digest(path)
        if now != digest:
            return (
                "lost",
                f"user's {path.relative_to(ctx.tmp)} was {'deleted' if now is None else 'changed'}",
            )
    leftovers = []
    for path in sorted(ctx.tmp.rglob("*")):
        relative = "/" + path.relative_to(ctx.tmp).as_posix()
        if _PARTIAL.search(relative):
            leftovers.append(relative)
        elif (
            path.is_file()
            and path not in ctx.before
            and path.name not in (".complete",)
            and path not in ctx.allow_empty
            and path.stat().st_size == 0
        ):
            leftovers.append(relative + " (0 bytes)")
    if leftovers:
        return "half-written", "left " + ", ".join(leftovers[:4])
    return None


def _alarm(signum, frame):
    raise ProbeTimeout()


def run_probe(probe: Probe) -> Result:
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f"probe-{probe.module}-"))
    ctx = Context(tmp)
    saved_env = {k: os.environ.get(k) for k in ("LRLAB_FIGURES_DIR", "LRLAB_DATA_DIR")}
    os.environ["LRLAB_FIGURES_DIR"] = str(tmp / "figures")
    os.environ["LRLAB_DATA_DIR"] = str(tmp / "no-data-here")
    saved_cwd = os.getcwd()
    os.chdir(tmp)
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, probe.timeout)
    try:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                value = probe.run(ctx)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except ProbeTimeout:
        outcome, detail = "crash/hang", f"no answer within {probe.timeout:g} s"
    except KeyboardInterrupt:
        outcome, detail = "crash/hang", "KeyboardInterrupt escaped"
    except BaseException as error:  # noqa: BLE001 - every exception is an observation
        outcome, detail = classify_exception(probe, error)
    else:
        outcome, detail = _judge_value(probe, value, ctx)
    finally:
        os.chdir(saved_cwd)
        for key, value_ in saved_env.items():
            if value_ is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value_
    problem = leftover_problems(ctx)
    if problem and outcome != "lost":
        outcome, detail = problem[0], f"{problem[1]}; {outcome}: {detail}"
    shutil.rmtree(tmp, ignore_errors=True)
    return Result(
        probe.module,
        probe.name,
        probe.input,
        probe.expect,
        outcome,
        detail,
        round(time.perf_counter() - started, 2),
        probe.debatable,
    )


def _judge_value(probe: Probe, value, ctx: Context) -> tuple[str, str]:
    if probe.check is None:
        if probe.expect != "error":
            return "correct", f"returned {_short(repr(value), 120)}"
        return "silent wrong", f"accepted: returned {_short(repr(value), 120)}"
    try:
        verdict = probe.check(value, ctx)
    except BaseException as error:  # noqa: BLE001
        return "unclear error", f"using the result raised {type(error).__name__}: {_short(error)}"
    if verdict is None:
        return "correct", _short(repr(value), 120) if not isinstance(value, Cli) else value.line()
    if isinstance(verdict, tuple):
        return verdict
    return "silent wrong", str(verdict)


# --------------------------------------------------------------------------- command lines


@dataclass
class Cli:
    """What a command line did: exit code (None: killed by the timeout), stdout, stderr."""

    rc: int | None
    out: str
    err: str
    signal_: int | None = None

    def line(self) -> str:
        return f"exit {self.rc}: {_short((self.err or self.out).strip().splitlines()[-1:] or '')}"

    @property
    def text(self) -> str:
        return self.out + "\n" + self.err


def run_command(args: list[str], cwd: Path, timeout: float = 60, env=None) -> Cli:
    """Run ``python <args>`` in ``cwd``; a timeout gives rc None."""
    environment = {**os.environ, **(env or {})}
    try:
        done = subprocess.run(
            [PYTHON, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=environment,
        )
    except subprocess.TimeoutExpired as expired:
        return Cli(None, _decode(expired.stdout), _decode(expired.stderr))
    if done.returncode < 0:
        return Cli(done.returncode, done.stdout, done.stderr, -done.returncode)
    return Cli(done.returncode, done.stdout, done.stderr)


def _decode(data) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


def cli_failure(result: Cli) -> tuple[str, str] | None:
    """crash/hang for a timeout, a signal or a traceback; None otherwise."""
    if result.rc is None:
        return "crash/hang", "timed out"
    if result.signal_:
        return "crash/hang", f"died by signal {result.signal_}"
    if "Traceback (most recent call last)" in result.err:
        last = [line for line in result.err.strip().splitlines() if line.strip()][-1]
        return "crash/hang", f"traceback, exit {result.rc}: {_short(last)}"
    return None


def cli_error(*mentions, then: Callable | None = None):
    """A check: the command must fail cleanly (exit != 0) with a message naming ``mentions``."""

    def check(result: Cli, ctx: Context):
        failure = cli_failure(result)
        if failure:
            problem = then(result, ctx) if then is not None else None
            if problem:
                text = problem[1] if isinstance(problem, tuple) else problem
                return failure[0], f"{failure[1]}; and {text}"
            return failure
        if result.rc == 0:
            return "silent wrong", f"exit 0: {result.line()}"
        lacks = judge_message(result.text, mentions)
        if lacks:
            return "unclear error", f"exit {result.rc}, {lacks}: {result.line()}"
        if then is not None:
            problem = then(result, ctx)
            if problem:
                return problem if isinstance(problem, tuple) else ("silent wrong", problem)
        return "clear error", result.line()

    return check


def cli_ok(predicate: Callable | None = None):
    """A check: the command must succeed (exit 0) and ``predicate(result, ctx)`` hold."""

    def check(result: Cli, ctx: Context):
        failure = cli_failure(result)
        if failure:
            return failure
        if result.rc != 0:
            return "unclear error", f"good input failed, {result.line()}"
        return predicate(result, ctx) if predicate else None

    return check


# --------------------------------------------------------------------------- worker and report


def probes_of(module: str) -> list[Probe]:
    probes = globals()[f"{module}_probes"]()
    names = [p.name for p in probes]
    duplicates = [n for n, c in Counter(names).items() if c > 1]
    if duplicates:
        raise SystemExit(f"duplicate probe names in {module}: {duplicates}")
    return probes


def worker(module: str, skip: set[str], out: Path) -> None:
    """Run the probes of ``module`` not in ``skip``; one JSON line per result into ``out``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import matplotlib

    matplotlib.use("Agg")
    with open(out, "a", encoding="utf-8") as stream:
        for probe in probes_of(module):
            if probe.name in skip:
                continue
            stream.write(json.dumps({"start": probe.name}) + "\n")
            stream.flush()
            # The alarm interrupts Python code; a call stuck in C++ ignores it, so a watchdog
            # thread records the hang and ends the worker (the parent starts a new one).
            finished = threading.Event()
            threading.Thread(target=_watchdog, args=(probe, finished, stream), daemon=True).start()
            result = run_probe(probe)
            finished.set()
            stream.write(json.dumps(result.__dict__) + "\n")
            stream.flush()


def _watchdog(probe: Probe, finished: threading.Event, stream) -> None:
    if finished.wait(probe.timeout + 10):
        return
    result = Result(
        probe.module,
        probe.name,
        probe.input,
        probe.expect,
        "crash/hang",
        f"no answer within {probe.timeout + 10:g} s (the worker was ended)",
        probe.timeout + 10,
        probe.debatable,
    )
    stream.write(json.dumps(result.__dict__) + "\n")
    stream.flush()
    os._exit(3)


def run_module(module: str, budget: float) -> list[Result]:
    """Run a module's probes in worker processes; a dead or hung worker costs one probe."""
    results: dict[str, Result] = {}
    listed = {p.name: p for p in probes_of(module)}
    with tempfile.TemporaryDirectory(prefix="probe-worker-") as folder:
        out = Path(folder) / "results.jsonl"
        out.touch()
        deadline = time.monotonic() + budget
        while len(results) < len(listed) and time.monotonic() < deadline:
            done = set(results)
            command = [PYTHON, __file__, "--worker", module, "--out", str(out)]
            for name in done:
                command += ["--skip", name]
            child = subprocess.Popen(
                command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )
            try:
                _, errors = child.communicate(timeout=max(deadline - time.monotonic(), 1))
                how = f"worker exited {child.returncode}"
            except subprocess.TimeoutExpired:
                child.kill()
                _, errors = child.communicate()
                how = "worker killed after the module's time budget"
            started = None
            for line in out.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                if "start" in record:
                    started = record["start"]
                else:
                    results[record["name"]] = Result(**record)
                    started = None
            if started and started not in results:
                probe = listed[started]
                tail = _short((errors or "").strip().splitlines()[-1:] or "")
                results[started] = Result(
                    module,
                    started,
                    probe.input,
                    probe.expect,
                    "crash/hang",
                    f"{how} during this probe {tail}",
                    0.0,
                    probe.debatable,
                )
            elif len(results) < len(listed) and child.returncode not in (0, None):
                raise SystemExit(f"{module} worker failed before any probe:\n{errors}")
    return [results[name] for name in listed if name in results]


def report(results: list[Result], seconds: float) -> str:
    lines = []
    by_module: dict[str, Counter] = defaultdict(Counter)
    for r in results:
        by_module[r.module][r.outcome] += 1
    total = Counter(r.outcome for r in results)
    width = max(len(m) for m in [*by_module, "module", "total"])
    header = f"{'module':<{width}} {'probes':>6} " + " ".join(f"{o:>13}" for o in OUTCOMES)
    lines += [header, "-" * len(header)]
    for module in [m for m in MODULES if m in by_module]:
        counts = by_module[module]
        row = " ".join(f"{counts[o]:>13}" for o in OUTCOMES)
        lines.append(f"{module:<{width}} {sum(counts.values()):>6} {row}")
    lines.append("-" * len(header))
    row = " ".join(f"{total[o]:>13}" for o in OUTCOMES)
    lines.append(f"{'total':<{width}} {len(results):>6} {row}")
    silent = total["silent wrong"] + total["lost"]
    lines.append(
        f"\n{len(results)} probes in {seconds:.0f} s: {total['clear error']} clear errors, "
        f"{total['correct']} correct, {silent} silent wrong results ({total['lost']} of them "
        f"lose data), {total['unclear error']} unclear errors, {total['crash/hang']} crashes or "
        f"hangs, {total['half-written']} half-written."
    )
    bad = [r for r in results if r.outcome not in GOOD]
    if bad:
        lines.append("\nEvery probe that is not a clear error or correct:")
        for r in bad:
            mark = " [debatable]" if r.debatable else ""
            lines.append(f"- {r.module} {r.name}{mark}: {r.outcome}")
            lines.append(f"    input:    {r.input}")
            lines.append(f"    expected: {r.expect}; got: {r.detail}")
    debatable = [r for r in results if r.debatable]
    if debatable:
        lines.append("\nDebatable expectations (counted under the outcome they got):")
        for r in debatable:
            lines.append(f"- {r.module} {r.name} ({r.outcome}): {r.debatable}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", choices=MODULES, help="only these modules")
    parser.add_argument("--list", action="store_true", help="list the probes, run none")
    parser.add_argument("--json", type=Path, help="write every result to this JSON file")
    parser.add_argument("--budget", type=float, default=240, help="seconds per module at most")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 if a probe whose expectation is not debatable is neither a clear error nor "
        "correct",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--skip", action="append", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, set(args.skip), args.out)
        return 0
    modules = args.module or list(MODULES)
    if args.list:
        count = 0
        for module in modules:
            for p in probes_of(module):
                count += 1
                mark = f" [debatable: {p.debatable}]" if p.debatable else ""
                print(f"{module:9} {p.name}: {p.input}\n{'':9}   expect {p.expect}{mark}")
        print(f"{count} probes")
        return 0
    import lrlab

    print(f"lrlab from {Path(lrlab.__file__).parent}", flush=True)
    started = time.perf_counter()
    results = []
    for module in modules:
        t0 = time.perf_counter()
        found = run_module(module, args.budget)
        print(f"{module}: {len(found)} probes in {time.perf_counter() - t0:.0f} s", flush=True)
        results += found
    text = report(results, time.perf_counter() - started)
    print(text)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1), encoding="utf-8")
    failing = [r for r in results if r.outcome not in GOOD and not r.debatable]
    return 1 if args.strict and failing else 0


# =========================================================================== the probes
#
# Expected values: each check states where its numbers come from (a formula of the
# docstring, a value computed another way, or an invariant such as "a rate is >= 0").


# --------------------------------------------------------------------------- schedules

# name -> (keyword arguments that build a good schedule, rate arguments, step arguments,
#          number of steps its curve spans). Rate arguments set the size of the rate;
#          step arguments are lengths in steps.
SCHEDULE_SPECS = {
    "CyclicalLearningRate": (
        dict(
            initial_learning_rate=1e-3,
            maximal_learning_rate=1e-2,
            step_size=10,
            scale_fn="<registered>",
        ),
        ("initial_learning_rate", "maximal_learning_rate"),
        ("step_size",),
        60,
    ),
    "TriangularCyclicalLearningRate": (
        dict(initial_learning_rate=1e-3, maximal_learning_rate=1e-2, step_size=10),
        ("initial_learning_rate", "maximal_learning_rate"),
        ("step_size",),
        60,
    ),
    "Triangular2CyclicalLearningRate": (
        dict(initial_learning_rate=1e-3, maximal_learning_rate=1e-2, step_size=10),
        ("initial_learning_rate", "maximal_learning_rate"),
        ("step_size",),
        60,
    ),
    "ExponentialCyclicalLearningRate": (
        dict(initial_learning_rate=1e-3, maximal_learning_rate=1e-2, step_size=10, gamma=0.9),
        ("initial_learning_rate", "maximal_learning_rate"),
        ("step_size",),
        60,
    ),
    "LinearCosineDecay": (
        dict(initial_learning_rate=1e-2, decay_steps=100),
        ("initial_learning_rate",),
        ("decay_steps",),
        120,
    ),
    "NoisyLinearCosineDecay": (
        dict(initial_learning_rate=1e-2, decay_steps=100, initial_variance=0.0, seed=0),
        ("initial_learning_rate",),
        ("decay_steps",),
        120,
    ),
    "StepDecay": (
        dict(initial_learning_rate=1e-2, decay_rate=0.5, decay_steps=10),
        ("initial_learning_rate",),
        ("decay_steps",),
        60,
    ),
    "RampSustainDecay": (
        dict(
            start_learning_rate=1e-4,
            max_learning_rate=1e-2,
            ramp_steps=10,
            sustain_steps=5,
            decay_every_steps=10,
            min_learning_rate=1e-5,
        ),
        ("start_learning_rate", "max_learning_rate", "min_learning_rate"),
        ("ramp_steps", "sustain_steps", "decay_every_steps"),
        80,
    ),
    "OneCycle": (
        dict(max_learning_rate=1e-2, total_steps=100),
        ("max_learning_rate",),
        ("total_steps",),
        110,
    ),
    "WarmupStableDecay": (
        dict(
            peak_learning_rate=1e-2,
            warmup_steps=10,
            stable_steps=50,
            decay_steps=40,
            initial_learning_rate=1e-4,
            final_learning_rate=1e-5,
        ),
        ("peak_learning_rate", "initial_learning_rate", "final_learning_rate"),
        ("warmup_steps", "stable_steps", "decay_steps"),
        110,
    ),
    "LinearRamp": (
        dict(initial_learning_rate=1e-4, final_learning_rate=1e-2, ramp_steps=50),
        ("initial_learning_rate", "final_learning_rate"),
        ("ramp_steps",),
        60,
    ),
    "InverseSqrtDecay": (
        dict(peak_learning_rate=1e-2, warmup_steps=10, initial_learning_rate=1e-4),
        ("peak_learning_rate", "initial_learning_rate"),
        ("warmup_steps",),
        60,
    ),
}
# Other numeric arguments and the bad values each must refuse (name -> values).
SCHEDULE_EXTRA_ARGS = {
    "ExponentialCyclicalLearningRate": {"gamma": (0.0, 1.5)},
    "LinearCosineDecay": {"num_periods": (-1.0,), "alpha": (-1.0,), "beta": (-1.0,)},
    "NoisyLinearCosineDecay": {
        "initial_variance": (-1.0,),
        "variance_decay": (-1.0,),
        "seed": (-1, 2**32, 1.5),
    },
    "StepDecay": {"decay_rate": (0.0, 1.5)},
    "RampSustainDecay": {"decay_rate": (0.0, 1.5)},
    "OneCycle": {
        "pct_start": (0.0, 1.0),
        "div_factor": (0.0,),
        "final_div_factor": (-1.0,),
        "anneal_strategy": ("exp",),
        "three_phase": ("yes",),
    },
    "WarmupStableDecay": {"decay_shape": ("exp",)},
    "CyclicalLearningRate": {"scale_mode": ("steps",), "scale_fn": ("abc",)},
}
# Arguments that must be > 0 (0 is refused); the others must be >= 0.
POSITIVE_ARGS = {
    "step_size",
    "decay_steps",
    "decay_every_steps",
    "ramp_steps",
    "peak_learning_rate",
    "max_learning_rate",
    "total_steps",
}


def probe_constant_height(cycle):
    """A scale_fn of constant height 1, registered for Keras serialization in ``worker``."""
    import keras

    return keras.ops.ones_like(cycle)


def probe_unregistered_height(cycle):
    """A module-level scale_fn that is not registered with Keras."""
    import keras

    return keras.ops.ones_like(cycle)


_REGISTERED = {}


def registered_height():
    if not _REGISTERED:
        import keras

        _REGISTERED["fn"] = keras.saving.register_keras_serializable(package="lrlab_probes")(
            probe_constant_height
        )
    return _REGISTERED["fn"]


class HeightHolder:
    """A plain object whose bound method serves as scale_fn."""

    def height(self, cycle):
        import keras

        return keras.ops.ones_like(cycle)


def make_schedule(class_name: str, **overrides):
    from lrlab import schedules

    kwargs = dict(SCHEDULE_SPECS[class_name][0])
    if kwargs.get("scale_fn") == "<registered>":
        kwargs["scale_fn"] = registered_height()
    kwargs.update(overrides)
    return getattr(schedules, class_name)(**kwargs)


def curve(schedule, steps) -> np.ndarray:  # noqa: F821
    import keras
    import numpy as np

    steps = np.asarray(steps)
    return np.array([float(keras.ops.convert_to_numpy(schedule(int(s)))) for s in steps])


def _float64_reference(name: str, overrides: dict, steps):
    """The schedule's values computed in float64 (rate arguments as np.float64)."""
    import numpy as np

    kwargs = dict(SCHEDULE_SPECS[name][0])
    kwargs.update(overrides)
    as_float64 = {key: np.float64(kwargs[key]) for key in SCHEDULE_SPECS[name][1]}
    return curve(make_schedule(name, **{**overrides, **as_float64}), steps)


def tiny_model(optimizer):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def save_and_reload(ctx: Context, schedule, steps=(0, 5, 17, 40)):
    """``model.save`` a model compiled with SGD(schedule), reload it; return both curves."""
    import keras

    model = tiny_model(keras.optimizers.SGD(learning_rate=schedule))
    path = ctx.tmp / "m.keras"
    ctx.snapshot()
    model.save(path)
    try:
        loaded = keras.models.load_model(path)
    except Exception as error:  # noqa: BLE001 - saved, then unreadable
        return LoadFailed(
            f"model.save returned, then load_model raised {type(error).__name__}: "
            f"{_short(error, 160)}"
        )
    reloaded = loaded.optimizer._learning_rate
    return curve(schedule, steps), curve(reloaded, steps)


@dataclass
class LoadFailed:
    why: str


@dataclass
class LateError:
    """A schedule that was built, then raised only when called."""

    why: str


def built_then_called(class_name, **overrides):
    def run(ctx):
        schedule = make_schedule(class_name, **overrides)
        try:
            return curve(schedule, [3])
        except Exception as error:  # noqa: BLE001 - the observation
            return LateError(
                f"built, then raised only when called: {type(error).__name__}: {_short(error, 150)}"
            )

    return run


def not_late(value, ctx):
    if isinstance(value, LateError):
        return "unclear error", value.why
    return None


def same_curves(pair, ctx):
    import numpy as np

    if isinstance(pair, LoadFailed):
        return pair.why
    before, after = pair
    if not np.allclose(before, after, rtol=1e-6, atol=0):
        return f"reloaded rates {after} differ from the saved schedule's {before}"
    return None


def schedules_probes() -> list[Probe]:
    probes: list[Probe] = []
    add = probes.append

    def build(name, **overrides):
        return lambda ctx: make_schedule(name, **overrides)

    for name, (_kwargs, rate_args, step_args, span) in SCHEDULE_SPECS.items():
        numeric = [*rate_args, *step_args]
        # wrong types, NaN, inf, negative, zero for every numeric argument
        for arg in numeric:
            cases = [("abc", (TypeError,)), (float("nan"), (ValueError, TypeError))]
            positive = arg in POSITIVE_ARGS and (arg, name) != ("ramp_steps", "RampSustainDecay")
            cases.append((0, (ValueError,)) if positive else (-1.0, (ValueError,)))
            if arg == numeric[0]:
                cases += [(None, (TypeError,)), (float("inf"), (ValueError,))]
            for value, errors in cases:
                add(
                    Probe(
                        "schedules",
                        f"{name}.{arg}={value!r}",
                        f"{name}({arg}={value!r}, other arguments good)",
                        "error",
                        build(name, **{arg: value}),
                        errors,
                        (arg, value_texts(value)),
                    )
                )
        for arg, values in SCHEDULE_EXTRA_ARGS.get(name, {}).items():
            for value in values:
                errors = (TypeError, ValueError)
                add(
                    Probe(
                        "schedules",
                        f"{name}.{arg}={value!r}",
                        f"{name}({arg}={value!r})",
                        "error",
                        build(name, **{arg: value}),
                        errors,
                        (arg, value_texts(value)),
                    )
                )
        # float32 overflow / underflow: refuse the value, or compute it right
        peak = next(
            (a for a in rate_args if a in POSITIVE_ARGS or "maximal" in a or "final" in a),
            rate_args[0],
        )
        for arg, value in ((peak, 1e300), (peak, 1e-300), (step_args[0], 1e-300)):
            if True:
                steps = list(range(0, span, 7))

                def run(ctx, name=name, arg=arg, value=value, steps=steps):

                    got = curve(make_schedule(name, **{arg: value}), steps)
                    return got, _float64_reference(name, {arg: value}, steps)

                def check(pair, ctx):
                    import numpy as np

                    got, reference = pair
                    if not np.all(np.isfinite(got)):
                        return f"rates not finite: {got[:4]}"
                    if not np.allclose(got, reference, rtol=1e-3, atol=0):
                        return f"rates {got[:3]} differ from the float64 values {reference[:3]}"
                    return None

                add(
                    Probe(
                        "schedules",
                        f"{name}.{arg}={value:g}",
                        f"{name}({arg}={value:g}) evaluated at steps 0..{span}",
                        "error or ok",
                        run,
                        (ValueError, TypeError),
                        (arg, value_texts(value)),
                        check,
                        debatable=(
                            "a rate of 1e-300 computed as 0 changes no training; the issue "
                            "counts a silent underflow to 0 all the same"
                        )
                        if value == 1e-300 and arg not in step_args
                        else "",
                    )
                )

        # negative steps: the rate stays within the curve's range
        def negative(ctx, name=name, span=span):
            schedule = make_schedule(name)
            return curve(schedule, range(span)), curve(schedule, [-1, -5, -1000])

        def within(pair, ctx):
            import numpy as np

            values, at_negative = pair
            low, high = min(values.min(), 0.0), values.max() * (1 + 1e-6)
            if not np.all(np.isfinite(at_negative)) or np.any(at_negative < 0):
                return f"rates at steps -1, -5, -1000 are {at_negative}"
            if np.any(at_negative < values.min() * (1 - 1e-6)) or np.any(at_negative > high):
                return f"rates at steps -1, -5, -1000 {at_negative} leave [{low:g}, {high:g}]"
            return None

        add(
            Probe(
                "schedules",
                f"{name}(step<0)",
                f"{name}(good args) called at steps -1, -5, -1000",
                "error or ok",
                negative,
                (ValueError,),
                ("step",),
                within,
            )
        )
        # name=None: refused when built, or works when called
        add(
            Probe(
                "schedules",
                f"{name}.name=None",
                f"{name}(name=None) then schedule(3): refused when built, or it works",
                "error or ok",
                built_then_called(name, name=None),
                (TypeError, ValueError),
                ("name", "None"),
                not_late,
            )
        )

        # get_config / from_config and model.save / load_model round trips
        def config_round_trip(ctx, name=name, span=span):
            schedule = make_schedule(name)
            again = type(schedule).from_config(schedule.get_config())
            return curve(schedule, range(0, span, 5)), curve(again, range(0, span, 5))

        add(
            Probe(
                "schedules",
                f"{name}.from_config",
                f"{name}.from_config(get_config())",
                "ok",
                config_round_trip,
                check=same_curves,
            )
        )
        add(
            Probe(
                "schedules",
                f"{name}.save",
                f"model.save / load_model with SGD({name}(...))",
                "ok",
                lambda ctx, name=name: save_and_reload(ctx, make_schedule(name)),
                check=same_curves,
                timeout=60,
            )
        )

    # tensor, Variable and NumPy arguments survive a save / load round trip (or are refused)
    def wrapped(kind, value):
        import keras
        import numpy as np

        return {
            "tensor": lambda: keras.ops.convert_to_tensor(value),
            "Variable": lambda: keras.Variable(value),
            "np.float32": lambda: np.float32(value),
            "np.float64": lambda: np.float64(value),
        }[kind]()

    for name in (
        "TriangularCyclicalLearningRate",
        "OneCycle",
        "StepDecay",
        "WarmupStableDecay",
        "LinearRamp",
    ):
        arg = SCHEDULE_SPECS[name][1][0]
        value = SCHEDULE_SPECS[name][0][arg]
        for kind in ("tensor", "Variable", "np.float32", "np.float64"):

            def run(ctx, name=name, arg=arg, value=value, kind=kind):
                return save_and_reload(ctx, make_schedule(name, **{arg: wrapped(kind, value)}))

            add(
                Probe(
                    "schedules",
                    f"{name}.{arg}={kind}.save",
                    f"{name}({arg}={kind}({value:g})), model.save then load_model",
                    "error or ok",
                    run,
                    (TypeError, ValueError),
                    (arg,),
                    same_curves,
                )
            )

    # scale_fn variants of CyclicalLearningRate
    def cyclical(scale_fn_factory):
        def run(ctx):
            return save_and_reload(
                ctx, make_schedule("CyclicalLearningRate", scale_fn=scale_fn_factory())
            )

        return run

    def local_function():
        import keras

        def height(cycle):
            return keras.ops.ones_like(cycle)

        return height

    def partial_of_registered():
        import functools

        return functools.partial(registered_height())

    scale_fns = [
        ("registered", registered_height, "ok", "a registered module-level function"),
        ("lambda", lambda: lambda x: x * 0 + 1, "error", "a lambda"),
        ("local", local_function, "error", "a function defined inside a function"),
        (
            "unregistered",
            lambda: probe_unregistered_height,
            "error",
            "an unregistered module-level function",
        ),
        ("bound-method", lambda: HeightHolder().height, "error or ok", "a bound method"),
        ("builtin-abs", lambda: abs, "error or ok", "the builtin abs"),
        ("partial", partial_of_registered, "error or ok", "functools.partial of a registered fn"),
    ]
    for label, factory, expect, text in scale_fns:
        add(
            Probe(
                "schedules",
                f"CyclicalLearningRate.scale_fn={label}.save",
                f"CyclicalLearningRate(scale_fn={text}), model.save then load_model",
                expect,
                cyclical(factory),
                (TypeError, ValueError),
                ("scale_fn",),
                same_curves if expect != "error" else None,
            )
        )
    add(
        Probe(
            "schedules",
            "CyclicalLearningRate.scale_fn=lambda.get_config",
            "CyclicalLearningRate(scale_fn=lambda).get_config()",
            "error",
            lambda ctx: make_schedule("CyclicalLearningRate", scale_fn=lambda x: x).get_config(),
            (ValueError,),
            ("scale_fn", "lambda"),
        )
    )

    # values against the docstring formulas
    def values_check(expected):
        def check(got, ctx):
            import numpy as np

            if not np.allclose(got, expected, rtol=1e-5):
                return f"got {got}, the docstring's formula gives {expected}"
            return None

        return check

    formula_cases = [
        (
            "TriangularCyclicalLearningRate",
            {},
            [0, 5, 10, 20],
            [1e-3, 5.5e-3, 1e-2, 1e-3],
            "triangle 1e-3 -> 1e-2 over step_size 10",
        ),
        (
            "Triangular2CyclicalLearningRate",
            {},
            [10, 30],
            [1e-2, 1e-3 + 9e-3 / 2],
            "second cycle has half the height",
        ),
        (
            "StepDecay",
            {},
            [0, 8, 9, 19],
            [1e-2, 1e-2, 5e-3, 2.5e-3],
            "eta0 * d ** floor((1 + n) / r)",
        ),
        (
            "LinearRamp",
            {},
            [0, 25, 50, 80],
            [1e-4, 1e-4 + (1e-2 - 1e-4) / 2, 1e-2, 1e-2],
            "straight line, constant after ramp_steps",
        ),
        (
            "InverseSqrtDecay",
            {},
            [0, 5, 10, 40],
            [1e-4, 1e-4 + (1e-2 - 1e-4) / 2, 1e-2, 1e-2 / 2],
            "linear warm-up, then peak * sqrt(warmup_steps / step)",
        ),
        ("OneCycle", {}, [0], [1e-2 / 25], "starts at max / div_factor"),
        (
            "WarmupStableDecay",
            {},
            [0, 10, 40, 80, 105],
            [1e-4, 1e-2, 1e-2, 1e-5 + (1e-2 - 1e-5) * 0.5, 1e-5],
            "warm-up, stable, linear decay",
        ),
        ("LinearCosineDecay", {"beta": 0.0}, [0, 100], [1e-2, 0.0], "cosine to 0 with beta 0"),
    ]
    for name, overrides, steps, expected, why in formula_cases:
        add(
            Probe(
                "schedules",
                f"{name}.values",
                f"{name}(good args) at steps {steps} ({why})",
                "ok",
                lambda ctx, n=name, o=overrides, s=steps: curve(make_schedule(n, **o), s),
                check=values_check(expected),
            )
        )

    # NoisyLinearCosineDecay with its defaults must not give negative rates
    def noisy_defaults(ctx):
        import numpy as np

        from lrlab.schedules import NoisyLinearCosineDecay

        schedule = NoisyLinearCosineDecay(1e-2, 1000, seed=0)
        import keras

        return np.asarray(keras.ops.convert_to_numpy(schedule(np.arange(1000))))

    def non_negative(values, ctx):
        negative = int((values < 0).sum())
        return f"{negative} of {values.size} rates are negative" if negative else None

    add(
        Probe(
            "schedules",
            "NoisyLinearCosineDecay.defaults>=0",
            "NoisyLinearCosineDecay(1e-2, 1000, seed=0) over steps 0..999",
            "ok",
            noisy_defaults,
            check=non_negative,
        )
    )

    # ChainedSchedule
    def chained(schedules_, boundaries):
        def run(ctx):
            from lrlab.schedules import ChainedSchedule

            items = [make_schedule(s) if isinstance(s, str) else s for s in schedules_]
            return ChainedSchedule(items, boundaries)

        return run

    chain_cases = [
        ("empty", [], [], (ValueError,), ("schedules",)),
        ("not-a-schedule", [0.01], [], (TypeError,), ("schedules[0]", "0.01")),
        ("boundaries-length", ["LinearRamp", "StepDecay"], [], (ValueError,), ("boundaries",)),
        (
            "boundaries-equal",
            ["LinearRamp", "StepDecay", "StepDecay"],
            [50, 50],
            (ValueError,),
            ("boundaries[1]", "50"),
        ),
        ("boundary-zero", ["LinearRamp", "StepDecay"], [0], (ValueError,), ("boundaries[0]", "0")),
        (
            "boundary-float",
            ["LinearRamp", "StepDecay"],
            [10.5],
            (TypeError,),
            ("boundaries[0]", "10.5"),
        ),
        (
            "boundary-string",
            ["LinearRamp", "StepDecay"],
            ["10"],
            (TypeError,),
            ("boundaries[0]", "'10'"),
        ),
    ]
    for label, items, boundaries, errors, mentions in chain_cases:
        add(
            Probe(
                "schedules",
                f"ChainedSchedule.{label}",
                f"ChainedSchedule({items}, boundaries={boundaries})",
                "error",
                chained(items, boundaries),
                errors,
                mentions,
            )
        )

    def chained_save(ctx):
        from lrlab.schedules import ChainedSchedule

        schedule = ChainedSchedule([make_schedule("LinearRamp"), make_schedule("StepDecay")], [50])
        return save_and_reload(ctx, schedule, steps=(0, 25, 50, 70))

    add(
        Probe(
            "schedules",
            "ChainedSchedule.save",
            "model.save / load_model of a ChainedSchedule",
            "ok",
            chained_save,
            check=same_curves,
        )
    )

    # ramp_sustain_decay (the epoch function)
    for label, kwargs, errors, mentions in [
        ("epoch=-1", dict(epoch=-1), (ValueError,), ("epoch", "-1")),
        ("epoch='3'", dict(epoch="3"), (TypeError,), ("epoch", "'3'")),
        ("epoch=nan", dict(epoch=float("nan")), (ValueError, TypeError), ("epoch", "nan")),
        ("ramp_epochs=-1", dict(epoch=3, ramp_epochs=-1), (ValueError,), ("ramp_epochs", "-1")),
        ("min>max", dict(epoch=3, min_learning_rate=1.0), (ValueError,), ("min_learning_rate",)),
    ]:
        add(
            Probe(
                "schedules",
                f"ramp_sustain_decay.{label}",
                f"ramp_sustain_decay({kwargs})",
                "error",
                lambda ctx, k=kwargs: __import__("lrlab.schedules").schedules.ramp_sustain_decay(
                    **k
                ),
                errors,
                mentions,
            )
        )
    add(
        Probe(
            "schedules",
            "RampSustainDecay.min>max",
            "RampSustainDecay(min_learning_rate=1.0 > max 1e-2)",
            "error",
            build("RampSustainDecay", min_learning_rate=1.0),
            (ValueError,),
            ("min_learning_rate", "1.0"),
        )
    )
    add(
        Probe(
            "schedules",
            "OneCycle.total_steps=3",
            "OneCycle(1e-2, total_steps=3)",
            "error",
            build("OneCycle", total_steps=3),
            (ValueError,),
            ("total_steps", "3"),
        )
    )
    add(
        Probe(
            "schedules",
            "OneCycle.total_steps=2.5",
            "OneCycle(1e-2, total_steps=2.5)",
            "error",
            build("OneCycle", total_steps=2.5),
            (TypeError, ValueError),
            ("total_steps", "2.5"),
        )
    )

    # torch_equivalent
    for label, args, errors, mentions in [
        ("unknown", ("StepLRR", 0.1, {}), (ValueError,), ("StepLRR",)),
        ("missing-arg", ("StepLR", 0.1, {}), (ValueError, TypeError), ("step_size",)),
        (
            "bad-mode",
            ("CyclicLR", 0.1, dict(base_lr=0.01, max_lr=0.1, step_size_up=5, mode="triangle")),
            (ValueError,),
            ("triangle",),
        ),
        ("arguments-not-dict", ("StepLR", 0.1, [("step_size", 3)]), (TypeError,), ("arguments",)),
    ]:
        add(
            Probe(
                "schedules",
                f"torch_equivalent.{label}",
                f"torch_equivalent{args}",
                "error",
                lambda ctx, a=args: __import__(
                    "lrlab.torch_equivalents"
                ).torch_equivalents.torch_equivalent(*a),
                errors,
                mentions,
            )
        )
    return probes


# --------------------------------------------------------------------------- callbacks


def xy(n=64, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0]], dtype="float32") + 0.5)


@contextlib.contextmanager
def mixed_precision():
    import keras

    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def fit_tiny(optimizer, callbacks, epochs=2, batch_size=16):
    x, y = xy()
    model = tiny_model(optimizer)
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=callbacks)
    return model, history


def one_cycle_schedule(total=8):
    from lrlab.schedules import OneCycle

    return OneCycle(0.05, total_steps=total)


class Recorder:
    """A callback factory recording ``getattr(optimizer, attribute)`` before every batch.

    Under mixed precision it reads the optimizer inside Keras's ``LossScaleOptimizer``, the
    one whose ``iterations`` drive the schedule; ``steps`` keeps those iterations."""

    @staticmethod
    def make(attribute):
        import keras

        class _Recorder(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.values = []
                self.steps = []

            def on_train_batch_begin(self, batch, logs=None):
                optimizer = self.model.optimizer
                optimizer = getattr(optimizer, "inner_optimizer", optimizer)
                value = getattr(optimizer, attribute)
                self.values.append(float(keras.ops.convert_to_numpy(value)))
                self.steps.append(int(keras.ops.convert_to_numpy(optimizer.iterations)))

        return _Recorder()


def interrupt_at(batch_number, how):
    """A callback that interrupts the fit at its ``batch_number``-th batch."""
    import keras

    class _Interrupt(keras.callbacks.Callback):
        seen = 0

        def on_train_batch_end(self, batch, logs=None):
            _Interrupt.seen += 1
            if _Interrupt.seen == batch_number:
                if how == "SIGINT":
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(1)
                raise RuntimeError("interrupted by the probe")

    return _Interrupt()


def interrupted_then_trains(how, optimizer_name):
    def run(ctx):
        import keras
        import numpy as np

        from lrlab.callbacks import OneCycleMomentum

        schedule = one_cycle_schedule(total=8)
        optimizer = (
            keras.optimizers.Adam(schedule)
            if optimizer_name == "Adam"
            else keras.optimizers.SGD(schedule, momentum=0.9)
        )
        x, y = xy()
        model = tiny_model(optimizer)
        try:
            model.fit(
                x,
                y,
                epochs=2,
                batch_size=16,
                verbose=0,
                callbacks=[OneCycleMomentum(schedule), interrupt_at(3, how)],
            )
        except (RuntimeError, KeyboardInterrupt):
            pass
        path = ctx.tmp / "after.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        loaded.fit(x, y, epochs=1, batch_size=16, verbose=0)
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
        return float(np.asarray(loaded.evaluate(x, y, verbose=0)))

    return run


def callbacks_probes() -> list[Probe]:
    probes: list[Probe] = []
    add = probes.append

    def logger_float(ctx):
        import keras

        from lrlab.callbacks import LearningRateLogger

        _, history = fit_tiny(keras.optimizers.SGD(0.01), [LearningRateLogger()])
        return history.history.get("lr")

    def equals(expected, rtol=1e-6):
        def check(got, ctx):
            import numpy as np

            if (
                got is None
                or len(got) != len(expected)
                or not np.allclose(got, expected, rtol=rtol)
            ):
                return f"got {got}, expected {expected}"
            return None

        return check

    add(
        Probe(
            "callbacks",
            "LearningRateLogger.float",
            "fit 2 epochs, SGD(0.01), LearningRateLogger",
            "ok",
            logger_float,
            check=equals([0.01, 0.01]),
        )
    )

    def logger_schedule(ctx):
        import keras

        from lrlab.callbacks import LearningRateLogger
        from lrlab.schedules import StepDecay

        _, history = fit_tiny(keras.optimizers.SGD(StepDecay(0.01, 0.5, 4)), [LearningRateLogger()])
        return history.history.get("lr")

    # 4 batches per epoch: epoch 2 starts at step 4, StepDecay(0.01, 0.5, 4) gives
    # 0.01 * 0.5 ** floor((1 + 4) / 4) = 0.005 there.
    add(
        Probe(
            "callbacks",
            "LearningRateLogger.schedule",
            "fit 2 epochs of 4 batches, SGD(StepDecay(0.01, 0.5, 4)), LearningRateLogger",
            "ok",
            logger_schedule,
            check=equals([0.01, 0.005]),
        )
    )

    def logger_per_batch(ctx):
        import keras

        from lrlab.callbacks import LearningRateLogger

        logger = LearningRateLogger(per_batch=True)
        fit_tiny(keras.optimizers.SGD(0.01), [logger])
        return logger.batch_learning_rates

    add(
        Probe(
            "callbacks",
            "LearningRateLogger.per_batch",
            "per_batch=True over 2 epochs x 4 batches",
            "ok",
            logger_per_batch,
            check=equals([0.01] * 8),
        )
    )

    def logger_mixed(ctx):
        import keras

        from lrlab.callbacks import LearningRateLogger

        with mixed_precision():
            _, history = fit_tiny(keras.optimizers.SGD(0.01), [LearningRateLogger()])
        return history.history.get("lr")

    add(
        Probe(
            "callbacks",
            "LearningRateLogger.mixed_float16",
            "LearningRateLogger in a fit under mixed_float16 (Keras wraps a LossScaleOptimizer)",
            "ok",
            logger_mixed,
            check=equals([0.01, 0.01], rtol=1e-3),
        )
    )

    def logger_against_optimizer(optimizer_factory):
        """The logger's epoch rates and the optimizer's own rate at each epoch's first batch."""

        def run(ctx):
            from lrlab.callbacks import LearningRateLogger

            with mixed_precision():
                recorder = Recorder.make("learning_rate")
                _, history = fit_tiny(optimizer_factory(), [LearningRateLogger(), recorder])
            return history.history.get("lr"), recorder.values[0::4]

        return run

    def same_as_optimizer(pair, ctx):
        import numpy as np

        logged, read = pair
        if logged is None or not np.allclose(logged, read, rtol=1e-6):
            return f"logged {logged}, the optimizer's rate at each epoch's first batch {read}"
        return None

    def sgd_step_decay():
        import keras

        from lrlab.schedules import StepDecay

        return keras.optimizers.SGD(StepDecay(0.01, 0.5, 4))

    add(
        Probe(
            "callbacks",
            "LearningRateLogger.mixed_float16+schedule",
            "LearningRateLogger, SGD(StepDecay(0.01, 0.5, 4)) under mixed_float16: the logged "
            "rate equals optimizer.learning_rate read at each epoch's first batch",
            "ok",
            logger_against_optimizer(sgd_step_decay),
            check=same_as_optimizer,
        )
    )

    def momentum_mixed(ctx):
        import keras
        import numpy as np

        from lrlab.callbacks import OneCycleMomentum

        schedule = one_cycle_schedule(total=8)
        recorder = Recorder.make("beta_1")
        with mixed_precision():
            fit_tiny(keras.optimizers.Adam(schedule), [OneCycleMomentum(schedule), recorder])
        momenta = np.asarray(keras.ops.convert_to_numpy(schedule.momentum(np.arange(8))))
        expected = momenta[np.minimum(recorder.steps, 7)]
        return np.array(recorder.values), expected

    add(
        Probe(
            "callbacks",
            "OneCycleMomentum.mixed_float16",
            "fit with Adam(OneCycle) + OneCycleMomentum under mixed_float16: beta_1 of each batch "
            "equals OneCycle.momentum at the step the rate uses (the inner optimizer's "
            "iterations; the loss scale skips steps whose gradients overflow)",
            "ok",
            momentum_mixed,
            check=lambda pair, ctx: momenta_match(pair, ctx),
        )
    )

    def momentum_values(optimizer_name):
        def run(ctx):
            import keras
            import numpy as np

            from lrlab.callbacks import OneCycleMomentum

            schedule = one_cycle_schedule(total=8)
            optimizer = (
                keras.optimizers.Adam(schedule)
                if optimizer_name == "Adam"
                else keras.optimizers.SGD(schedule, momentum=0.9)
            )
            attribute = "beta_1" if optimizer_name == "Adam" else "momentum"
            recorder = Recorder.make(attribute)
            fit_tiny(optimizer, [OneCycleMomentum(schedule), recorder])
            expected = keras.ops.convert_to_numpy(schedule.momentum(np.arange(8)))
            return np.array(recorder.values), np.asarray(expected, dtype=np.float64)

        return run

    def momenta_match(pair, ctx):
        import numpy as np

        got, expected = pair
        if got.shape != expected.shape or not np.allclose(got, expected, atol=1e-6):
            return f"momentum per batch {got} != OneCycle.momentum(step) {expected}"
        return None

    for name in ("Adam", "SGD"):
        add(
            Probe(
                "callbacks",
                f"OneCycleMomentum.values.{name}",
                f"{name}(OneCycle(0.05, 8), ...) + OneCycleMomentum: the momentum of each batch",
                "ok",
                momentum_values(name),
                check=momenta_match,
            )
        )
    for how in ("exception", "SIGINT"):
        for name in ("Adam", "SGD"):
            add(
                Probe(
                    "callbacks",
                    f"OneCycleMomentum.interrupted.{how}.{name}",
                    f"fit with {name} + OneCycleMomentum interrupted at batch 3 by "
                    f"{'a real SIGINT (Ctrl-C)' if how == 'SIGINT' else 'an exception'}; "
                    "then model.save, load_model, fit the loaded and the original model",
                    "ok",
                    interrupted_then_trains(how, name),
                    timeout=60,
                )
            )

    def momentum(*args, **kwargs):
        def run(ctx):
            from lrlab.callbacks import OneCycleMomentum

            args_ = [one_cycle_schedule() if a == "<OneCycle>" else a for a in args]
            return OneCycleMomentum(*args_, **kwargs)

        return run

    for label, args, kwargs, errors, mentions in [
        ("schedule=str", ("x",), {}, (TypeError,), ("'x'",)),
        ("schedule=StepDecay", ("<StepDecay>",), {}, (TypeError,), ("schedule",)),
        (
            "base_momentum=1.0",
            ("<OneCycle>",),
            dict(base_momentum=1.0),
            (ValueError,),
            ("base_momentum", "1.0"),
        ),
        (
            "base_momentum=None",
            ("<OneCycle>",),
            dict(base_momentum=None),
            (TypeError,),
            ("base_momentum", "None"),
        ),
        (
            "max_momentum=nan",
            ("<OneCycle>",),
            dict(max_momentum=float("nan")),
            (ValueError,),
            ("max_momentum", "nan"),
        ),
        (
            "max_momentum='0.9'",
            ("<OneCycle>",),
            dict(max_momentum="0.9"),
            (TypeError, ValueError),
            ("max_momentum", "'0.9'"),
        ),
        (
            "base_momentum=-0.1",
            ("<OneCycle>",),
            dict(base_momentum=-0.1),
            (ValueError,),
            ("base_momentum", "-0.1"),
        ),
    ]:
        add(
            Probe(
                "callbacks",
                f"OneCycleMomentum.{label}",
                f"OneCycleMomentum({args}, {kwargs})",
                "error",
                momentum(*args, **kwargs),
                errors,
                mentions,
            )
        )

    def momentum_with(optimizer_factory):
        def run(ctx):
            from lrlab.callbacks import OneCycleMomentum

            schedule = one_cycle_schedule(total=8)
            return fit_tiny(optimizer_factory(schedule), [OneCycleMomentum(schedule)])

        return run

    import_keras = lambda: __import__("keras")  # noqa: E731
    add(
        Probe(
            "callbacks",
            "OneCycleMomentum.SGD-momentum-0",
            "fit with SGD(OneCycle, momentum=0) + OneCycleMomentum",
            "error",
            momentum_with(lambda s: import_keras().optimizers.SGD(s)),
            (ValueError,),
            ("momentum", "0"),
        )
    )
    add(
        Probe(
            "callbacks",
            "OneCycleMomentum.RMSprop",
            "fit with RMSprop(OneCycle) + OneCycleMomentum",
            "error",
            momentum_with(lambda s: import_keras().optimizers.RMSprop(s)),
            (ValueError,),
            ("RMSprop",),
        )
    )
    add(
        Probe(
            "callbacks",
            "LearningRateLogger.per_batch='no'",
            "LearningRateLogger(per_batch='no')",
            "error",
            lambda ctx: __import__("lrlab.callbacks").callbacks.LearningRateLogger("no"),
            (TypeError,),
            ("per_batch", "'no'"),
            debatable="bool('no') is True: a truthy string silently turns per-batch logging on",
        )
    )
    return probes


# --------------------------------------------------------------------------- finder


def compiled_tiny(optimizer=None, **compile_kwargs):
    import keras

    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer=optimizer or keras.optimizers.SGD(0.01), loss="mse", **compile_kwargs)
    return model


def weights_of(model):
    import numpy as np

    return [np.array(v.numpy(), copy=True) for v in model.variables]


def finder_probes() -> list[Probe]:
    probes: list[Probe] = []
    add = probes.append

    def find(model_factory=compiled_tiny, data="arrays", **kwargs):
        def run(ctx):
            from lrlab.finder import find_lr

            model = model_factory()
            x, y = xy()
            return find_lr(model, (x, y) if data == "arrays" else data(x, y), **kwargs)

        return run

    bad = [
        ("start_lr=0", dict(start_lr=0), (ValueError,), ("start_lr", "0")),
        ("start_lr=-1", dict(start_lr=-1.0), (ValueError,), ("start_lr", "-1")),
        ("start_lr=nan", dict(start_lr=float("nan")), (ValueError,), ("start_lr", "nan")),
        ("start_lr='abc'", dict(start_lr="abc"), (TypeError, ValueError), ("start_lr", "'abc'")),
        ("end_lr<start_lr", dict(start_lr=1e-2, end_lr=1e-3), (ValueError,), ("end_lr", "0.001")),
        ("end_lr=inf", dict(end_lr=float("inf")), (ValueError,), ("end_lr", "inf")),
        ("num_steps=1", dict(num_steps=1), (ValueError,), ("num_steps", "1")),
        ("num_steps=2.5", dict(num_steps=2.5), (TypeError, ValueError), ("num_steps", "2.5")),
        ("mode='log'", dict(mode="log"), (ValueError,), ("mode", "'log'")),
        ("beta=1", dict(beta=1.0), (ValueError,), ("beta", "1.0")),
        ("stop_factor=1", dict(stop_factor=1.0), (ValueError,), ("stop_factor", "1.0")),
        ("batches_per_step=0", dict(batches_per_step=0), (ValueError,), ("batches_per_step", "0")),
        (
            "batches_per_step='epochs'",
            dict(batches_per_step="epochs"),
            (ValueError,),
            ("batches_per_step", "'epochs'"),
        ),
        ("batch_size=0", dict(batch_size=0), (ValueError,), ("batch_size", "0")),
    ]
    for label, kwargs, errors, mentions in bad:
        add(
            Probe(
                "finder",
                f"find_lr.{label}",
                f"find_lr(model, (x, y), {kwargs})",
                "error",
                find(**kwargs),
                errors,
                mentions,
            )
        )

    def uncompiled():
        import keras

        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    add(
        Probe(
            "finder",
            "find_lr.uncompiled",
            "find_lr on a model never compiled",
            "error",
            find(uncompiled),
            (ValueError,),
            ("compile",),
        )
    )

    def scheduled():
        import keras

        from lrlab.schedules import StepDecay

        return compiled_tiny(keras.optimizers.SGD(StepDecay(0.01, 0.5, 10)))

    add(
        Probe(
            "finder",
            "find_lr.schedule-optimizer",
            "find_lr on SGD(StepDecay(...))",
            "error",
            find(scheduled),
            (TypeError, ValueError),
            ("learning_rate",),
        )
    )
    add(
        Probe(
            "finder",
            "find_lr.steps_per_execution=2",
            "find_lr on a model compiled with steps_per_execution=2",
            "error",
            find(lambda: compiled_tiny(steps_per_execution=2)),
            (ValueError,),
            ("steps_per_execution", "2"),
        )
    )

    def restores(ctx):
        from lrlab.finder import find_lr

        model = compiled_tiny()
        x, y = xy()
        model(x[:1])
        before = weights_of(model)
        result = find_lr(model, (x, y), num_steps=20, batch_size=16)
        return before, weights_of(model), result

    def restored_check(triple, ctx):
        import numpy as np

        before, after, result = triple
        if not all(np.array_equal(a, b) for a, b in zip(before, after, strict=True)):
            return "weights changed by find_lr"
        if not 2 <= len(result.learning_rates) <= 20:
            return f"{len(result.learning_rates)} rates recorded for num_steps=20"
        return None

    add(
        Probe(
            "finder",
            "find_lr.restores",
            "find_lr(model, (x, y), num_steps=20): weights after",
            "ok",
            restores,
            check=restored_check,
        )
    )

    def raising(ctx):
        import keras

        from lrlab.finder import find_lr

        model = compiled_tiny()
        x, y = xy()
        model(x[:1])
        before = weights_of(model)
        try:
            find_lr(model, (x, y), num_steps=20, batch_size=16, callbacks=[interrupt_at(3, "exc")])
        except RuntimeError:
            pass
        else:
            return "no error"
        del keras
        return before, weights_of(model)

    def weights_back(pair, ctx):
        import numpy as np

        if pair == "no error":
            return "the callback's RuntimeError did not come through"
        before, after = pair
        return (
            None
            if all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
            else ("weights not restored after the error")
        )

    add(
        Probe(
            "finder",
            "find_lr.error-restores",
            "find_lr whose fit raises at batch 3 (an extra callback): weights after",
            "ok",
            raising,
            check=weights_back,
        )
    )

    def repeated(batches):
        def data(x, y):
            import tensorflow as tf

            return tf.data.Dataset.from_tensor_slices((x, y)).batch(16).repeat()

        return find(data=data, num_steps=5, batches_per_step=batches)

    add(
        Probe(
            "finder",
            "find_lr.repeat+epoch",
            "find_lr(dataset.repeat(), batches_per_step='epoch', num_steps=5)",
            "error or ok",
            repeated("epoch"),
            (ValueError,),
            ("repeat", "epoch"),
            check=lambda r, c: None,
            timeout=15,
        )
    )
    add(
        Probe(
            "finder",
            "find_lr.repeat+1",
            "find_lr(dataset.repeat(), batches_per_step=1, num_steps=5)",
            "ok",
            repeated(1),
            check=lambda r, c: None,
            timeout=40,
        )
    )

    def mixed(ctx):
        from lrlab.finder import find_lr

        with mixed_precision():
            model = compiled_tiny()
            x, y = xy()
            return find_lr(model, (x, y), num_steps=10, batch_size=16)

    def finite_result(result, ctx):
        import numpy as np

        if len(result.learning_rates) < 2 or not np.all(np.isfinite(result.losses[:2])):
            return f"rates {result.learning_rates[:3]}, losses {result.losses[:3]}"
        return None

    add(
        Probe(
            "finder",
            "find_lr.mixed_float16",
            "find_lr under mixed_float16 (LossScaleOptimizer)",
            "ok",
            mixed,
            check=finite_result,
        )
    )

    def mixed_schedule(ctx):
        import keras

        from lrlab.finder import find_lr
        from lrlab.schedules import StepDecay

        with mixed_precision():
            model = compiled_tiny(keras.optimizers.SGD(StepDecay(0.01, 0.5, 10)))
            x, y = xy()
            return find_lr(model, (x, y), num_steps=10, batch_size=16)

    add(
        Probe(
            "finder",
            "find_lr.mixed_float16+schedule",
            "find_lr under mixed_float16 with SGD(StepDecay(...)): the error must name SGD, "
            "which the user built, not Keras's LossScaleOptimizer wrapper",
            "error",
            mixed_schedule,
            (TypeError, ValueError),
            ("SGD(",),
        )
    )

    def ramp(**kwargs):
        return lambda ctx: __import__("lrlab.finder").finder.learning_rate_ramp(**kwargs)

    def ends(values, ctx):
        import numpy as np

        ok = np.isclose(values[0], 1e-7) and np.isclose(values[-1], 10.0) and len(values) == 100
        return None if ok else f"ramp {values[:2]} ... {values[-1:]} ({len(values)} values)"

    add(
        Probe(
            "finder",
            "learning_rate_ramp.ends",
            "learning_rate_ramp() defaults: first and last",
            "ok",
            ramp(),
            check=ends,
        )
    )
    add(
        Probe(
            "finder",
            "learning_rate_ramp.num_steps=True",
            "learning_rate_ramp(num_steps=True)",
            "error",
            ramp(num_steps=True),
            (TypeError, ValueError),
            ("num_steps", "True"),
        )
    )

    def numpy_test(ctx):
        import numpy as np

        from lrlab import scratch
        from lrlab.finder import range_test_numpy

        return range_test_numpy(scratch.Quadratic(np.diag([0.2, 4.0])), [1.0, 1.0], num_steps=50)

    def has_suggestions(result, ctx):
        import numpy as np

        values = result.suggestions() if callable(result.suggestions) else result.suggestions
        bad = {k: v for k, v in values.items() if not (np.isfinite(v) and v > 0)}
        return f"suggestions not finite > 0: {bad}" if bad else None

    add(
        Probe(
            "finder",
            "range_test_numpy.quadratic",
            "range_test_numpy(Quadratic(diag(0.2, 4)), [1, 1], num_steps=50).suggestions()",
            "ok",
            numpy_test,
            check=has_suggestions,
        )
    )

    def suggest_unknown(ctx):
        return numpy_test(ctx).suggest("valey")

    add(
        Probe(
            "finder",
            "RangeTestResult.suggest='valey'",
            "result.suggest('valey')",
            "error",
            suggest_unknown,
            (ValueError,),
            ("'valey'",),
        )
    )
    add(
        Probe(
            "finder",
            "range_test_numpy.loss=object",
            "range_test_numpy(object(), [1.0])",
            "error",
            lambda ctx: __import__("lrlab.finder").finder.range_test_numpy(object(), [1.0]),
            (TypeError,),
            ("loss",),
        )
    )
    return probes


# --------------------------------------------------------------------------- plotting


def plotting_probes() -> list[Probe]:
    probes: list[Probe] = []
    add = probes.append

    def save(name, folder=None):
        def run(ctx):
            import matplotlib.pyplot as plt

            from lrlab.plotting import savefig

            fig = plt.figure()
            plt.plot([0, 1], [0, 1])
            ctx.snapshot()
            try:
                target = savefig(fig, name, folder=None if folder is None else ctx.tmp / folder)
            finally:
                plt.close(fig)
            return target

        return run

    def written_as(expected):
        def check(target, ctx):
            folder = ctx.tmp / "figures"
            files = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
            if Path(target).name != expected or files != [expected]:
                return f"wrote {files} (returned {target}), expected only {expected}"
            return None

        return check

    for name in (
        "abc\n",
        "",
        "../escape",
        "a/b",
        "ABC",
        " abc",
        "abc ",
        "ümlaut",
        "a\x00b",
        ".png",
        "-dash",
        "x" * 300,
    ):
        add(
            Probe(
                "plotting",
                f"savefig.name={name[:20]!r}",
                f"savefig(fig, {name[:40]!r})",
                "error",
                save(name),
                (ValueError,),
                (value_texts(name) if len(name) < 50 else "name",),
            )
        )
    for value in (123, None, Path("fig")):
        add(
            Probe(
                "plotting",
                f"savefig.name={value!r}",
                f"savefig(fig, {value!r})",
                "error",
                save(value),
                (TypeError,),
                ("name", value_texts(value)),
            )
        )
    add(
        Probe(
            "plotting",
            "savefig.good",
            "savefig(fig, '07_metrics'), LRLAB_FIGURES_DIR=tmp",
            "ok",
            save("07_metrics"),
            check=written_as("07_metrics.png"),
        )
    )
    add(
        Probe(
            "plotting",
            "savefig.good.png",
            "savefig(fig, 'a-b_1.png')",
            "ok",
            save("a-b_1.png"),
            check=written_as("a-b_1.png"),
        )
    )

    def folder_is_file(ctx):
        (ctx.tmp / "afile").write_text("user data")
        ctx.keep(ctx.tmp / "afile")
        return save("fig", folder="afile")(ctx)

    add(
        Probe(
            "plotting",
            "savefig.folder=file",
            "savefig(fig, 'fig', folder=<an existing file>)",
            "error",
            folder_is_file,
            (ValueError, OSError),
            ("afile",),
        )
    )

    def curve_of(steps):
        def run(ctx):
            from lrlab.plotting import learning_rate_curve
            from lrlab.schedules import StepDecay

            return learning_rate_curve(StepDecay(0.01, 0.5, 10), steps)

        return run

    for steps in (0, -3, "10", [[1, 2]], 2.5):
        add(
            Probe(
                "plotting",
                f"learning_rate_curve.steps={steps!r}",
                f"learning_rate_curve(StepDecay, {steps!r})",
                "error",
                curve_of(steps),
                (TypeError, ValueError),
                ("steps", value_texts(steps)),
            )
        )
    add(
        Probe(
            "plotting",
            "learning_rate_curve.good",
            "learning_rate_curve(StepDecay(0.01,0.5,10), 20)",
            "ok",
            curve_of(20),
            check=lambda v, c: None if (len(v) == 20 and abs(v[9] - 0.005) < 1e-9) else f"got {v}",
        )
    )
    add(
        Probe(
            "plotting",
            "plot_schedules.empty",
            "plot_schedules({}, 10)",
            "error",
            lambda ctx: __import__("lrlab.plotting").plotting.plot_schedules({}, 10),
            (ValueError,),
            ("schedule",),
        )
    )
    add(
        Probe(
            "plotting",
            "display_metrics.no-loss",
            "display_metrics({'accuracy': [0.5]})",
            "error",
            lambda ctx: __import__("lrlab.plotting").plotting.display_metrics({"accuracy": [0.5]}),
            (ValueError,),
            ("loss",),
        )
    )
    return probes


# --------------------------------------------------------------------------- plateau


def shown_values(values) -> str:
    return repr(values) if isinstance(values, str) else repr(list(values))


def plateau_probes() -> list[Probe]:
    probes: list[Probe] = []
    add = probes.append

    def rule(which, values=(1.0, 1.0, 1.0), lr=0.1, **kwargs):
        def run(ctx):
            from lrlab import plateau

            function = getattr(plateau, f"{which}_reduce_on_plateau")
            return function(values, lr, **kwargs)

        return run

    for which in ("keras", "torch"):
        for label, values, lr, kwargs, errors, mentions in [
            ("factor=1", (1.0,), 0.1, dict(factor=1.0), (ValueError,), ("factor", "1.0")),
            (
                "factor=nan",
                (1.0,),
                0.1,
                dict(factor=float("nan")),
                (ValueError,),
                ("factor", "nan"),
            ),
            ("factor='0.5'", (1.0,), 0.1, dict(factor="0.5"), (TypeError,), ("factor", "'0.5'")),
            ("patience=-1", (1.0,), 0.1, dict(patience=-1), (ValueError,), ("patience", "-1")),
            (
                "patience=1.5",
                (1.0,),
                0.1,
                dict(patience=1.5),
                (TypeError, ValueError),
                ("patience", "1.5"),
            ),
            ("mode='auto'", (1.0,), 0.1, dict(mode="auto"), (ValueError,), ("mode", "'auto'")),
            ("lr=0", (1.0,), 0.0, {}, (ValueError,), ("initial_learning_rate", "0")),
            ("lr='abc'", (1.0,), "abc", {}, (TypeError,), ("initial_learning_rate", "'abc'")),
            ("lr=inf", (1.0,), float("inf"), {}, (ValueError,), ("initial_learning_rate", "inf")),
            ("values=2-D", [[1.0, 2.0]], 0.1, {}, (ValueError,), ("metric_values",)),
            ("values='abc'", "abc", 0.1, {}, (TypeError, ValueError), ("metric_values", "abc")),
            ("min_lr=-1", (1.0,), 0.1, dict(min_lr=-1.0), (ValueError,), ("min_lr", "-1")),
        ]:
            add(
                Probe(
                    "plateau",
                    f"{which}.{label}",
                    f"{which}_reduce_on_plateau({shown_values(values)}, {lr!r}, {kwargs})",
                    "error",
                    rule(which, values, lr, **kwargs),
                    errors,
                    mentions,
                )
            )

    # Keras's rule: epoch 1 sets best; epochs 2 and 3 do not improve; patience 2 lowers the
    # rate at the end of epoch 3: rates [0.1, 0.1, 0.1, 0.05] (learning_rates[k] is epoch k+1).
    def rates_are(expected, reductions):
        def check(decisions, ctx):
            import numpy as np

            if (
                not np.allclose(decisions.learning_rates, expected)
                or decisions.reductions != reductions
            ):
                return f"got {decisions.learning_rates}, {decisions.reductions}"
            return None

        return check

    add(
        Probe(
            "plateau",
            "keras.flat",
            "keras_reduce_on_plateau([1,1,1], 0.1, factor=0.5, patience=2)",
            "ok",
            rule("keras", (1.0, 1.0, 1.0), 0.1, factor=0.5, patience=2),
            check=rates_are([0.1, 0.1, 0.1, 0.05], (3,)),
        )
    )
    # A NaN metric is "no improvement" in both rules, as in Keras 3's callback and PyTorch
    # (a comparison with NaN is False); default patience 10: no reduction in 2 epochs.
    for which in ("keras", "torch"):
        add(
            Probe(
                "plateau",
                f"{which}.values=[nan]",
                f"{which}_reduce_on_plateau([1.0, nan], 0.1)",
                "ok",
                rule(which, (1.0, float("nan")), 0.1),
                check=rates_are([0.1, 0.1, 0.1], ()),
            )
        )
    # torch's rule: lowers when bad epochs exceed patience: 2 bad epochs > patience 1 at epoch 3
    add(
        Probe(
            "plateau",
            "torch.flat",
            "torch_reduce_on_plateau([1,1,1], 0.1, factor=0.5, patience=1)",
            "ok",
            rule("torch", (1.0, 1.0, 1.0), 0.1, factor=0.5, patience=1),
            check=rates_are([0.1, 0.1, 0.1, 0.05], (3,)),
        )
    )
    return probes


# --------------------------------------------------------------------------- scratch


def scratch_probes() -> list[Probe]:
    probes: list[Probe] = []
    add = probes.append

    def optimizer(name, *args, **kwargs):
        return lambda ctx: getattr(__import__("lrlab.scratch").scratch, name)(*args, **kwargs)

    for label, name, args, kwargs, errors, mentions in [
        ("SGD.lr=-1", "SGD", (-1.0,), {}, (ValueError,), ("learning_rate", "-1")),
        ("SGD.lr=nan", "SGD", (float("nan"),), {}, (ValueError,), ("learning_rate", "nan")),
        ("SGD.lr='abc'", "SGD", ("abc",), {}, (TypeError, ValueError), ("learning_rate", "'abc'")),
        ("SGD.lr=None", "SGD", (None,), {}, (TypeError, ValueError), ("learning_rate", "None")),
        (
            "Momentum.momentum=1",
            "Momentum",
            (0.1,),
            dict(momentum=1.0),
            (ValueError,),
            ("momentum", "1.0"),
        ),
        ("Adam.beta_1=1", "Adam", (0.1,), dict(beta_1=1.0), (ValueError,), ("beta_1", "1.0")),
        ("Adam.epsilon=-1", "Adam", (0.1,), dict(epsilon=-1.0), (ValueError,), ("epsilon", "-1")),
        ("RMSProp.rho=1.5", "RMSProp", (0.1,), dict(rho=1.5), (ValueError,), ("rho", "1.5")),
        (
            "RMSProp.centered='yes'",
            "RMSProp",
            (0.1,),
            dict(centered="yes"),
            (TypeError, ValueError),
            ("centered", "'yes'"),
        ),
        (
            "AdaGrad.initial_accumulator_value=-1",
            "AdaGrad",
            (0.1,),
            dict(initial_accumulator_value=-1.0),
            (ValueError,),
            ("initial_accumulator_value", "-1"),
        ),
        (
            "AdamW.weight_decay=-1",
            "AdamW",
            (0.1,),
            dict(weight_decay=-1.0),
            (ValueError,),
            ("weight_decay", "-1"),
        ),
    ]:
        add(
            Probe(
                "scratch",
                label,
                f"scratch.{name}{args} {kwargs}",
                "error",
                optimizer(name, *args, **kwargs),
                errors,
                mentions,
            )
        )

    def train(loss="quadratic", opt=("SGD", 0.1), params=(1.0, 1.0), **kwargs):
        def run(ctx):
            import numpy as np

            from lrlab import scratch

            losses = {
                "quadratic": lambda: scratch.Quadratic(np.diag([0.2, 4.0])),
                "linear": lambda: scratch.LinearRegression(np.eye(4)[:, :2], np.arange(4.0)),
            }
            name, *args = opt
            return scratch.train(
                losses[loss](), getattr(scratch, name)(*args), list(params), **kwargs
            )

        return run

    for label, kwargs, errors, mentions in [
        ("steps=0", dict(steps=0), (ValueError,), ("steps", "0")),
        (
            "steps+epochs",
            dict(steps=3, epochs=1, loss="linear"),
            (ValueError,),
            ("steps", "epochs"),
        ),
        (
            "batch_size>n",
            dict(steps=3, batch_size=10, loss="linear"),
            (ValueError,),
            ("batch_size", "10"),
        ),
        ("seed=-1", dict(steps=3, seed=-1), (ValueError,), ("seed", "-1")),
        ("params-length", dict(steps=3, params=(1.0, 1.0, 1.0)), (ValueError,), ("3",)),
        (
            "params-nan",
            dict(steps=3, params=(float("nan"), 1.0)),
            (ValueError,),
            ("initial_params", "nan"),
        ),
        (
            "schedule-negative",
            dict(steps=3, opt=("SGD", lambda step: -0.1)),
            (ValueError,),
            ("-0.1", "step"),
        ),
    ]:
        add(
            Probe(
                "scratch",
                f"train.{label}",
                f"scratch.train(..., {kwargs})",
                "error",
                train(**kwargs),
                errors,
                mentions,
            )
        )

    def converged(trajectory, ctx):
        import numpy as np

        # gradient descent on f = 0.1 x1^2 + 2 x2^2 with rate 0.1: x2 shrinks by |1 - 0.4| = 0.6
        # per step, x1 by 1 - 0.02 = 0.98 (the lesson's formula 1 - lr * h).
        expected = np.array([0.98**50, 0.6**50])
        return (
            None
            if np.allclose(trajectory.params[-1], expected)
            else (f"params after 50 steps {trajectory.params[-1]}, expected {expected}")
        )

    add(
        Probe(
            "scratch",
            "train.quadratic",
            "scratch.train(Quadratic(diag(0.2,4)), SGD(0.1), [1,1], steps=50)",
            "ok",
            train(steps=50),
            check=converged,
        )
    )
    for label, args, errors, mentions in [
        ("Quadratic.non-symmetric", ([[1.0, 2.0], [0.0, 1.0]],), (ValueError,), ("symmetric",)),
        ("Quadratic.nan", ([[float("nan")]],), (ValueError,), ("hessian",)),
    ]:
        add(
            Probe(
                "scratch",
                label,
                f"scratch.Quadratic{args}",
                "error",
                lambda ctx, a=args: __import__("lrlab.scratch").scratch.Quadratic(*a),
                errors,
                mentions,
            )
        )
    add(
        Probe(
            "scratch",
            "LinearRegression.y-length",
            "LinearRegression(eye(3), [1, 2])",
            "error",
            lambda ctx: __import__("lrlab.scratch").scratch.LinearRegression(
                [[1.0, 0], [0, 1.0], [1.0, 1.0]], [1.0, 2.0]
            ),
            (ValueError,),
            ("y",),
        )
    )
    add(
        Probe(
            "scratch",
            "LogisticRegression.labels",
            "LogisticRegression(X, y=[0, 2])",
            "error",
            lambda ctx: __import__("lrlab.scratch").scratch.LogisticRegression(
                [[1.0, 0], [0, 1.0]], [0, 2]
            ),
            (ValueError,),
            ("y",),
        )
    )
    return probes


# --------------------------------------------------------------------------- claims


def claims_probes() -> list[Probe]:
    probes: list[Probe] = []
    add = probes.append

    def claim(kind, *args, **kwargs):
        def run(ctx):
            from lrlab import claims

            return getattr(claims, kind)(*args, **kwargs)

        return run

    failed = __import__("lrlab.claims", fromlist=["ClaimFailed"]) if False else None
    del failed
    for label, kind, args, kwargs, errors, mentions in [
        (
            "paired.n=1",
            "paired_difference",
            ([1.0], [0.0]),
            dict(statement="s"),
            (ValueError,),
            ("a", "2"),
        ),
        (
            "paired.lengths",
            "paired_difference",
            ([1.0, 2.0, 3.0], [0.0, 1.0]),
            dict(statement="s"),
            (ValueError,),
            ("3", "2"),
        ),
        (
            "paired.statement=''",
            "paired_difference",
            ([1.0, 2.0], [0.0, 1.0]),
            dict(statement=""),
            (ValueError,),
            ("statement",),
        ),
        (
            "paired.direction",
            "paired_difference",
            ([1.0, 2.0], [0.0, 1.0]),
            dict(statement="s", direction="up"),
            (ValueError,),
            ("direction", "'up'"),
        ),
        (
            "paired.confidence=1",
            "paired_difference",
            ([1.0, 2.0], [0.0, 1.0]),
            dict(statement="s", confidence=1.0),
            (ValueError,),
            ("confidence", "1.0"),
        ),
        (
            "paired.confidence='0.9'",
            "paired_difference",
            ([1.0, 2.0], [0.0, 1.0]),
            dict(statement="s", confidence="0.9"),
            (TypeError,),
            ("confidence", "'0.9'"),
        ),
        (
            "paired.values=str",
            "paired_difference",
            ("ab", [0.0, 1.0]),
            dict(statement="s"),
            (TypeError,),
            ("a",),
        ),
        (
            "bounded.no-threshold",
            "bounded",
            ([1.0],),
            dict(statement="s", reason="r"),
            (ValueError,),
            ("above", "below"),
        ),
        (
            "bounded.above>=below",
            "bounded",
            ([1.0],),
            dict(statement="s", reason="r", above=2.0, below=1.0),
            (ValueError,),
            ("above", "below"),
        ),
        (
            "bounded.above=nan",
            "bounded",
            ([1.0],),
            dict(statement="s", reason="r", above=float("nan")),
            (ValueError,),
            ("above", "nan"),
        ),
        (
            "bounded.reason=''",
            "bounded",
            ([1.0],),
            dict(statement="s", reason="", above=0.0),
            (ValueError,),
            ("reason",),
        ),
        (
            "mean_interval.n=1",
            "mean_interval",
            ([1.0],),
            dict(statement="s", reason="r", above=0.0),
            (ValueError,),
            ("values", "2"),
        ),
        (
            "every_pair.defer=''",
            "every_pair",
            ([1.0], [0.0]),
            dict(statement="s", defer=""),
            (ValueError,),
            ("defer",),
        ),
        ("t_quantile.dof=0", "t_quantile", (0.95, 0), {}, (ValueError,), ("dof", "0")),
    ]:
        add(
            Probe(
                "claims",
                label,
                f"claims.{kind}{args} {kwargs}",
                "error",
                claim(kind, *args, **kwargs),
                errors,
                mentions,
            )
        )

    def claim_failed(kind, *args, **kwargs):
        def run(ctx):
            from lrlab import claims

            try:
                getattr(claims, kind)(*args, **kwargs)
            except claims.ClaimFailed as error:
                return str(error)
            return None

        return run

    def names_numbers(*texts):
        def check(message, ctx):
            if message is None:
                return "the claim held"
            lacks = _missing_mentions(message, texts)
            return f"ClaimFailed lacks {lacks}: {message[:100]}" if lacks else None

        return check

    add(
        Probe(
            "claims",
            "paired.fails",
            "paired_difference([1,2,3], [2,3,4], statement='a above b')",
            "ok",
            claim_failed(
                "paired_difference", [1.0, 2.0, 3.0], [2.0, 3.0, 4.0], statement="a above b"
            ),
            check=names_numbers("a above b", "-1"),
        )
    )
    add(
        Probe(
            "claims",
            "bounded.nan",
            "bounded([0.5, nan], above=0.1)",
            "ok",
            claim_failed("bounded", [0.5, float("nan")], statement="s", reason="r", above=0.1),
            check=names_numbers("nan"),
        )
    )

    def holds(ctx):
        from lrlab import claims

        return claims.paired_difference([2.0, 3.1, 4.0], [1.0, 1.0, 1.2], statement="a above b")

    # differences 1, 2.1, 2.8: mean 1.97, sd 0.91, t(0.975, 2) = 4.303: low end 1.97 - 2.26 < 0,
    # so the claim must fail; the probe below checks the interval with n = 5 instead.
    def holds5(ctx):
        from lrlab import claims

        return claims.paired_difference(
            [2.0, 3.0, 4.0, 5.0, 6.0], [1.0, 2.1, 2.9, 4.0, 5.0], statement="a above b"
        )

    add(
        Probe(
            "claims",
            "paired.holds",
            "paired_difference(a, a - ~1 over 5 seeds)",
            "ok",
            holds5,
            check=lambda c, ctx: None if c.holds and c.margin > 0 else f"{c}",
        )
    )
    del holds

    def log_to_folder(ctx):
        from lrlab import claims

        os.environ[claims.LOG_VARIABLE] = str(ctx.tmp)
        try:
            return claims.every_pair([2.0], [1.0], statement="s")
        finally:
            del os.environ[claims.LOG_VARIABLE]

    add(
        Probe(
            "claims",
            "log=folder",
            "LRLAB_CLAIMS_LOG=<a folder>, every_pair([2], [1])",
            "error",
            log_to_folder,
            (ValueError, OSError),
            (claims_log_mention := "LRLAB_CLAIMS_LOG",),
        )
    )
    del claims_log_mention
    return probes


# --------------------------------------------------------------------------- data


def copy_official(ctx: Context, classes=(0, 1, 2), name="gtsrb", test=False) -> Path:
    """A few class folders of data/gtsrb-tiny (official layout) in the probe's folder."""
    root = ctx.tmp / name
    for label in classes:
        shutil.copytree(
            TINY / "Final_Training" / "Images" / f"{label:05d}",
            root / "Final_Training" / "Images" / f"{label:05d}",
        )
    if test:
        shutil.copytree(TINY / "Final_Test", root / "Final_Test")
    return root


def copy_class_folders(ctx: Context, folders: dict, name="classes") -> Path:
    """``<root>/train/<folder>/`` holding the training images of a tiny class (no csv)."""
    root = ctx.tmp / name
    for folder, label in folders.items():
        target = root / "train" / folder
        target.mkdir(parents=True)
        for image in sorted((TINY / "Final_Training" / "Images" / f"{label:05d}").glob("*.ppm")):
            shutil.copyfile(image, target / image.name)
    return root


def png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def split_images(data):
    """The images of data.train and data.validation as sets of byte strings."""
    import numpy as np

    def images(dataset):
        found = []
        if dataset is None:
            return found
        for batch, _ in dataset:
            found += [np.asarray(image).tobytes() for image in batch]
        return found

    return images(data.train), images(data.validation)


def no_leak(expected_total):
    def check(data, ctx):
        train, validation = split_images(data)
        both = set(train) & set(validation)
        if both:
            return f"{len(both)} identical images in both train and validation"
        if len(train) + len(validation) != expected_total:
            return (
                f"{len(train)} train + {len(validation)} validation images, from "
                f"{expected_total} distinct files"
            )
        return None

    return check


ARCHIVE_NAME = "GTSRB-Training_fixed.zip"
PATCHED_FETCH = textwrap.dedent(
    """
    import sys
    import lrlab.data as data
    import lrlab.data.fetching as fetching
    fetching.TRAINING_ARCHIVE = data.Archive(name=sys.argv[1], url=sys.argv[2], md5=sys.argv[3])
    sys.exit(data.main(sys.argv[4:]))
    """
)


def fake_training_archive(ctx: Context, classes=(0, 1, 2)) -> Path:
    """A zip laid out like GTSRB's training archive (GTSRB/Training/<class>/), from tiny."""
    import zipfile

    path = ctx.tmp / "served" / ARCHIVE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for label in classes:
            folder = TINY / "Final_Training" / "Images" / f"{label:05d}"
            for file in sorted(folder.iterdir()):
                archive.write(file, f"GTSRB/Training/{label:05d}/{file.name}")
    return path


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def patched_fetch(ctx: Context, url: str, md5: str, *args, timeout=60) -> Cli:
    script = ctx.tmp / "patched_fetch.py"
    script.write_text(PATCHED_FETCH, encoding="utf-8")
    return run_command([str(script), ARCHIVE_NAME, url, md5, "fetch", *args], ctx.tmp, timeout)


class SlowServer:
    """A local HTTP server that sends one file, slowly while ``delay`` > 0."""

    def __init__(self, path: Path):
        import http.server

        body = path.read_bytes()
        owner = self
        self.delay = 0.05

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for start in range(0, len(body), 8192):
                        self.wfile.write(body[start : start + 8192])
                        self.wfile.flush()
                        time.sleep(owner.delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/{ARCHIVE_NAME}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def killed_fetch_then_rerun(sig):
    """Start a downloading fetch, send ``sig`` once bytes arrive, then run the fetch again."""

    def run(ctx):
        archive = fake_training_archive(ctx)
        md5 = md5_of(archive)
        server = SlowServer(archive)
        try:
            script = ctx.tmp / "patched_fetch.py"
            script.write_text(PATCHED_FETCH, encoding="utf-8")
            ctx.snapshot()
            child = subprocess.Popen(
                [PYTHON, str(script), ARCHIVE_NAME, server.url, md5, "fetch", "--dest", "gtsrb"],
                cwd=ctx.tmp,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                parts = [p for p in (ctx.tmp / "downloads").glob("*.part") if p.stat().st_size]
                if parts or child.poll() is not None:
                    break
                time.sleep(0.02)
            child.send_signal(sig)
            child.wait(timeout=30)
            interrupted = sorted(
                p.name
                for p in ctx.tmp.rglob("*")
                if _PARTIAL.search("/" + p.relative_to(ctx.tmp).as_posix())
            )
            server.delay = 0
            again = patched_fetch(ctx, server.url, md5, "--dest", "gtsrb")
        finally:
            server.close()
        again.out += f"\n(left by the killed fetch: {interrupted})"
        return again

    return run


def fetch_cli(*args, setup=None, timeout=60):
    """``python -m lrlab.data fetch ARGS`` in the probe's folder, after ``setup(ctx)``."""

    def run(ctx):
        if setup is not None:
            setup(ctx)
        ctx.snapshot()
        return run_command(["-m", "lrlab.data", "fetch", *args], ctx.tmp, timeout)

    return run


def complete_dest(name="gtsrb", images=60):
    def check(result, ctx):
        dest = ctx.tmp / name
        if not (dest / ".complete").is_file():
            return f"exit 0 but {name}/.complete is missing"
        from lrlab.data import list_images

        found = len(list_images(dest))
        if images is None:
            return None if found > 0 else f"{name} holds no training images"
        return None if found == images else f"{name} holds {found} training images, not {images}"

    return check


def not_marked_complete(name="gtsrb"):
    def then(result, ctx):
        if (ctx.tmp / name / ".complete").exists():
            return f"{name}/.complete was written for a broken source"
        return None

    return then


def data_probes() -> list[Probe]:
    probes: list[Probe] = []
    add = probes.append

    def load(folder_factory=copy_official, **kwargs):
        def run(ctx):
            from lrlab.data import load_gtsrb

            root = folder_factory(ctx)
            ctx.snapshot()
            return load_gtsrb(root, **kwargs)

        return run

    for label, kwargs, errors, mentions in [
        ("image_size=0", dict(image_size=0), (ValueError,), ("image_size", "0")),
        ("image_size=-1", dict(image_size=-1), (ValueError,), ("image_size", "-1")),
        ("image_size=2.5", dict(image_size=2.5), (TypeError, ValueError), ("image_size", "2.5")),
        ("image_size='32'", dict(image_size="32"), (TypeError, ValueError), ("image_size", "'32'")),
        ("image_size=True", dict(image_size=True), (TypeError, ValueError), ("image_size", "True")),
        ("batch_size=0", dict(batch_size=0), (ValueError,), ("batch_size", "0")),
        (
            "validation_split=1",
            dict(validation_split=1.0),
            (ValueError,),
            ("validation_split", "1.0"),
        ),
        (
            "validation_split=-0.1",
            dict(validation_split=-0.1),
            (ValueError,),
            ("validation_split", "-0.1"),
        ),
        (
            "validation_split=nan",
            dict(validation_split=float("nan")),
            (ValueError,),
            ("validation_split", "nan"),
        ),
        (
            "validation_split='0.2'",
            dict(validation_split="0.2"),
            (TypeError, ValueError),
            ("validation_split", "'0.2'"),
        ),
        ("seed=-1", dict(seed=-1), (ValueError,), ("seed", "-1")),
        ("seed=1.5", dict(seed=1.5), (TypeError, ValueError), ("seed", "1.5")),
        (
            "group_by_track='yes'",
            dict(group_by_track="yes"),
            (TypeError,),
            ("group_by_track", "'yes'"),
        ),
        ("crop_roi=class-folders", dict(crop_roi=True), (ValueError,), ("crop_roi",)),
    ]:
        factory = copy_official
        if label == "crop_roi=class-folders":
            factory = lambda ctx: copy_class_folders(ctx, {"0": 0, "1": 1})  # noqa: E731
        add(
            Probe(
                "data",
                f"load_gtsrb.{label}",
                f"load_gtsrb(<3 tiny classes>, {kwargs})",
                "error",
                load(factory, **kwargs),
                errors,
                mentions,
            )
        )

    def missing(ctx):
        from lrlab.data import load_gtsrb

        return load_gtsrb(ctx.tmp / "nowhere")

    add(
        Probe(
            "data",
            "load_gtsrb.missing-folder",
            "load_gtsrb('<tmp>/nowhere')",
            "error",
            missing,
            (FileNotFoundError, ValueError),
            ("nowhere",),
        )
    )

    def a_file(ctx):
        from lrlab.data import load_gtsrb

        (ctx.tmp / "afile.txt").write_text("x")
        return load_gtsrb(ctx.tmp / "afile.txt")

    add(
        Probe(
            "data",
            "load_gtsrb.file",
            "load_gtsrb('<tmp>/afile.txt', a file)",
            "error",
            a_file,
            (NotADirectoryError, ValueError),
            ("afile.txt",),
        )
    )
    add(
        Probe(
            "data",
            "load_gtsrb.data_dir=123",
            "load_gtsrb(123)",
            "error",
            lambda ctx: __import__("lrlab.data").data.load_gtsrb(123),
            (TypeError,),
            ("data_dir", "123"),
        )
    )
    add(
        Probe(
            "data",
            "load_gtsrb.good",
            "load_gtsrb(<3 tiny classes, 60 files>)",
            "ok",
            load(),
            check=no_leak(60),
        )
    )

    # odd folders
    def sixteen_bit(ctx):
        import numpy as np
        from PIL import Image

        from lrlab.data import load_arrays

        root = copy_class_folders(ctx, {"1": 1})
        folder = root / "train" / "0"
        folder.mkdir()
        for frame in range(4):
            image = Image.fromarray(np.full((40, 40), 32768, dtype=np.uint16))
            image.save(folder / f"00000_{frame:05d}.png")
        ctx.snapshot()
        x, y = load_arrays(root)
        return x[y == 0]

    def mid_grey(images, ctx):
        mean = float(images.mean())
        return None if 0.4 < mean < 0.6 else f"16-bit mid-grey (32768) decoded to mean {mean:.3f}"

    add(
        Probe(
            "data",
            "16-bit-png",
            "class folder 0 of 16-bit grey PNGs (value 32768 of 65535)",
            "error or ok",
            sixteen_bit,
            (ValueError,),
            ("png",),
            check=mid_grey,
        )
    )

    def duplicate_rows(ctx):
        from lrlab.data import load_gtsrb

        root = copy_official(ctx)
        csv_path = root / "Final_Training" / "Images" / "00000" / "GT-00000.csv"
        lines = csv_path.read_text(encoding="utf-8").splitlines()
        csv_path.write_text("\n".join([lines[0], *lines[1:], *lines[1:]]) + "\n", encoding="utf-8")
        ctx.snapshot()
        return load_gtsrb(root, validation_split=0.5, group_by_track=False)

    add(
        Probe(
            "data",
            "duplicate-csv-rows",
            "GT-00000.csv lists each of its 20 files twice; load_gtsrb(validation_split=0.5, "
            "group_by_track=False)",
            "error or ok",
            duplicate_rows,
            (ValueError,),
            ("GT-00000.csv",),
            check=no_leak(60),
        )
    )

    def one_and_00001(ctx):
        from lrlab.data import load_gtsrb

        root = copy_class_folders(ctx, {"1": 1, "00001": 1, "2": 2})
        ctx.snapshot()
        return load_gtsrb(root, validation_split=0.5, group_by_track=False)

    add(
        Probe(
            "data",
            "folders-1-and-00001",
            "train/1 and train/00001 (the same 20 images) beside train/2; validation_split=0.5",
            "error or ok",
            one_and_00001,
            (ValueError,),
            ("00001",),
            check=no_leak(40),
        )
    )

    def latin1(ctx):
        from lrlab.data import load_gtsrb

        root = copy_official(ctx)
        folder = root / "Final_Training" / "Images" / "00000"
        csv_path = folder / "GT-00000.csv"
        lines = csv_path.read_text(encoding="utf-8").splitlines()
        first = lines[1].split(";")
        renamed = first[0].replace(".ppm", "_\u00e9.ppm")
        (folder / first[0]).rename(folder / renamed)
        lines[1] = ";".join([renamed, *first[1:]])
        csv_path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
        ctx.snapshot()
        return load_gtsrb(root)

    add(
        Probe(
            "data",
            "latin-1-csv",
            "GT-00000.csv encoded latin-1 with an 'é' in a file name",
            "error or ok",
            latin1,
            (ValueError,),
            ("GT-00000.csv",),
            check=lambda d, c: None,
        )
    )

    def bomb(ctx):
        from lrlab.data import load_gtsrb

        root = copy_class_folders(ctx, {"0": 0, "1": 1})
        png_header_only(root / "train" / "0" / "00099_00000.png", 40000, 40000)
        ctx.snapshot()
        return load_gtsrb(root)

    add(
        Probe(
            "data",
            "decompression-bomb",
            "a PNG in train/0 whose header says 40000x40000",
            "error",
            bomb,
            (ValueError,),
            ("00099_00000.png",),
        )
    )

    def corrupt(ctx):
        from lrlab.data import load_gtsrb

        root = copy_class_folders(ctx, {"0": 0, "1": 1})
        image = sorted((root / "train" / "0").iterdir())[0]
        image.write_bytes(image.read_bytes()[:40])
        ctx.snapshot()
        return load_gtsrb(root)

    add(
        Probe(
            "data",
            "truncated-image",
            "the first image of train/0 cut to 40 bytes",
            "error",
            corrupt,
            (ValueError,),
            ("00000_00000.ppm",),
        )
    )

    def edit_csv(edit):
        def run(ctx):
            from lrlab.data import load_gtsrb

            root = copy_official(ctx)
            csv_path = root / "Final_Training" / "Images" / "00000" / "GT-00000.csv"
            lines = csv_path.read_text(encoding="utf-8").splitlines()
            csv_path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
            ctx.snapshot()
            return load_gtsrb(root)

        return run

    def field(lines, index, value):
        row = lines[1].split(";")
        row[index] = value
        return [lines[0], ";".join(row), *lines[2:]]

    for label, edit, mentions in [
        ("csv-header", lambda ls: ["Filename,Width,Height", *ls[1:]], ("GT-00000.csv", "header")),
        ("csv-classid-99", lambda ls: field(ls, 7, "99"), ("GT-00000.csv", "99")),
        ("csv-classid-1", lambda ls: field(ls, 7, "1"), ("GT-00000.csv", "1")),
        ("csv-roi-text", lambda ls: field(ls, 3, "x"), ("GT-00000.csv", "x")),
        ("csv-missing-file", lambda ls: field(ls, 0, "99999_00000.ppm"), ("99999_00000.ppm",)),
        ("csv-empty", lambda ls: [], ("GT-00000.csv",)),
        ("csv-header-only", lambda ls: ls[:1], ("00000",)),
    ]:
        add(
            Probe(
                "data",
                label,
                f"GT-00000.csv edited: {label}",
                "error",
                edit_csv(edit),
                (ValueError, FileNotFoundError),
                mentions,
            )
        )

    def folders(layout):
        def run(ctx):
            from lrlab.data import load_gtsrb

            root = ctx.tmp / "odd"
            root.mkdir()
            for relative in layout:
                path = root / relative
                if relative.endswith("/"):
                    path.mkdir(parents=True, exist_ok=True)
                else:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(
                        next((TINY / "Final_Training/Images/00000").glob("*.ppm")), path
                    )
            ctx.snapshot()
            return load_gtsrb(root)

        return run

    for label, layout, mentions in [
        ("empty-folder", [], ("odd",)),
        ("empty-train", ["train/"], ("train",)),
        ("empty-class-folder", ["train/0/00000_00000.ppm", "train/1/"], ("1",)),
        ("hidden-files-only", ["train/0/00000_00000.ppm", "train/1/.DS_Store"], ("1",)),
        ("class-43", ["train/0/00000_00000.ppm", "train/43/00000_00000.ppm"], ("43",)),
        ("class-abc", ["0/00000_00000.ppm", "abc/00000_00000.ppm"], ("abc",)),
    ]:
        add(
            Probe(
                "data",
                f"folders.{label}",
                f"load_gtsrb of a folder holding {layout}",
                "error",
                folders(layout),
                (ValueError, FileNotFoundError),
                mentions,
            )
        )
    add(
        Probe(
            "data",
            "list_images.split='val'",
            "list_images(<tiny copy>, split='val')",
            "error",
            lambda ctx: __import__("lrlab.data").data.list_images(copy_official(ctx), "val"),
            (ValueError,),
            ("'val'",),
        )
    )

    # python -m lrlab.data fetch
    def user_folder(ctx):
        copy_official(ctx)
        (ctx.tmp / "mine").mkdir()
        (ctx.tmp / "mine" / "notes.txt").write_text("my thesis notes")
        ctx.keep(ctx.tmp / "mine" / "notes.txt")

    def user_folder_moved(ctx):
        copy_official(ctx)
        (ctx.tmp / "mine").mkdir()
        (ctx.tmp / "mine" / "notes.txt").write_text("my thesis notes")

    def moved_aside(result, ctx):
        # --force on a folder lrlab did not write: the new data takes its place, and the
        # user's folder is moved, intact, to mine.replaced-<time>, which the output names.
        aside = sorted(ctx.tmp.glob("mine.replaced-*"))
        if len(aside) != 1:
            return "lost", f"expected one mine.replaced-* folder, found {[a.name for a in aside]}"
        notes = aside[0] / "notes.txt"
        if not notes.is_file() or notes.read_text() != "my thesis notes":
            return "lost", f"{notes.relative_to(ctx.tmp)} is missing or changed"
        if aside[0].name not in result.text:
            return "silent wrong", f"the output does not name {aside[0].name}"
        return complete_dest("mine", images=None)(result, ctx)

    def user_file(ctx):
        copy_official(ctx)
        (ctx.tmp / "notes.txt").write_text("my thesis notes")
        ctx.keep(ctx.tmp / "notes.txt")

    def source_inside(ctx):
        copy_official(ctx, name="proj/mydata")
        (ctx.tmp / "proj" / "todo.txt").write_text("keep me")
        ctx.keep(ctx.tmp / "proj" / "todo.txt")
        ctx.keep(
            ctx.tmp / "proj" / "mydata" / "Final_Training" / "Images" / "00000" / "GT-00000.csv"
        )

    add(
        Probe(
            "data",
            "fetch.dest=user-folder",
            "fetch --dest mine --source gtsrb, where mine/ holds the user's notes.txt",
            "error",
            fetch_cli("--dest", "mine", "--source", "gtsrb", setup=user_folder),
            check=cli_error("mine"),
        )
    )
    add(
        Probe(
            "data",
            "fetch.dest=user-folder--force",
            "fetch --dest mine --source gtsrb --force, mine/ holds the user's notes.txt (no "
            "lrlab marker)",
            "ok",
            fetch_cli("--dest", "mine", "--source", "gtsrb", "--force", setup=user_folder_moved),
            check=cli_ok(moved_aside),
        )
    )
    add(
        Probe(
            "data",
            "fetch.dest=user-file",
            "fetch --dest notes.txt --source gtsrb (a user file)",
            "error",
            fetch_cli("--dest", "notes.txt", "--source", "gtsrb", setup=user_file),
            check=cli_error("notes.txt"),
        )
    )
    add(
        Probe(
            "data",
            "fetch.dest=parent-of-source",
            "fetch --dest proj --source proj/mydata",
            "error",
            fetch_cli("--dest", "proj", "--source", "proj/mydata", setup=source_inside),
            check=cli_error("proj"),
        )
    )
    add(
        Probe(
            "data",
            "fetch.dest=inside-source",
            "fetch --dest gtsrb/copy --source gtsrb",
            "error",
            fetch_cli(
                "--dest",
                "gtsrb/copy",
                "--source",
                "gtsrb",
                setup=lambda ctx: (
                    copy_official(ctx),
                    ctx.keep(ctx.tmp / "gtsrb/Final_Training/Images/00000/GT-00000.csv"),
                ),
            ),
            check=cli_error("gtsrb"),
        )
    )
    add(
        Probe(
            "data",
            "fetch.good",
            "fetch --dest new --source gtsrb (3 tiny classes)",
            "ok",
            fetch_cli("--dest", "new", "--source", "gtsrb", setup=copy_official),
            check=cli_ok(complete_dest("new")),
        )
    )

    def fetched_before(ctx):
        copy_official(ctx)
        run_command(["-m", "lrlab.data", "fetch", "--dest", "new", "--source", "gtsrb"], ctx.tmp)

    add(
        Probe(
            "data",
            "fetch.again",
            "fetch --dest new --source gtsrb twice (no --force)",
            "ok",
            fetch_cli("--dest", "new", "--source", "gtsrb", setup=fetched_before),
            check=cli_ok(complete_dest("new")),
        )
    )
    add(
        Probe(
            "data",
            "fetch.force-over-own",
            "fetch --force over a folder lrlab fetched",
            "ok",
            fetch_cli("--dest", "new", "--source", "gtsrb", "--force", setup=fetched_before),
            check=cli_ok(complete_dest("new")),
        )
    )

    def broken_source(kind):
        def setup(ctx):
            root = copy_official(ctx, name="broken")
            folder = root / "Final_Training" / "Images" / "00001"
            image = sorted(folder.glob("*.ppm"))[0]
            if kind == "missing-image":
                image.unlink()
            else:
                image.write_bytes(image.read_bytes()[:40])

        return setup

    for kind in ("missing-image", "truncated-image"):
        add(
            Probe(
                "data",
                f"fetch.broken-source.{kind}",
                f"fetch --dest gtsrb --source broken (a {kind.replace('-', ' ')} in class 1)",
                "error",
                fetch_cli("--dest", "gtsrb", "--source", "broken", setup=broken_source(kind)),
                check=cli_error("00001", then=not_marked_complete()),
            )
        )
    add(
        Probe(
            "data",
            "fetch.source-missing",
            "fetch --dest gtsrb --source nowhere",
            "error",
            fetch_cli("--dest", "gtsrb", "--source", "nowhere"),
            check=cli_error("nowhere"),
        )
    )
    add(
        Probe(
            "data",
            "fetch.source+synthetic",
            "fetch --dest gtsrb --source x --synthetic",
            "error",
            fetch_cli("--dest", "gtsrb", "--source", "x", "--synthetic"),
            check=cli_error("--synthetic"),
        )
    )
    add(
        Probe(
            "data",
            "fetch.seed=-1",
            "fetch --dest gtsrb --synthetic --seed -1",
            "error",
            fetch_cli("--dest", "gtsrb", "--synthetic", "--seed", "-1"),
            check=cli_error("-1"),
        )
    )
    add(
        Probe(
            "data",
            "fetch.source=dest",
            "fetch --dest gtsrb --source gtsrb",
            "error",
            fetch_cli(
                "--dest",
                "gtsrb",
                "--source",
                "gtsrb",
                setup=lambda ctx: (
                    copy_official(ctx),
                    ctx.keep(ctx.tmp / "gtsrb/Final_Training/Images/00000/GT-00000.csv"),
                ),
            ),
            check=cli_error("gtsrb"),
        )
    )

    def stale_partial(ctx):
        copy_official(ctx)
        stale = ctx.tmp / ".new.0badc0de.partial"
        (stale / "Final_Training").mkdir(parents=True)
        (stale / "Final_Training" / "half.ppm").write_bytes(b"P6")

    add(
        Probe(
            "data",
            "fetch.stale-partial",
            "a .new.<id>.partial folder left by a killed fetch, then fetch --dest new --source "
            "gtsrb",
            "ok",
            fetch_cli("--dest", "new", "--source", "gtsrb", setup=stale_partial),
            check=cli_ok(complete_dest("new")),
        )
    )

    def stale_part(ctx):
        archive = fake_training_archive(ctx)
        downloads = ctx.tmp / "downloads"
        downloads.mkdir()
        (downloads / f".{ARCHIVE_NAME}.k1ll3d.part").write_bytes(b"\0" * (1 << 20))
        ctx.snapshot()
        return patched_fetch(ctx, archive.as_uri(), md5_of(archive), "--dest", "gtsrb")

    add(
        Probe(
            "data",
            "fetch.stale-part",
            "downloads/.<archive>.<id>.part (1 MiB) left by a killed download, then a fetch "
            "that downloads (archive served from a file:// URL)",
            "ok",
            stale_part,
            check=cli_ok(complete_dest("gtsrb", images=None)),
        )
    )

    def non_zip(ctx):
        served = ctx.tmp / "served" / ARCHIVE_NAME
        served.parent.mkdir()
        served.write_bytes(b"<html>not a zip: a captive portal page</html>" * 50)
        ctx.snapshot()
        return patched_fetch(ctx, served.as_uri(), md5_of(served), "--dest", "gtsrb")

    add(
        Probe(
            "data",
            "fetch.non-zip-archive",
            "the downloaded archive (right MD5) is an HTML page, not a zip",
            "error",
            non_zip,
            check=cli_error(ARCHIVE_NAME, then=not_marked_complete()),
        )
    )

    def upper_md5(ctx):
        from lrlab.data import download

        archive = fake_training_archive(ctx)
        target = ctx.tmp / "got" / ARCHIVE_NAME
        ctx.snapshot()
        return download(archive.as_uri(), target, md5_of(archive).upper()), archive

    def same_file(pair, ctx):
        target, archive = pair
        return None if Path(target).read_bytes() == archive.read_bytes() else "content differs"

    add(
        Probe(
            "data",
            "download.upper-case-md5",
            "download(file URL, target, MD5 in upper case)",
            "ok",
            upper_md5,
            check=same_file,
        )
    )

    def wrong_md5(ctx):
        from lrlab.data import download

        archive = fake_training_archive(ctx)
        ctx.snapshot()
        return download(archive.as_uri(), ctx.tmp / "got" / ARCHIVE_NAME, "0" * 32)

    add(
        Probe(
            "data",
            "download.wrong-md5",
            "download(file URL, target, a wrong MD5)",
            "error",
            wrong_md5,
            (RuntimeError,),
            ("0" * 32,),
        )
    )
    for sig in (signal.SIGTERM, signal.SIGKILL):
        add(
            Probe(
                "data",
                f"fetch.{sig.name}-during-download-then-rerun",
                f"{sig.name} to a fetch while it downloads (slow local server), then the same "
                "fetch again",
                "ok",
                killed_fetch_then_rerun(sig),
                check=cli_ok(complete_dest("gtsrb", images=None)),
                timeout=120,
            )
        )
    return probes


# --------------------------------------------------------------------------- train CLI


@contextlib.contextmanager
def nan_in_run(number: int):
    """The ``number``-th ``load_gtsrb`` call of ``lrlab.train`` (its ``number``-th run) gets
    training images multiplied by NaN, so that run's loss is NaN from its first batch."""
    from lrlab import train

    real = train.load_gtsrb
    calls = []

    def load(*args, **kwargs):
        data = real(*args, **kwargs)
        calls.append(1)
        if len(calls) == number:
            data.train = data.train.map(lambda x, y: (x * float("nan"), y))
        return data

    train.load_gtsrb = load
    try:
        yield
    finally:
        train.load_gtsrb = real


def train_cli(*args, setup=None, data="gtsrb", nan_run=None):
    """``lrlab.train.main([...])`` in process: exit code, output, and a traceback if it raised.

    ``nan_run``: inject NaN into that run's images (see ``nan_in_run``)."""

    def run(ctx):
        import logging

        from lrlab import train

        if data:
            copy_official(ctx, name=data)
        if setup is not None:
            setup(ctx)
        ctx.snapshot()
        for handler in list(logging.getLogger().handlers):
            logging.getLogger().removeHandler(handler)
        argv = [*(["-d", data] if data else []), "--output-dir", "out", "-e", "1", "--quiet", *args]
        out, err = io.StringIO(), io.StringIO()
        rc = 0
        poison = nan_in_run(nan_run) if nan_run else contextlib.nullcontext()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), poison:
            try:
                rc = train.main(argv)
            except SystemExit as stop:
                rc = stop.code if isinstance(stop.code, int) else 1
            except Exception:  # noqa: BLE001 - the command line would print this traceback
                traceback.print_exc(file=err)
                rc = 1
        return Cli(rc, out.getvalue(), err.getvalue())

    return run


def results_rows(ctx) -> list[dict]:
    import csv

    path = ctx.tmp / "out" / "results.csv"
    if not path.is_file():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def kept_finished_run(schedule):
    """After a failing invocation, ``results.csv`` has the run of ``schedule`` that finished."""

    def then(result, ctx):
        trained = (ctx.tmp / "out" / f"{schedule}_seed0_history.csv").exists()
        rows = [r["schedule"] for r in results_rows(ctx)]
        if trained and schedule not in rows:
            return "silent wrong", f"the finished {schedule} run is not in results.csv ({rows})"
        return None

    return then


def good_run(result, ctx):
    import stat

    rows = results_rows(ctx)
    if len(rows) != 1 or rows[0]["schedule"] != "constant":
        return f"results.csv rows {rows}"
    mask = os.umask(0)
    os.umask(mask)
    wanted = 0o666 & ~mask
    for name in ("results.csv", "constant_seed0_history.csv", "constant_seed0_metrics.png"):
        mode = stat.S_IMODE((ctx.tmp / "out" / name).stat().st_mode)
        if mode != wanted:
            return f"{name} has mode {oct(mode)}, not {oct(wanted)} (umask {oct(mask)})"
    if not math.isfinite(float(rows[0]["final_val_accuracy"])):
        return f"final_val_accuracy {rows[0]['final_val_accuracy']}"
    return None


def train_probes() -> list[Probe]:
    probes: list[Probe] = []
    add = probes.append
    nan_words = ("nan", "1e+30", "1e30", "diverge", "not finite")
    add(
        Probe(
            "train",
            "good",
            "--schedule constant -e 1 (3 tiny classes)",
            "ok",
            train_cli("--schedule", "constant"),
            check=cli_ok(good_run),
            timeout=120,
        )
    )
    for label, args, mentions in [
        ("lr=inf", ("--learning-rate", "inf"), ("inf",)),
        ("lr=1e30", ("--learning-rate", "1e30"), (nan_words,)),
        ("lr=nan", ("--learning-rate", "nan"), ("nan",)),
        ("lr=-1", ("--learning-rate", "-1"), ("-1",)),
        ("lr=0", ("--learning-rate", "0"), ("learning rate",)),
        ("lr=abc", ("--learning-rate", "abc"), ("abc",)),
        ("epochs=0", ("-e", "0"), ("epochs",)),
        ("epochs=1.5", ("-e", "1.5"), ("1.5",)),
        ("schedule=foo", ("--schedule", "foo"), ("foo",)),
        ("peak=foo=1", ("--peak", "foo=1"), ("foo",)),
        ("peak=one_cycle", ("--schedule", "one_cycle", "--peak", "one_cycle"), ("one_cycle",)),
        ("peak=one_cycle=inf", ("--schedule", "one_cycle", "--peak", "one_cycle=inf"), ("inf",)),
        ("peak=unused", ("--schedule", "constant", "--peak", "cosine=0.01"), ("cosine",)),
        ("peak-twice", ("--peak", "constant=0.1", "constant=0.2"), ("constant",)),
        ("seed=-1", ("--seed", "-1"), ("-1",)),
        ("seeds=0", ("--seeds", "0"), ("seeds",)),
        ("batch-size=0", ("--batch-size", "0"), ("batch size",)),
        ("strategy=foo", ("--strategy", "foo"), ("foo",)),
        ("devices=0", ("--strategy", "mirrored", "--devices", "0"), ("devices",)),
        ("devices=two", ("--strategy", "mirrored", "--devices", "two"), ("two",)),
        ("devices-without-strategy", ("--devices", "2"), ("--strategy",)),
        ("batch-not-multiple", ("--strategy", "mirrored", "--devices", "3", "--batch-size", "32"),
         ("32", "3")),
    ]:
        add(
            Probe(
                "train",
                label,
                f"python -m lrlab.train {' '.join(args)}",
                "error",
                train_cli(*args),
                check=cli_error(*mentions),
                timeout=120,
            )
        )
    add(
        Probe(
            "train",
            "data-dir=missing",
            "python -m lrlab.train -d nowhere",
            "error",
            train_cli("-d", "nowhere", data=None),
            check=cli_error("nowhere"),
        )
    )
    add(
        Probe(
            "train",
            "data-dir=file",
            "python -m lrlab.train -d afile.txt",
            "error",
            train_cli(
                "-d",
                "afile.txt",
                data=None,
                setup=lambda ctx: (ctx.tmp / "afile.txt").write_text("x"),
            ),
            check=cli_error("afile.txt"),
        )
    )
    add(
        Probe(
            "train",
            "data-dir=empty",
            "python -m lrlab.train -d empty (an empty folder)",
            "error",
            train_cli("-d", "empty", data=None, setup=lambda ctx: (ctx.tmp / "empty").mkdir()),
            check=cli_error("empty"),
        )
    )
    add(
        Probe(
            "train",
            "output-dir=file",
            "python -m lrlab.train --output-dir <a file>",
            "error",
            train_cli(
                "--output-dir",
                "taken.txt",
                setup=lambda ctx: (ctx.tmp / "taken.txt").write_text("mine"),
            ),
            check=cli_error("taken.txt"),
            timeout=120,
        )
    )
    add(
        Probe(
            "train",
            "one_cycle<4-steps",
            "--schedule constant one_cycle --batch-size 512 -e 1 (1 step per epoch)",
            "error",
            train_cli("--schedule", "constant", "one_cycle", "--batch-size", "512"),
            check=cli_error("one_cycle", then=kept_finished_run("constant")),
            timeout=120,
        )
    )
    add(
        Probe(
            "train",
            "nan-mid-invocation",
            "--schedule constant step --peak step=1e30 -e 1: the second run diverges",
            "error",
            train_cli("--schedule", "constant", "step", "--peak", "step=1e30"),
            check=cli_error(nan_words, then=kept_finished_run("constant")),
            timeout=180,
        )
    )
    for label, schedules, number, kept in [
        ("nan-in-second-run", ("constant", "step"), 2, "constant"),
        ("nan-in-only-run", ("cosine",), 1, None),
    ]:
        add(
            Probe(
                "train",
                label,
                f"--schedule {' '.join(schedules)} -e 1 with NaN images in run {number} "
                "(lrlab.train.load_gtsrb wrapped in process): a NaN loss must end that run with "
                "a message and a non-zero exit, and results.csv must not list it as finished",
                "error",
                train_cli("--schedule", *schedules, nan_run=number),
                check=cli_error(
                    ("nan", "NaN"),
                    schedules[number - 1],
                    then=nan_run_rows(schedules[number - 1], kept),
                ),
                timeout=180,
            )
        )
    def compare(**kwargs):
        def run(ctx):
            from lrlab import distributed

            copy_official(ctx, name="gtsrb")
            ctx.snapshot()
            return distributed.compare_with_single_device(ctx.tmp / "gtsrb", **kwargs)

        return run

    for label, kwargs, errors, mentions in [
        ("compare.devices=1", dict(devices=1), (ValueError,), ("devices", "1")),
        ("compare.devices=2.5", dict(devices=2.5), (TypeError, ValueError), ("2.5",)),
        ("compare.backend=torch", dict(backend="torch"), (ValueError,), ("torch",)),
        ("compare.batch=33", dict(global_batch=33), (ValueError,), ("33",)),
        ("compare.epochs=0", dict(epochs=0), (ValueError,), ("epochs",)),
        ("compare.lr=nan", dict(learning_rate=float("nan")), (ValueError,), ("nan",)),
        ("compare.optimizer=lion", dict(optimizer="lion"), (ValueError,), ("lion",)),
        ("compare.timeout=0", dict(timeout=0), (ValueError,), ("timeout",)),
    ]:
        add(Probe("train", label, f"distributed.compare_with_single_device({kwargs})", "error",
                  compare(**kwargs), errors=errors, mentions=mentions))

    return probes


def nan_run_rows(failed: str, kept: str | None):
    def then(result, ctx):
        rows = [r["schedule"] for r in results_rows(ctx)]
        if failed in rows:
            return f"results.csv lists the NaN run {failed} as finished ({rows})"
        if kept and kept not in rows:
            return f"the finished {kept} run is not in results.csv ({rows})"
        return None

    return then


if __name__ == "__main__":
    sys.exit(main())

"""Record the rates (and OneCycleLR momenta) of PyTorch's schedulers, for tests/test_schedules.py.

Run with a Python that has PyTorch (not a dependency of lrlab), from the repository root:

    python3 -m venv /work/side/torch
    /work/side/torch/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
    /work/side/torch/bin/python tools/reference_torch.py

It writes ``lrlab/reference/torch_schedulers.json`` (package data of lrlab, read through
``lrlab.reference.load_reference``; the file is replaced whole, never half-written): the
torch version and, for each case, the scheduler (and, for ``SequentialLR`` and
``ChainedScheduler``, its children), the optimizer's initial rate, the keyword arguments (an
``lr_lambda`` by its source, a key of ``LR_LAMBDAS``), and ``learning_rates[k]``, the rate
of optimizer step k.

Protocol, per case: one float64 parameter, ``SGD(lr=..., momentum=0.9)`` (or ``Adam`` where
the case says so), the scheduler built on it, then

    learning_rates = [scheduler.get_last_lr()[0]]          # step 0, right after construction
    for k in 1 .. n-1:
        optimizer.step(); scheduler.step()                  # optimizer first, as torch requires
        learning_rates.append(scheduler.get_last_lr()[0])   # the rate optimizer step k uses

so ``learning_rates[k]`` is what the k-th ``optimizer.step()`` (counted from 0) uses, which is
what a Keras schedule returns for ``optimizer.iterations == k``. For ``OneCycleLR`` the
momentum (SGD ``momentum``, or Adam ``betas[0]``) is recorded at the same points.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
from torch.optim import lr_scheduler

TARGET = Path(__file__).resolve().parents[1] / "lrlab" / "reference" / "torch_schedulers.json"

# name, scheduler, optimizer rate, keyword arguments, steps, optimizer kind
CASES = [
    ("onecycle_cos", "OneCycleLR", 0.1,
     {"max_lr": 0.1, "total_steps": 100, "anneal_strategy": "cos"}, 100, "SGD"),
    ("onecycle_linear", "OneCycleLR", 0.1,
     {"max_lr": 0.1, "total_steps": 100, "anneal_strategy": "linear"}, 100, "SGD"),
    ("onecycle_cos_three_phase", "OneCycleLR", 0.1,
     {"max_lr": 0.1, "total_steps": 100, "anneal_strategy": "cos", "three_phase": True},
     100, "SGD"),
    ("onecycle_linear_three_phase", "OneCycleLR", 0.1,
     {"max_lr": 0.1, "total_steps": 100, "anneal_strategy": "linear", "three_phase": True},
     100, "SGD"),
    # Phase ends that are not whole steps (0.25 * 37 - 1 = 8.25) and other factors.
    ("onecycle_uneven", "OneCycleLR", 0.05,
     {"max_lr": 0.05, "total_steps": 37, "pct_start": 0.25, "div_factor": 10.0,
      "final_div_factor": 100.0, "base_momentum": 0.8, "max_momentum": 0.9}, 37, "SGD"),
    ("onecycle_adam", "OneCycleLR", 0.01,
     {"max_lr": 0.01, "total_steps": 60, "anneal_strategy": "cos"}, 60, "Adam"),
    ("cyclic_triangular", "CyclicLR", 1e-3,
     {"base_lr": 1e-3, "max_lr": 1e-2, "step_size_up": 10, "mode": "triangular",
      "cycle_momentum": False}, 81, "SGD"),
    ("cyclic_triangular2", "CyclicLR", 1e-3,
     {"base_lr": 1e-3, "max_lr": 1e-2, "step_size_up": 10, "mode": "triangular2",
      "cycle_momentum": False}, 81, "SGD"),
    ("cyclic_exp_range", "CyclicLR", 1e-3,
     {"base_lr": 1e-3, "max_lr": 1e-2, "step_size_up": 10, "mode": "exp_range", "gamma": 0.98,
      "cycle_momentum": False}, 81, "SGD"),
    ("step_lr", "StepLR", 0.1, {"step_size": 7, "gamma": 0.5}, 40, "SGD"),
    ("multistep_lr", "MultiStepLR", 0.1, {"milestones": [10, 25, 32], "gamma": 0.3}, 45, "SGD"),
    ("exponential_lr", "ExponentialLR", 0.1, {"gamma": 0.95}, 60, "SGD"),
    ("cosine_annealing_lr", "CosineAnnealingLR", 0.1, {"T_max": 50, "eta_min": 1e-4}, 51, "SGD"),
    ("cosine_warm_restarts_t_mult2", "CosineAnnealingWarmRestarts", 0.1,
     {"T_0": 10, "T_mult": 2, "eta_min": 1e-4}, 71, "SGD"),
    ("cosine_warm_restarts_t_mult1", "CosineAnnealingWarmRestarts", 0.1,
     {"T_0": 15, "T_mult": 1, "eta_min": 1e-4}, 61, "SGD"),
    ("polynomial_lr", "PolynomialLR", 0.1, {"total_iters": 40, "power": 2.0}, 50, "SGD"),
    ("sequential_linear_cosine", "SequentialLR", 0.1,
     {"schedulers": [["LinearLR", {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 10}],
                     ["CosineAnnealingLR", {"T_max": 40, "eta_min": 1e-3}]],
      "milestones": [10]}, 51, "SGD"),
    ("constant_lr", "ConstantLR", 0.1, {"factor": 1 / 3, "total_iters": 5}, 12, "SGD"),
    ("linear_lr_decay", "LinearLR", 0.1,
     {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 30}, 40, "SGD"),
    ("chained_constant_exponential", "ChainedScheduler", 0.1,
     {"schedulers": [["ConstantLR", {"factor": 0.5, "total_iters": 4}],
                     ["ExponentialLR", {"gamma": 0.9}]]}, 30, "SGD"),
    ("lambda_lr_power", "LambdaLR", 0.1, {"lr_lambda": "lambda epoch: 0.95 ** epoch"}, 60, "SGD"),
    ("multiplicative_lr_constant", "MultiplicativeLR", 0.1,
     {"lr_lambda": "lambda epoch: 0.95"}, 60, "SGD"),
]

# A function cannot be stored in JSON: a case names its lr_lambda by the source written here.
LR_LAMBDAS = {
    "lambda epoch: 0.95 ** epoch": lambda epoch: 0.95**epoch,
    "lambda epoch: 0.95": lambda epoch: 0.95,
}


def make_optimizer(kind, learning_rate):
    parameter = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    if kind == "Adam":
        return torch.optim.Adam([parameter], lr=learning_rate)
    return torch.optim.SGD([parameter], lr=learning_rate, momentum=0.9)


def make_scheduler(name, optimizer, arguments):
    if name in ("SequentialLR", "ChainedScheduler"):
        children = [make_scheduler(child, optimizer, child_arguments)
                    for child, child_arguments in arguments["schedulers"]]
        if name == "ChainedScheduler":
            return lr_scheduler.ChainedScheduler(children)
        return lr_scheduler.SequentialLR(optimizer, children, milestones=arguments["milestones"])
    if "lr_lambda" in arguments:
        arguments = {**arguments, "lr_lambda": LR_LAMBDAS[arguments["lr_lambda"]]}
    return getattr(lr_scheduler, name)(optimizer, **arguments)


def momentum_of(optimizer):
    group = optimizer.param_groups[0]
    return float(group["betas"][0]) if "betas" in group else float(group["momentum"])


def record(name, scheduler_name, learning_rate, arguments, steps, kind):
    optimizer = make_optimizer(kind, learning_rate)
    scheduler = make_scheduler(scheduler_name, optimizer, arguments)
    learning_rates = [float(scheduler.get_last_lr()[0])]
    momenta = [momentum_of(optimizer)]
    for _ in range(1, steps):
        optimizer.step()
        scheduler.step()
        learning_rates.append(float(scheduler.get_last_lr()[0]))
        momenta.append(momentum_of(optimizer))
    case = {
        "name": name,
        "scheduler": scheduler_name,
        "optimizer": kind,
        "optimizer_learning_rate": learning_rate,
        "arguments": arguments,
        "learning_rates": learning_rates,
    }
    if scheduler_name == "OneCycleLR":
        case["momentum_attribute"] = "betas[0]" if kind == "Adam" else "momentum"
        case["momenta"] = momenta
    return case


def main():
    warnings.filterwarnings("ignore")  # SequentialLR's internal step(0) deprecation notice
    document = {
        "produced_by": "tools/reference_torch.py",
        "torch": torch.__version__,
        "protocol": (
            "learning_rates[0] = get_last_lr()[0] after construction; then for k = 1..n-1: "
            "optimizer.step(); scheduler.step(); learning_rates[k] = get_last_lr()[0]. "
            "learning_rates[k] is the rate of optimizer step k (Keras: optimizer.iterations == k). "
            "momenta: param_groups[0]['momentum'] (SGD) or ['betas'][0] (Adam) at the same points."
        ),
        "cases": [record(*case) for case in CASES],
    }
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    temporary = TARGET.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=1) + "\n")
    temporary.replace(TARGET)
    print(f"wrote {TARGET} ({len(document['cases'])} cases)")


if __name__ == "__main__":
    main()

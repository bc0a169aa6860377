"""The book's training experiments, by name: run one, keep its result as JSON, read it back in a chapter.

An experiment is a function ``fn(profile: str, device: torch.device) -> dict`` registered under a name::

    @register("vit-smooth-vs-sharpen")
    def smooth_vs_sharpen(profile, device):
        ...
        return {"accuracy": {...}, "metrics": [...]}

``run_experiment(name, profile, device, out)`` runs it and writes ``out/NAME-PROFILE.json`` (the
command ``oversmoothing experiment NAME --profile quick|full --out DIR`` does the same);
``load_result(name, profile, folder)`` reads the file back, ``load_committed_result`` does the same but gives
``None`` for a missing file (a chapter then trains instead), and ``describe_provenance`` says in one line what
produced a result. Experiments live in the modules of
:data:`EXPERIMENT_MODULES` (``experiments/vision.py``, ``experiments/language.py``), imported on first use;
the registry and the JSON input and output are :mod:`oversmoothing.experiments.registry`.
"""

from .registry import (
    EXPERIMENTS,
    EXPERIMENT_MODULES,
    Experiment,
    available_experiments,
    check_counts,
    describe_provenance,
    load_committed_result,
    load_result,
    register,
    result_path,
    run_experiment,
    to_jsonable,
)

__all__ = [
    "EXPERIMENTS",
    "EXPERIMENT_MODULES",
    "Experiment",
    "available_experiments",
    "check_counts",
    "describe_provenance",
    "load_committed_result",
    "load_result",
    "register",
    "result_path",
    "run_experiment",
    "to_jsonable",
]

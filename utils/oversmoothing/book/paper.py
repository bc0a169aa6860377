r"""What each version of the paper reports, and the book's measurements compared with each report separately.

The paper (Dovonon, Bronstein and Kusner, arXiv 2401.04301) exists in three versions that say different things
about its experiments (``SCIENCE.md`` §1 and §4): v1 (January 2024, the ICLR 2024 submission) reports that the
sharpening ("−") model beats a prior anti-oversmoothing method with more layers, fewer data and corrupted data; v2
(February 2024) reports that for image classification smoothing can improve generalisation and that for text
generation forcing either regime hurts; v3 (July 2024, TMLR 2025) gives no direction in its abstract.
:data:`PAPER_VERSIONS` is that table; :func:`vision_comparison` and :func:`language_comparison` turn the
experiments of chapters 9 and 10 into one row per report, with a verdict from an interval over seeds.

Every comparison pairs runs by seed and puts a Student-t interval on the per-seed differences
(:func:`oversmoothing.experiments.statistics.mean_interval`): *supported* when the interval lies above zero,
*contradicted* when it lies below, *inconclusive* otherwise. The paper's experiments are far larger than the
book's, so every verdict is about the small-scale analogue, never about the paper's own numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..experiments.language import summary_frame
from ..experiments.statistics import format_interval, mean_interval, verdict
from ..experiments.vision_tables import corruption_frame, fraction_frame, runs_frame

PAPER_VERSIONS = pd.DataFrame([
    {"version": "v1", "date": "9 Jan 2024", "source": "arXiv v1 abstract; ICLR 2024 reviews (OCx7dp58H1)",
     "experiments": "vision only: ViT-Ti with H forced to sharpen ('−') or smooth ('+'), CIFAR-10 and ImageNet",
     "reports": "the '−' model improves generalisation over a recent anti-oversmoothing method with more layers, "
                "fewer training data and corrupted data; the asymmetry of H falls from about 0.95 to 0.7 in "
                "training (figure 2)"},
    {"version": "v2", "date": "14 Feb 2024", "source": "arXiv v2 abstract; ICLR 2024 workshop R2-FM",
     "experiments": "forced-smoothing and forced-sharpening Transformers for image classification and text "
                    "generation",
     "reports": "for image classification, smoothing (instead of sharpening) can improve generalisation; for "
                "text generation, forcing either smoothing or sharpening hurts generalisation"},
    {"version": "v3 / TMLR", "date": "27 Jul 2024 (TMLR 2025)", "source": "arXiv v3 abstract; TMLR 2025",
     "experiments": "CIFAR-100 and ImageNet (DeiT recipe), The Pile (Cramming) then SuperGLUE; pretrained "
                    "models re-examined",
     "reports": "no direction for the trained models in the abstract; smoothing is not inevitable, even in "
                "pretrained models, and the sign of the layer-norm gains matters"},
])
"""One row per version of the paper: ``version``, ``date``, ``source``, ``experiments`` and ``reports``."""

PRIOR_FIXES: tuple[str, ...] = ("AttnScale", "FeatScale")
"""The prior anti-oversmoothing methods (Wang et al. 2022) that v1 most likely compares with."""


def paired_difference(table: pd.DataFrame, value: str, first: str, second: str, group: str = "label",
                      run: str = "seed") -> dict[str, Any]:
    """The interval over runs of ``value[first] - value[second]``, paired by ``run``.

    Args:
        table: one row per (group, run) with the column ``value``.
        first, second: the two groups compared.

    Returns:
        ``{"runs", "mean", "low", "high", "verdict"}`` (:func:`~oversmoothing.experiments.statistics.verdict` of
        "first > second").

    Raises:
        ValueError: a group is missing or no run has both.
    """
    wide = table.pivot_table(index=run, columns=group, values=value)
    missing = [name for name in (first, second) if name not in wide.columns]
    if missing:
        raise ValueError(f"table has no rows for {missing} (it has {sorted(map(str, wide.columns))})")
    differences = (wide[first] - wide[second]).dropna()
    if differences.empty:
        raise ValueError(f"no {run} has runs of both {first!r} and {second!r}")
    mean, low, high = mean_interval(differences)
    return {"runs": len(differences), "mean": mean, "low": low, "high": high, "verdict": verdict(low, high)}


def _row(version: str, source: str, report: str, measure: str, outcome: Mapping[str, Any]) -> dict[str, Any]:
    return {"version": version, "source": source, "report": report, "measured here": measure,
            "difference [95 % interval]": format_interval(outcome["mean"], outcome["low"], outcome["high"]),
            "seeds": outcome["runs"], "verdict": outcome["verdict"]}


def vision_comparison(result: Mapping[str, Any], dataset: str = "digits") -> pd.DataFrame:
    """The vision experiment (:func:`oversmoothing.experiments.vision.run_vision`) against each report.

    Rows: v2's smoothing-versus-sharpening accuracy; v1's sharpening model against each prior fix in
    :data:`PRIOR_FIXES` at the deepest swept depth, at the smallest training fraction (relative drop from its
    own full-data accuracy) and under corruption (relative drop from its own clean accuracy, averaged over
    kinds and severities); v3, which states no direction. Differences are oriented so that "supported" means
    the report's direction.
    """
    sizes = result["sizes"]
    runs = runs_frame(result, dataset)
    main = runs[(runs.depth == sizes["depth"]) & (runs.fraction == 1.0)]
    rows = [_row("v2", "v2 abstract", "image classification: smoothing can improve generalisation over sharpening",
                 f"clean test accuracy, smoothing − sharpening (depth {sizes['depth']})",
                 paired_difference(main, "test_accuracy", "smoothing", "sharpening"))]
    deepest = max(sizes["sweep_depths"], default=sizes["depth"])
    deep = runs[(runs.depth == deepest) & (runs.fraction == 1.0)]
    fractions = fraction_frame(result, dataset)
    smallest = min(sizes["fractions"], default=None)
    corrupted = corruption_frame(result, dataset)
    corrupted = corrupted[corrupted.severity > 0].groupby(["label", "seed"], as_index=False).relative_drop.mean()
    for prior in PRIOR_FIXES:
        if {prior, "sharpening"} <= set(deep.label):
            rows.append(_row("v1", "v1 abstract, reviews", f"more layers: the '−' model beats {prior}",
                             f"test accuracy at depth {deepest}, sharpening − {prior}",
                             paired_difference(deep, "test_accuracy", "sharpening", prior)))
        chosen = fractions[fractions.fraction == smallest]
        if smallest is not None and {prior, "sharpening"} <= set(chosen.label):
            rows.append(_row("v1", "v1 abstract, reviews", f"fewer data: the '−' model beats {prior}",
                             f"relative drop at fraction {smallest}, {prior} − sharpening",
                             paired_difference(chosen, "relative_drop", prior, "sharpening")))
        if {prior, "sharpening"} <= set(corrupted.label):
            rows.append(_row("v1", "v1 abstract, reviews", f"corrupted data: the '−' model beats {prior}",
                             f"relative drop under corruption, {prior} − sharpening",
                             paired_difference(corrupted, "relative_drop", prior, "sharpening")))
    rows.append({"version": "v3 / TMLR", "source": "v3 abstract", "report": "no direction stated for image models",
                 "measured here": "", "difference [95 % interval]": "", "seeds": 0, "verdict": "nothing to compare"})
    return pd.DataFrame(rows)


def language_comparison(result: Mapping[str, Any]) -> pd.DataFrame:
    """The language experiment (:func:`oversmoothing.experiments.language.run_language`) against each report:
    v2's "forcing either regime hurts text generation" (validation bits per character of each forced model minus
    the unconstrained one's, so that "supported" means the forced model is worse), and v3, whose language
    experiments (masked-language pretraining, SuperGLUE) the book does not run."""
    summary = summary_frame(result)
    rows = [_row("v2", "v2 abstract", f"text generation: forcing {regime} hurts",
                 f"validation bits per character, {regime} − unconstrained",
                 paired_difference(summary, "bits_per_char", regime, "baseline", group="regime"))
            for regime in ("smoothing", "sharpening")]
    rows.append({"version": "v3 / TMLR", "source": "v3 (k117 extraction)",
                 "report": "Cramming on The Pile, then SuperGLUE after fine-tuning", "measured here": "",
                 "difference [95 % interval]": "", "seeds": 0, "verdict": "not tested at this scale"})
    return pd.DataFrame(rows)


__all__ = ["PAPER_VERSIONS", "PRIOR_FIXES", "language_comparison", "paired_difference", "vision_comparison"]

"""The course plans of the instructors' guide: which chapters each lecture covers.

One source for the guide's syllabus tables, the slide decks (``make slides``) and the concept checks, so
that they cannot disagree. A chapter is named by its file stem in ``chapters/``; ``reading`` lists the
chapters that students read on their own for that lecture (no slides of their own in class).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lecture:
    """One class meeting: its number, title, the chapters taught, and the chapters left as reading."""

    number: int
    title: str
    chapters: tuple[str, ...]
    reading: tuple[str, ...] = ()


MODULE: tuple[Lecture, ...] = (
    Lecture(1, "What does oversmoothing mean?", ("01_measuring_smoothing",)),
    Lecture(2, "Attention alone smooths", ("02_attention_low_pass", "03_rank_collapse")),
    Lecture(3, "The residual layer as a linear system", ("04_linear_dynamical_system",)),
    Lecture(4, "Which eigenvalue wins", ("05_which_eigenvalue_wins",), reading=("06_three_kinds_of_convergence",)),
    Lecture(5, "LayerNorm and real models", ("07_layer_norm_sign", "08_pretrained_models")),
    Lecture(6, "Controlling the spectrum; what is settled",
            ("09_controlling_the_spectrum", "10_language", "11_settled_and_open")),
)
"""The six-lecture module (90 minutes each)."""

WORKSHOP: tuple[Lecture, ...] = (
    Lecture(1, "The one idea", ("01_measuring_smoothing", "04_linear_dynamical_system", "05_which_eigenvalue_wins")),
    Lecture(2, "Real models", ("07_layer_norm_sign", "08_pretrained_models", "11_settled_and_open")),
)
"""The two-session workshop (about two hours each, with laptops)."""


def lecture(number: int, plan: tuple[Lecture, ...] = MODULE) -> Lecture:
    """The lecture of ``plan`` with this number; ``ValueError`` for one that the plan does not have."""
    for entry in plan:
        if entry.number == number:
            return entry
    raise ValueError(f"number: no lecture {number!r} in this plan (it has {[entry.number for entry in plan]})")

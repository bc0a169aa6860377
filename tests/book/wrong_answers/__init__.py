"""Plausible wrong answers to the autograded exercises, one module per chapter (``ch01.py`` ...).

Each module defines ``WRONG = {exercise label: source}``: the source of a completed stub with one mistake a
student could make (a sign error, a transpose, the diagonal counted, a conjugate dropped). The check file of
the exercise must reject it: ``tests/book/test_grading.py``.
"""

"""oversmoothing.grading and ``oversmoothing grade``: names, input checks and clear errors (the check files
themselves and grading end to end: tests/book/test_grading.py)."""

from __future__ import annotations

import pytest

from oversmoothing.cli import main
from oversmoothing.grading import chapter_checks, chapter_of, check_label, check_name, check_path, grade_folder, run_check


def test_check_names_round_trip_and_reject_what_is_not_a_label():
    assert check_name("ex-measuring-naive-cosine") == "ex_measuring_naive_cosine"
    assert check_label("ex_measuring_naive_cosine") == "ex-measuring-naive-cosine"
    for bad in ("measuring-naive-cosine", "ex-Bad", "ex--x", "", 3):
        with pytest.raises(ValueError, match="label"):
            check_name(bad)


def test_a_chapter_must_be_a_file_stem_and_a_label_needs_a_check_file():
    assert chapter_checks("99_no_such_chapter") == {}
    with pytest.raises(ValueError, match="chapter"):
        chapter_checks("chapters/01_measuring_smoothing.md")
    with pytest.raises(ValueError, match="no check file"):
        check_path("ex-no-such-exercise")
    with pytest.raises(TypeError, match="env"):
        run_check("ex-measuring-naive-cosine", [("naive_mean_cosine", None)])


def test_a_missing_function_fails_its_cases_instead_of_raising():
    results = run_check("ex-measuring-naive-cosine", {})
    assert results and not any(result.passed for result in results)
    public = run_check("ex-measuring-naive-cosine", {}, hidden=False)
    assert 0 < len(public) < len(results)


def test_the_chapter_of_a_submission_comes_from_its_name():
    assert chapter_of("alice-01_measuring_smoothing.ipynb") == "01_measuring_smoothing"
    with pytest.raises(ValueError, match="--chapter"):
        chapter_of("alice-homework.ipynb")


def test_grade_folder_rejects_a_missing_or_empty_folder(tmp_path):
    with pytest.raises(ValueError, match="folder"):
        grade_folder(tmp_path / "missing", tmp_path / "grades.csv")
    with pytest.raises(ValueError, match="no .ipynb"):
        grade_folder(tmp_path, tmp_path / "grades.csv")


@pytest.mark.parametrize(("arguments", "message"), [
    (["grade", "{tmp}/missing"], "is not a folder"),
    (["grade", "{tmp}", "--chapter", "01"], "argument --chapter"),
    (["grade", "{tmp}", "--chapter", "99_no_such_chapter"], "no autograded exercises"),
    (["grade", "{tmp}", "--out", "{tmp}/grades.csv"], "--overwrite"),
])
def test_grade_command_gives_one_line_errors(arguments, message, tmp_path, capsys):
    (tmp_path / "grades.csv").write_text("earlier run\n")
    with pytest.raises(SystemExit) as exit_info:
        main([argument.format(tmp=tmp_path) for argument in arguments])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err.splitlines()[-1]

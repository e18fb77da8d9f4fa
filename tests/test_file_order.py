"""Test files run heaviest first: by their markers on a fresh clone, by their last run's seconds after."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]

# Named so that neither order below is the files' alphabetical one.
FILES = {
    "test_3_plain.py": "def test_a():\n    pass\n\ndef test_b():\n    pass\n",
    "test_2_heavy.py": "import pytest\n\n@pytest.mark.slow\ndef test_c():\n    pass\n",
    "test_1_jvm.py": "import pytest\n\n@pytest.mark.spark\ndef test_d():\n    pass\n",
}


def _files_in_order(pytester: pytest.Pytester) -> list[str]:
    result = pytester.runpytest("-p", "file_order", "--collect-only", "-q")
    lines = [line.split("::")[0] for line in result.outlines if "::" in line]
    return list(dict.fromkeys(lines))


def test_a_fresh_clone_runs_files_by_their_heaviest_marker(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmarkers =\n    slow: x\n    spark: x\n")
    for name, text in FILES.items():
        pytester.makepyfile(**{name.removesuffix(".py"): text})
    assert _files_in_order(pytester) == ["test_2_heavy.py", "test_1_jvm.py", "test_3_plain.py"]


def test_after_a_run_files_go_by_the_seconds_their_tests_took(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmarkers =\n    slow: x\n    spark: x\n")
    for name, text in FILES.items():
        pytester.makepyfile(**{name.removesuffix(".py"): text})
    cache = pytester.path / ".pytest_cache" / "v" / "lakehouse" / "test_seconds"
    cache.parent.mkdir(parents=True)
    # The plain file's two tests took longest; the slow one turned out quick.
    seconds = {
        "test_3_plain.py::test_a": 30.0,
        "test_3_plain.py::test_b": 30.0,
        "test_2_heavy.py::test_c": 2.0,
    }
    cache.write_text(json.dumps(seconds))
    # test_1_jvm.py never ran here: it keeps its estimate (30 s), under the plain file's 60 s.
    assert _files_in_order(pytester) == ["test_3_plain.py", "test_1_jvm.py", "test_2_heavy.py"]


def test_a_run_records_each_tests_seconds(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sleep="import time\n\ndef test_nap():\n    time.sleep(0.2)\n")
    pytester.runpytest("-p", "file_order").assert_outcomes(passed=1)
    cache = pytester.path / ".pytest_cache" / "v" / "lakehouse" / "test_seconds"
    assert json.loads(cache.read_text())["test_sleep.py::test_nap"] >= 0.2

"""kill -9 at random moments, 50 times: nothing committed is lost, nothing is corrupted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.killing import Killer

pytestmark = pytest.mark.slow
ROUNDS = 50


def test_kill_nine_at_random_moments_loses_nothing(tmp_path: Path, test_model_path: Path) -> None:
    killer = Killer(tmp_path / "profile", test_model_path, seed=1234)
    report = killer.run(ROUNDS)
    assert report.kills == ROUNDS
    assert set(report.by_action) == {"stream", "edit", "delete", "import", "index"}
    assert report.integrity_failures == 0, report.problems
    assert report.lost_messages == 0, report.problems
    # The kills landed while work was under way, not only before it started.
    assert report.mid_answer >= 5 and report.after_commits >= 10, report.as_dict()

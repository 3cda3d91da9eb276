"""converter.sweep.isolation.warm: the spare job process starts early, answers the preflight's
import checks, is handed to the next job, and is ended (by its own group id) when not needed."""

from __future__ import annotations

import copy

import pytest

from converter.sweep.isolation import warm


def _job() -> dict:
    from hydra import compose, initialize_config_dir

    from converter.config.composition import CONF_DIR, resolved_without_hydra
    from converter.config.schema import register_schema

    register_schema()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="test"):
        return resolved_without_hydra(compose("config", ["+model=classification", "tracking=off"]))


@pytest.fixture
def spare():
    warm.discard_spare()
    yield
    warm.discard_spare()


def test_the_spare_answers_the_import_checks_and_is_taken_by_the_next_job(spare) -> None:
    warm.prestart()
    first = warm._spare
    warm.prestart()
    assert warm._spare is first, "one spare at a time"
    good = _job()
    assert warm.check_in_spare([good]) is None
    bad = copy.deepcopy(good)
    bad["model"]["loader"]["_target_"] = "registry.no_such_module.Net"
    error = warm.check_in_spare([bad])
    assert (
        error["key"] == "model.loader._target_" and "'registry.no_such_module.Net' does not resolve" in error["problem"]
    )
    assert warm.take() is first and warm._spare is None
    first.stdin.close()  # no job for it: it exits on its own
    assert first.wait(timeout=60) == 0


def test_without_a_spare_there_is_nothing_to_ask_and_a_discarded_one_is_gone(spare) -> None:
    with pytest.raises(LookupError, match="no spare child"):
        warm.check_in_spare([{}])
    warm.prestart()
    proc = warm._spare
    warm.discard_spare()
    assert proc.poll() is not None and warm._spare is None
    fresh = warm.take(fresh=True)
    try:
        assert fresh.poll() is None
    finally:
        warm._discard(fresh)


def test_a_spare_that_does_not_answer_is_ended_and_the_launcher_checks_itself(spare, monkeypatch) -> None:
    import subprocess
    import sys

    def silent(env):  # a spare stuck in its imports (bounded: it would end by itself after 60 s)
        return subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(60)"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            process_group=0,
        )

    monkeypatch.setattr(warm, "_spawn", silent)
    warm.prestart()
    stuck = warm._spare
    with pytest.raises(LookupError, match="the spare did not answer within 1 s"):
        warm.check_in_spare([{}], timeout_s=1)
    assert stuck.poll() is not None and warm._spare is None, "ended by its group id, never taken by a job"

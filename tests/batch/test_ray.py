"""The Ray back-end on a local Ray (`ray.init(num_cpus=2)`, once for this module): the same
output as the local back-end, record for record, and resumable the same way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anfu.batch.backends.local import LocalBackend
from anfu.batch.runner import run_batch, side_paths
from anfu.inspection.scorecard import load_scorecard

from .conftest import write_jsonl

ray = pytest.importorskip("ray", reason="the anfu[scale] extra (ray[data]) is not installed")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_matches_local_record_for_record(local_ray, archive: Path, tmp_path: Path, analyzer) -> None:  # noqa: ANN001
    from anfu.batch.backends.ray import RayBackend

    src = write_jsonl(archive / "more.jsonl", 400, bad_every=41)
    local, remote = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    run_batch(archive, local, LocalBackend(analyzer, workers=1), chunk_size=30)
    stats = run_batch(archive, remote, RayBackend(analyzer, workers=2, window=4), chunk_size=30)
    assert remote.read_bytes() == local.read_bytes()
    assert side_paths(remote)["errors"].read_bytes() == side_paths(local)["errors"].read_bytes()
    assert stats.written == len(local.read_text(encoding="utf-8").splitlines()) > 400 - 400 // 41 - 1
    assert src.exists()


def test_ray_qa_and_resume(local_ray, tmp_path: Path, analyzer) -> None:  # noqa: ANN001
    from anfu.batch.backends.ray import RayBackend

    import anfu.batch.runner as runner

    src = write_jsonl(tmp_path / "in.jsonl", 120)
    card = load_scorecard()
    local, remote = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    run_batch(src, local, LocalBackend(analyzer, mode="qa", scorecard=card, workers=1), mode="qa", chunk_size=10)
    old, runner.CHECKPOINT_EVERY_S = runner.CHECKPOINT_EVERY_S, 0.0
    try:
        run_batch(src, remote, RayBackend(analyzer, mode="qa", scorecard=card, workers=2, window=3),
                  mode="qa", chunk_size=10, stop_after=5)
    finally:
        runner.CHECKPOINT_EVERY_S = old
    stats = run_batch(src, remote, RayBackend(analyzer, mode="qa", scorecard=card, workers=2, window=3),
                      mode="qa", chunk_size=10, resume=True)
    assert stats.resumed_from == 50
    assert remote.read_bytes() == local.read_bytes()
    assert json.loads(remote.read_text(encoding="utf-8").splitlines()[0])["scorecard"] == "default"

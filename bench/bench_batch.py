"""Batch throughput (`anfu batch analyze`): local workers 1 vs 2 and Ray workers 1 vs 2 in the
same run (the scaling ratios), the time for 1,000,000 utterances (extrapolated from the 2-worker
run, or measured with ANFU_BENCH_BATCH_FULL=1), and peak memory against input size (the
archive is streamed: memory should stay flat).

Input: customer utterances of our corpus (corpus/service/*.jsonl, ~5,500 distinct texts) cycled
with unique ids, so the Analyzer's turn memo (4,096 entries, LRU) rarely hits — close to a real
archive's variety. Each measurement records the machine's load average before and after it and
the number of CPUs, because other work on the machine changes every figure here.

Environment: ANFU_BENCH_BATCH_N (utterances per local run, default 60,000),
ANFU_BENCH_BATCH_RAY_N (default 20,000), ANFU_BENCH_BATCH_FULL=1 (measure 1,000,000 for real).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MILLION = 1_000_000
TARGET_1M_S = 150.0


def _texts() -> list[str]:
    texts = []
    for f in sorted((ROOT / "corpus" / "service").glob("*.jsonl")):
        for line in f.open(encoding="utf-8"):
            texts.append(json.loads(line)["text"])
    return texts


def write_input(path: Path, n: int, texts: list[str]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"u{i}", "text": texts[i % len(texts)]}, ensure_ascii=False) + "\n")
    return path


def _load() -> dict[str, float]:
    one, five, _ = os.getloadavg()
    return {"load1": round(one, 2), "load5": round(five, 2)}


def measure(backend: Any, src: Path, out: Path, n: int) -> dict[str, Any]:
    from anfu.batch.runner import run_batch

    import resource

    def cpu() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    before = _load()
    cpu_before = cpu()
    started = time.perf_counter()
    stats = run_batch(src, out, backend, chunk_size=1000)
    seconds = time.perf_counter() - started
    cpu_s = cpu() - cpu_before  # this process and its (reaped) pool workers; Ray's workers are not ours
    assert stats.written == n, (stats.written, n)
    return {"n": n, "seconds": round(seconds, 2), "per_s": round(n / seconds), "cpu_s": round(cpu_s, 2),
            "cpu_share": round(cpu_s / seconds, 2), "load_before": before, "load_after": _load()}


def peak_memory(src: Path, out: Path, workers: int) -> dict[str, Any]:
    """Peak RSS (MiB) of the main process and of the largest worker, in a fresh interpreter."""
    code = ("import resource, sys, anfu\n"
            "from anfu.batch.runner import run_batch\n"
            "from anfu.batch.backends.local import LocalBackend\n"
            "if __name__ == '__main__':\n"
            f"    run_batch({str(src)!r}, {str(out)!r}, LocalBackend(anfu.load(), workers={workers}), chunk_size=1000)\n"
            "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    script = out.with_suffix(".py")
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True, cwd=ROOT)
    main_kb, child_kb = (int(x) for x in done.stdout.split()[-2:])
    return {"main_mib": round(main_kb / 1024, 1), "largest_worker_mib": round(child_kb / 1024, 1),
            "input_mib": round(src.stat().st_size / 2**20, 1)}


def run() -> dict[str, Any]:
    import anfu
    from anfu.batch.backends.local import LocalBackend

    n = int(os.environ.get("ANFU_BENCH_BATCH_N", "60000"))
    ray_n = int(os.environ.get("ANFU_BENCH_BATCH_RAY_N", "20000"))
    texts = _texts()
    analyzer = anfu.load()
    result: dict[str, Any] = {"cpus": len(os.sched_getaffinity(0)), "distinct_texts": len(texts)}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = write_input(folder / "in.jsonl", n, texts)
        local = {f"workers_{w}": measure(LocalBackend(analyzer, workers=w), src, folder / f"local{w}.jsonl", n)
                 for w in (1, 2)}
        local["scaling_2_over_1"] = round(local["workers_2"]["per_s"] / local["workers_1"]["per_s"], 2)
        local["identical_output"] = (folder / "local1.jsonl").read_bytes() == (folder / "local2.jsonl").read_bytes()
        result["local"] = local
        two = local["workers_2"]
        # The wall time depends on what else runs on the machine; the CPU time does not: with
        # both cores free, 2 workers finish in about (CPU seconds / 2) plus the pool start.
        result["million"] = {"extrapolated_s": round(two["seconds"] * MILLION / n, 1),
                             "from": f"{n:,} utterances with 2 local workers",
                             "cpu_s_per_million": round(two["cpu_s"] * MILLION / n, 1),
                             "two_free_cores_estimate_s": round(two["cpu_s"] * MILLION / n / 2, 1)}
        if os.environ.get("ANFU_BENCH_BATCH_FULL") == "1":
            big = write_input(folder / "million.jsonl", MILLION, texts)
            result["million"]["measured"] = measure(LocalBackend(analyzer, workers=2), big, folder / "m.jsonl", MILLION)
            result["million"]["measured_s"] = result["million"]["measured"]["seconds"]
            big.unlink()
        try:
            import ray
        except ImportError:
            result["ray"] = {"skipped": "ray is not installed (pip install 'anfu[scale]')"}
        else:
            from anfu.batch.backends.ray import RayBackend

            t = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
            ray_src = write_input(folder / "ray.jsonl", ray_n, texts)
            ray_result: dict[str, Any] = {"init_s": round(time.perf_counter() - t, 1)}
            try:
                for w in (1, 2):
                    ray_result[f"workers_{w}"] = measure(RayBackend(analyzer, workers=w), ray_src,
                                                         folder / f"ray{w}.jsonl", ray_n)
            finally:
                ray.shutdown()
            ray_result["scaling_2_over_1"] = round(ray_result["workers_2"]["per_s"] / ray_result["workers_1"]["per_s"], 2)
            local_ref = folder / "ray_local.jsonl"
            measure(LocalBackend(analyzer, workers=1), ray_src, local_ref, ray_n)
            ray_result["identical_to_local"] = (folder / "ray2.jsonl").read_bytes() == local_ref.read_bytes()
            result["ray"] = ray_result
        small = write_input(folder / "small.jsonl", n // 5, texts)
        memory = {"input_1x": peak_memory(small, folder / "mem1.jsonl", 2),
                  "input_5x": peak_memory(src, folder / "mem5.jsonl", 2)}
        memory["main_growth_5x"] = round(memory["input_5x"]["main_mib"] / memory["input_1x"]["main_mib"], 2)
        memory["worker_growth_5x"] = round(memory["input_5x"]["largest_worker_mib"] /
                                           memory["input_1x"]["largest_worker_mib"], 2)
        result["memory"] = memory
    result["targets"] = {"million.extrapolated_s": ["<=", TARGET_1M_S], "local.scaling_2_over_1": [">=", 1.5],
                         "memory.main_growth_5x": ["<=", 1.2], "memory.worker_growth_5x": ["<=", 1.2]}
    if "measured_s" in result["million"]:
        result["targets"]["million.measured_s"] = ["<=", TARGET_1M_S]
    result["headline"] = ["local.workers_1.per_s", "local.workers_2.per_s", "local.workers_2.cpu_share",
                          "million.two_free_cores_estimate_s", "ray.workers_1.per_s",
                          "ray.workers_2.per_s", "ray.scaling_2_over_1", "ray.identical_to_local",
                          "local.identical_output", "cpus"]
    return result

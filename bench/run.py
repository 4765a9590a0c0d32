"""Run every `bench/bench_*.py` (each exposes `run() -> dict`), write one JSON report, print a table.

Usage: `python -m bench.run [NAME ...]` (default: all benchmarks). A benchmark's dict may carry
`targets`: {"dotted.metric": [">=" | "<=", value]} (a bare value is a lower bound, or an upper
bound for times: `*_ms`, `*_s`, latency); the table marks each as met or missed, and prints the
dotted metrics listed in `headline`.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import platform
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).parent
REPORT = BENCH_DIR / "results" / "report.json"


def discover() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules([str(BENCH_DIR)]) if info.name.startswith("bench_"))


def lookup(result: dict[str, Any], dotted: str) -> Any:
    value: Any = result
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def parse_target(metric: str, target: Any) -> tuple[str, float]:
    """`[op, goal]`, or a bare goal: an upper bound for times (`*_ms`, latency), else a lower bound."""
    if isinstance(target, (list, tuple)) and len(target) == 2 and target[0] in (">=", "<="):
        return target[0], float(target[1])
    timed = metric.endswith("_ms") or "latency" in metric or metric.endswith("_s")
    return ("<=" if timed else ">="), float(target)


def check_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for metric, target in result.get("targets", {}).items():
        op, goal = parse_target(metric, target)
        value = lookup(result, metric)
        met = value is not None and (value >= goal if op == ">=" else value <= goal)
        rows.append({"metric": metric, "value": value, "target": f"{op} {goal}", "met": met})
    return rows


def _fmt(value: Any) -> str:
    return "n/a" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))


def print_table(name: str, rows: list[dict[str, Any]], headline: list[tuple[str, Any]] = ()) -> None:
    width = max([len(r["metric"]) for r in rows] + [len(m) for m, _ in headline] + [10])
    print(f"\n== {name} ==")
    for r in rows:
        print(f"  {r['metric']:<{width}}  {_fmt(r['value']):>10}  target {r['target']:<10} {'met' if r['met'] else 'MISSED'}")
    for metric, value in headline:
        print(f"  {metric:<{width}}  {_fmt(value):>10}")


def main(argv: list[str] | None = None) -> int:
    chosen = argv if argv is not None else sys.argv[1:]
    names = chosen or discover()
    report: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "python": platform.python_version(),
                              "machine": platform.machine(), "benchmarks": {}}
    for name in names:
        module = importlib.import_module(f"bench.{name if name.startswith('bench_') else 'bench_' + name}")
        started = time.perf_counter()
        result = module.run()
        result["seconds"] = round(time.perf_counter() - started, 1)
        result["target_check"] = check_targets(result)
        report["benchmarks"][module.__name__.split(".")[-1]] = result
        headline = [(m, lookup(result, m)) for m in result.get("headline", [])]
        print_table(module.__name__, result["target_check"], headline)
        print(f"  ({result['seconds']} s)")
    if chosen and REPORT.exists():  # a partial run updates its benchmarks, keeps the others
        previous = json.loads(REPORT.read_text(encoding="utf-8")).get("benchmarks", {})
        report["benchmarks"] = {**previous, **report["benchmarks"]}
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nreport: {REPORT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

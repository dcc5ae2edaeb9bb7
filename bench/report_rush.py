"""The rush's tables in docs/performance.md: the app's rushes, every run's rate, and the floor."""

from __future__ import annotations

from bench.figures import DB_NAMES, _ceiling_rps, _f, _pct


def _rush_runs(results: dict) -> str:
    """'PostgreSQL free 77.0, 98.5, 103.1; ...' for the results that kept their runs."""
    parts = []
    for db_key, data in results["databases"].items():
        for key, label in (("rush_free", "free"), ("rush_card", "card"), ("rush_floor", "floor")):
            runs = (data.get(key) or {}).get("runs")
            if runs:
                parts.append(f"{DB_NAMES[db_key]} {label} " + ", ".join(_f(r["attempted_per_s"], 1) for r in runs))
    return "; ".join(parts)


def _rush_rows(results: dict, key: str) -> list[str]:
    rows = []
    ceiling = _ceiling_rps(results, 32)
    for db_key, data in results["databases"].items():
        rush = data.get(key)
        if not rush:
            continue
        check = rush.get("check", {})
        rows.append(
            f"| {DB_NAMES[db_key]} | {_f(rush['attempted_per_s'], 1)} | {_f(rush['successful_per_s'], 1)} "
            f"| {_f(rush['p50_ms'])} | {_f(rush['p95_ms'])} | {_f(rush['p99_ms'])} "
            f"| {', '.join(f'{n} x {s}' for s, n in sorted(rush['statuses'].items()))} | {rush['errors']} "
            f"| {check.get('overbooked', '-')} | {_pct(rush['attempted_per_s'] / ceiling)} |"
        )
    return rows


def _floor_lines(results: dict) -> list[str]:
    """The floor's table: the app's own statements without the ORM, rushed the same way."""
    ceiling = _ceiling_rps(results, 32)
    rows = []
    for db_key, data in results["databases"].items():
        floor, app = data.get("rush_floor"), data.get("rush_free")
        if not floor or not app:
            continue
        rows.append(
            f"| {DB_NAMES[db_key]} | {_f(floor['attempted_per_s'], 1)} | {_f(floor['p50_ms'])} | {_f(floor['p99_ms'])} "
            f"| {', '.join(f'{n} x {s}' for s, n in sorted(floor['statuses'].items()))} | {floor['errors']} "
            f"| {floor['check']['overbooked']} | {_pct(floor['attempted_per_s'] / ceiling)} "
            f"| {_pct(app['attempted_per_s'] / floor['attempted_per_s'])} |"
        )
    if not rows:
        return []
    return [
        "",
        "The floor: the same rush against `bench/floor.py`, a bare Flask view that sends the app's own statements "
        "for a free booking and a sold-out 409 (the same reads, the same rows written, the same locks and "
        "commits; `tests/infra/test_bench_floor.py` holds it to the app's count) on a bare DB-API connection, "
        "with no ORM and no application code. It is what this design's SQL costs on this machine under the "
        "same gunicorn settings: the most any implementation of these statements in Flask could reach.",
        "",
        "| database | attempted/s | p50 ms | p99 ms | answers | errors | overbooked | attempted / ceiling "
        "| the app / the floor |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
        *rows,
    ]

"""Formatting shared by the report's modules (bench/report.py, bench/report_rush.py)."""

from __future__ import annotations

DB_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


def _f(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %"


def _ceiling_rps(results: dict, connections: int) -> float:
    return results["ceiling"][f"c{connections}"]["rps"]

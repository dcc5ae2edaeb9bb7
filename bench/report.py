"""docs/performance.md and its chart from bench/results/latest.json (`python -m bench.report` rewrites them)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.figures import DB_NAMES, _ceiling_rps, _f, _pct
from bench.report_rush import _floor_lines, _rush_rows, _rush_runs

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
CHART = ROOT / "docs" / "performance-p99.svg"
RESULTS = ROOT / "bench" / "results" / "latest.json"
PAGES = {
    "catalogue": "Catalogue page `/`",
    "event": "Event page",
    "api_events": "`GET /api/v1/events`",
    "catalogue_signed_in": "Catalogue page `/`, signed in",
}
# Pages anyone may read without signing in (the 30 % target); the signed-in row is built on every request.
PUBLIC_PAGES = ("catalogue", "event", "api_events")
COLOURS = ["#1d70b8", "#d4351c", "#00703c", "#6f72af", "#f47738", "#912b88"]


def _in_repository(results: dict) -> list[str]:
    """The server's arguments with the configuration file as a path in the repository, wherever the run was."""
    conf = results.get("gunicorn_conf")
    return [conf if conf and arg.endswith("/" + conf) else arg for arg in results["gunicorn"]]


def chart(results: dict) -> str:
    """An SVG line chart: p99 latency (ms) against data size, one line per page and database, at c8."""
    scales = results["scales"]
    series = []
    for db_key, data in results["databases"].items():
        for page in PAGES:
            values = [data["reads"][s][f"{page}@c8"]["p99_ms"] for s in scales]
            series.append((f"{DB_NAMES[db_key]}: {page}", values))
    width, height, left, right, top, bottom = 720, 420, 70, 250, 40, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max(max(v) for _, v in series) * 1.15 or 1
    xs = [left + (plot_w * i / max(1, len(scales) - 1)) for i in range(len(scales))]

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / top_value

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="title desc" '
        'font-family="Arial, Helvetica, sans-serif" font-size="12">',
        '<title id="title">p99 latency against data size, concurrency 8</title>',
        '<desc id="desc">One line per page and database; data sizes '
        + ", ".join(scales)
        + " (100, 1,000 and 10,000 events). Figures are in the table in docs/performance.md.</desc>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left}" y="24" font-size="15" font-weight="bold">p99 latency (ms) against data size, '
        "concurrency 8</text>",
    ]
    for i in range(5):
        value = top_value * i / 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#dddddd"/>'
        )
        parts.append(f'<text x="{left - 8}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.0f}</text>')
    for x, scale in zip(xs, scales, strict=True):
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 20}" text-anchor="middle">{scale} data</text>')
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#0b0c0c"/>'
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#0b0c0c"/>'
    )
    for index, (name, values) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        dash = ' stroke-dasharray="6 4"' if name.startswith("SQLite") else ""
        points = " ".join(f"{x:.1f},{y(v):.1f}" for x, v in zip(xs, values, strict=True))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>')
        for x, v in zip(xs, values, strict=True):
            parts.append(f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}"/>')
        ly = top + 10 + index * 20
        parts.append(
            f'<line x1="{left + plot_w + 20}" x2="{left + plot_w + 44}" y1="{ly}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="2.5"{dash}/><text x="{left + plot_w + 50}" y="{ly + 4}">{name}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def markdown(results: dict) -> str:
    m = results["machine"]
    c8, c32 = _ceiling_rps(results, 8), _ceiling_rps(results, 32)
    after = results.get("ceiling_after", {})
    lines = [
        "# Performance",
        "",
        "Figures from the latest "
        + ("`make bench`" if "100x" in results["scales"] else "`BENCH_SCALE=quick make bench`")
        + f" (bench/run.py, {results['total_s'] / 60:.0f} minutes; raw numbers in `bench/results/latest.json`).",
        f"Run at {results['when']} on {m['cores']} cores ({m['cpu']}), {m['memory_mb']:,} MB memory, "
        f"Python {m['python']}.",
        "",
        f"Load average {m['load_before'][0]:.1f} before and {m.get('load_after', [0])[0]:.1f} just after the "
        f"run on {m['cores']} cores (the 'after' includes the benchmark's own load). These machines are shared "
        "with other work, so single figures, p99 above all, vary from run to run; the ratios to the ceiling "
        "(measured in the same run, under the same conditions) are the figures to compare across machines.",
        "",
        "## How to reproduce",
        "",
        "```sh",
        "make bench                     # everything, 1x to 100x data, under 15 minutes on 2 cores",
        "BENCH_SCALE=quick make bench   # 1x and 10x data only (no 1,000,000 attendees), a few minutes",
        "BENCH_SECONDS=10 make bench    # longer wrk runs (default 4 s each)",
        "python -m bench.report         # rewrite this page from bench/results/latest.json",
        "```",
        "",
        "`make bench` installs what it needs (the test extra, gunicorn, `wrk` from Debian), then for each "
        "database: starts it (PostgreSQL as the tests do, but with fsync on; SQLite in WAL mode in a temporary "
        "file), runs `flask --app wsgi db upgrade`, seeds the data with bulk inserts, serves `wsgi:app` with "
        f"`gunicorn {' '.join(_in_repository(results))}` and `BOOKINGS_ENV=production`, and measures from the same "
        f"machine over 127.0.0.1. Fixed URLs are measured with `{results['tool']}` "
        f"(`wrk -t2 -cN -d{results['seconds_per_run']}s --latency`); the rush uses a threaded Python client "
        "(each request carries its own token and body).",
        "",
        "## The framework ceiling",
        "",
        "A Flask hello-world (`bench/hello.py`) under the same gunicorn settings, measured in the same run. Every "
        "rate below is also given as a ratio to it.",
        "",
        "| concurrency | req/s | p50 ms | p99 ms | measured again at the end |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for c in (8, 32):
        run = results["ceiling"][f"c{c}"]
        again = after.get(f"c{c}", {}).get("rps")
        lines.append(f"| {c} | {_f(run['rps'])} | {_f(run['p50_ms'], 1)} | {_f(run['p99_ms'], 1)} | {_f(again)} |")
    lines += [
        "",
        "## Rush: 300 bookings at concurrency 32 for 100 places",
        "",
        "Free rate, one place per request, each from its own account and API token "
        "(`POST /api/v1/events/{id}/bookings`). Successful per second counts the 201s up to the last one; "
        "overbooked places are counted in the database afterwards (confirmed plus live held places against "
        "capacity). Each rush runs several times, on a fresh event each time: a row gives the median run by "
        "attempted/s (every run's rate is listed below the tables), and its errors and overbooked places are "
        "the totals over all runs. Target: only 201 and 409 answers, no overbooking, attempted bookings at "
        "20 % or more of the ceiling (c32).",
        "",
        "| database | attempted/s | successful/s | p50 ms | p95 ms | p99 ms | answers | errors | overbooked "
        "| attempted / ceiling |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
        *_rush_rows(results, "rush_free"),
    ]
    card = _rush_rows(results, "rush_card")
    if card:
        lines += [
            "",
            "Card payment (hold plus Checkout Session against the local Stripe-compatible server):",
            "",
            "| database | attempted/s | successful/s | p50 ms | p95 ms | p99 ms | answers | errors | overbooked "
            "| attempted / ceiling |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
            *card,
            "",
            "Checkout Sessions created (201 answers carrying a `checkout_url`): "
            + ", ".join(
                f"{DB_NAMES[k]} {d['rush_card'].get('checkout_urls', 0)}"
                for k, d in results["databases"].items()
                if d.get("rush_card")
            )
            + ".",
        ]
    else:
        lines += ["", "The card rush (hold plus Checkout Session against the fake Stripe) is not measured yet."]
    lines += _floor_lines(results)
    runs = _rush_runs(results)
    if runs:
        lines += ["", f"Attempted/s of every run: {runs}."]
    lines += [
        "",
        "For reference, pretix 2026.8 on the same kind of machine (4 gunicorn workers, same rush): on PostgreSQL "
        "about 14 attempted orders/s (7.7/s successful), p50 1.3 s, p95 4.1 s, no overbooking; on SQLite "
        '41-58 % of requests failed with HTTP 500 "database is locked".',
        "",
        "## Reads at 1x, 10x" + (" and 100x" if "100x" in results["scales"] else "") + " data",
        "",
        "1x is 100 events and 10,000 attendees, 10x 1,000 and 100,000, 100x 10,000 and 1,000,000 (each event: "
        "one session, one rate, 100 attendees in 50 bookings). The event page is one event in the middle of "
        "the data. The first three rows are requests without a session, as most readers and crawlers make "
        "them: they are answered from the public page cache (bookings/site/page_cache.py) while the page is "
        "unchanged. The signed-in row sends a session cookie, so every request builds the page from the "
        "database. Queries are those that build the page, counted with a SQLAlchemy `before_cursor_execute` "
        "listener around one in-process request with the cache off (an answer from the cache runs none, "
        "apart from one read of the change counter per process per second). Targets: p99 within 20 % from 1x "
        "to the largest data size with a constant number of queries; public reads at 30 % or more of the "
        "ceiling at the same concurrency. Each cell is the better (by p99) of two wrk runs "
        "(`BENCH_READ_REPEATS`); both runs are in the results file.",
        "",
        "| database | page | data | queries | c8 req/s | c8 p50 ms | c8 p99 ms | c8 / ceiling | c32 req/s "
        "| c32 p50 ms | c32 p99 ms | c32 / ceiling | errors |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for db_key, data in results["databases"].items():
        for page, label in PAGES.items():
            for scale in results["scales"]:
                a, b = data["reads"][scale][f"{page}@c8"], data["reads"][scale][f"{page}@c32"]
                lines.append(
                    f"| {DB_NAMES[db_key]} | {label} | {scale} | {data['queries'][scale][page]} "
                    f"| {_f(a['rps'])} | {_f(a['p50_ms'])} | {_f(a['p99_ms'])} | {_pct(a['rps'] / c8)} "
                    f"| {_f(b['rps'])} | {_f(b['p50_ms'])} | {_f(b['p99_ms'])} | {_pct(b['rps'] / c32)} "
                    f"| {a['errors'] + b['errors']} |"
                )
    first, last = results["scales"][0], results["scales"][-1]
    lines += ["", f"p99 growth from {first} to {last} data (target: within 20 %):", ""]
    for db_key, data in results["databases"].items():
        growth = []
        for page in PAGES:
            for c in (8, 32):
                p_first = data["reads"][first][f"{page}@c{c}"]["p99_ms"]
                p_last = data["reads"][last][f"{page}@c{c}"]["p99_ms"]
                change = f"{(p_last / p_first - 1) * 100:+.0f} %" if p_first else "n/a (no answer at 1x)"
                growth.append(f"{page} c{c} {change}")
        lines.append(f"- {DB_NAMES[db_key]}: " + ", ".join(growth))
    lines += [
        "",
        f"![p99 latency against data size]({CHART.name})",
        "",
        "## Personal calendar feed (200 bookings)",
        "",
        "| database | full fetch ms (median of 5, one client) | size | queries | full fetch c8 req/s | p99 ms "
        "| / ceiling | 304 path c8 req/s | p99 ms | / ceiling |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for db_key, data in results["databases"].items():
        f = data["feed"]
        full, nm = f["full@c8"], f["not_modified@c8"]
        lines.append(
            f"| {DB_NAMES[db_key]} | {_f(f['first_fetch_ms'])} | {f['bytes']:,} B | {f['queries']} "
            f"| {_f(full['rps'])} | {_f(full['p99_ms'])} | {_pct(full['rps'] / c8)} "
            f"| {_f(nm['rps'])} | {_f(nm['p99_ms'])} | {_pct(nm['rps'] / c8)} |"
        )
    lines += [
        "",
        "## The sweep: 10,000 expired holds and 1,000 waiting-list entries",
        "",
        "`bookings.sweep.run_sweep` in one process, over 100 full events each with 100 expired one-place "
        "holds and 10 people waiting (mail delivery is off, so the 1,000 offer emails stay queued).",
        "",
        "| database | seconds | what it did |",
        "| --- | ---: | --- |",
    ]
    for db_key, data in results["databases"].items():
        s = data["sweep"]
        did = ", ".join(f"{k} {v}" for k, v in s["counts"].items() if v)
        did += "; waiting-list entries afterwards: " + ", ".join(f"{n} {k}" for k, n in s.get("waitlist", {}).items())
        lines.append(f"| {DB_NAMES[db_key]} | {_f(s['seconds'], 1)} | {did} |")
    lines += [
        "",
        "## Memory per worker",
        "",
        "Peak resident set (`VmHWM` in `/proc/<pid>/status`) of each gunicorn worker at the end of the "
        "database's runs, and its resident set (`VmRSS`) at that moment. Target: under 100 MB per worker "
        "(pretix: about 290 MB).",
        "",
        "| server | workers' peak RSS (MB) | workers' RSS at the end (MB) |",
        "| --- | --- | --- |",
        "| hello world | "
        + ", ".join(_f(w["hwm_mb"]) for w in results["ceiling"]["memory"])
        + " | "
        + ", ".join(_f(w["rss_mb"]) for w in results["ceiling"]["memory"])
        + " |",
    ]
    for db_key, data in results["databases"].items():
        lines.append(
            f"| Bookings on {DB_NAMES[db_key]} | "
            + ", ".join(_f(w["hwm_mb"]) for w in data["memory"])
            + " | "
            + ", ".join(_f(w["rss_mb"]) for w in data["memory"])
            + " |"
        )
    lines += ["", "## Against the targets", "", *verdicts(results), ""]
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    return "\n".join(lines)


def verdicts(results: dict) -> list[str]:
    out = []
    c8, c32 = _ceiling_rps(results, 8), _ceiling_rps(results, 32)
    first, last = results["scales"][0], results["scales"][-1]
    for db_key, data in results["databases"].items():
        name = DB_NAMES[db_key]
        rush = data["rush_free"]
        ratio = rush["attempted_per_s"] / c32
        out.append(
            f"- {name} rush: {'met' if ratio >= 0.2 else 'NOT met'} for rate ({_pct(ratio)} of the ceiling, "
            f"target 20 %); errors {rush['errors']} ({'met' if rush['errors'] == 0 else 'NOT met'}); "
            f"overbooked {rush['check']['overbooked']} ({'met' if rush['check']['overbooked'] == 0 else 'NOT met'})."
        )
        floor = data.get("rush_floor")
        if floor:
            out.append(
                f"- {name} floor (the same statements without the ORM): "
                f"{_pct(floor['attempted_per_s'] / c32)} of the ceiling; the app reaches "
                f"{_pct(rush['attempted_per_s'] / floor['attempted_per_s'])} of the floor."
            )
        worst = min(
            data["reads"][s][f"{p}@c{c}"]["rps"] / (c8 if c == 8 else c32)
            for s in results["scales"]
            for p in PUBLIC_PAGES
            for c in (8, 32)
        )
        verdict = "met" if worst >= 0.3 else "NOT met"
        out.append(f"- {name} public reads: worst {_pct(worst)} of the ceiling ({verdict}, target 30 %).")
        flat = all(data["queries"][first][p] == data["queries"][last][p] for p in PAGES)
        growth = max(
            data["reads"][last][f"{p}@c{c}"]["p99_ms"] / data["reads"][first][f"{p}@c{c}"]["p99_ms"] - 1
            for p in PAGES
            for c in (8, 32)
            if data["reads"][first][f"{p}@c{c}"]["p99_ms"]
        )
        out.append(
            f"- {name} growth {first} to {last}: queries per request "
            f"{'constant' if flat else 'NOT constant'}; worst p99 change {growth * 100:+.0f} % "
            f"({'met' if growth <= 0.2 else 'NOT met'}, target within 20 %)."
        )
        peak = max(w["hwm_mb"] for w in data["memory"])
        verdict = "met" if peak < 100 else "NOT met"
        steady = max(w["rss_mb"] for w in data["memory"])
        out.append(
            f"- {name} memory: {peak:.0f} MB peak per worker ({verdict}, target < 100 MB); "
            f"{steady:.0f} MB resident at the end ({'under' if steady < 100 else 'over'} 100 MB)."
        )
    return out


def write(results: dict) -> None:
    CHART.write_text(chart(results))
    DOC.write_text(markdown(results))
    print(f"wrote {DOC.relative_to(ROOT)} and {CHART.relative_to(ROOT)}")


if __name__ == "__main__":
    write(json.loads(RESULTS.read_text()))
    sys.exit(0)

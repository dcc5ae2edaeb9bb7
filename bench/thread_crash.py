"""Reproduce the threaded-worker crash (bench/NOTES.md, "The blip explained"): `python -m bench.thread_crash`.

Seeds 1,000 events, serves the app with deploy/gunicorn.conf.py and the
given threads per worker, loads the signed-in catalogue at c32 in rounds
with PYTHONFAULTHANDLER=1, and reports the workers that died of SIGSEGV
(the fault handler's traces are kept in bench/results/server-*.log).
With 4 threads a worker died in most runs here; with 1 (the default) none did.

    python -m bench.thread_crash --threads 4 --database sqlite --rounds 6
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import load, seed
from bench.run import database, make_app, migrate, signed_in_cookie
from bench.server import RESULTS, app_env, gunicorn, log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    before = set(RESULTS.parent.glob("server-*.log"))
    with database(args.database) as url:
        migrate(url)
        app = make_app(url)
        with app.app_context():
            ((reader_id, _),) = seed.ensure_users(1, prefix="bench-reader")
            seed.add_events(1_000)
        cookie = signed_in_cookie(app, reader_id)
        env = app_env(
            url,
            {
                "PYTHONFAULTHANDLER": "1",
                "GUNICORN_THREADS": str(args.threads),
                "WEB_CONCURRENCY": str(args.workers),
            },
        )
        with gunicorn("wsgi:app", env) as (base, _pid):
            for round_ in range(args.rounds):
                result = load.wrk(base + "/", connections=32, seconds=args.seconds, headers={"Cookie": cookie})
                log(f"round {round_ + 1}: {result.rps:.0f} req/s, {result.errors} errors")
    kept = [p for p in set(RESULTS.parent.glob("server-*.log")) - before]
    crashes = sum(p.read_text(errors="replace").count("was sent SIGSEGV") for p in kept)
    log(f"{args.workers} workers x {args.threads} threads on {args.database}: {crashes} worker(s) died of SIGSEGV")
    for path in kept:
        log(f"server log kept: {path.relative_to(RESULTS.parents[2])}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())

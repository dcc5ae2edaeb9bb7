"""gunicorn settings for Bookings: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Everything a host may want to change comes from the environment (see deploy/env.example):
GUNICORN_BIND (default 127.0.0.1:8000), WEB_CONCURRENCY (worker processes, default 4 per core),
GUNICORN_THREADS (threads per worker, default 1).

Decisions:
- One thread per worker, four workers per core. With four threads per worker, workers died of
  SIGSEGV under concurrent signed-in page builds (about once a minute at 32 connections, on
  PostgreSQL and SQLite, with SQLAlchemy 2.0 and 2.1, with and without the malloc arena cap): gdb
  showed the garbage collector finding a freed object in a dict, heap corruption that only threads
  sharing a process can cause. With one thread per worker it did not happen, and the rush and the
  signed-in pages ran as fast (bench/NOTES.md). GUNICORN_THREADS above 1 brings the threads back.
  The same reproducer (`python -m bench.thread_crash`) crashed on CPython 3.11.7 and not on
  3.12.1: an interpreter fault, most likely; rerun it before raising threads on another Python.
- gthread workers even so: they keep idle keep-alive connections from nginx in an event loop
  instead of tying up the worker (a sync worker closes every connection after one request).
- preload_app = False: each worker imports the app and opens its own connection pool after the
  fork. A preloaded app would share the parent's pool with every child (SQLAlchemy's pool is not
  fork-safe), and `kill -HUP` would not pick up a new release's code.
- No access log: the app writes one JSON line per request itself, with its request id and no query
  strings (bookings/site/logging.py). gunicorn's own messages go to stderr as JSON too.
"""

import ctypes
import ctypes.util
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or 4 * multiprocessing.cpu_count())
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
preload_app = False
timeout = 30  # a worker silent this long is killed and replaced
graceful_timeout = 20  # on stop or HUP, requests in flight get this long to finish
keepalive = 75  # longer than nginx's upstream keepalive_timeout (60 s), so nginx closes idle connections first
# Recycle workers now and then so a slow leak cannot grow without bound. Not too often: a worker
# answering public pages from the page cache serves thousands of requests a second, and every
# recycle costs a cold start (imports, an empty page cache) with requests waiting on it; at 5,000 the
# benchmark saw every worker restart within a few seconds and p99 jump to 2-3 s (docs/performance.md).
max_requests = 100_000
max_requests_jitter = 10_000
accesslog = None
errorlog = "-"
capture_output = True
proc_name = "bookings"

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "bookings.site.logging.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": os.environ.get("LOG_LEVEL", "INFO"), "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}


M_ARENA_MAX = -8  # glibc's mallopt() parameter number


def post_fork(server, worker):
    """Two malloc arenas per worker instead of glibc's default of eight per core.

    glibc gives threads their own arenas and rarely returns their free memory to the system, so a
    gthread worker's resident set grows with its thread count; capping the arenas keeps it near what
    the app uses (measured in docs/performance.md). Same effect as MALLOC_ARENA_MAX=2 in the
    environment, but it cannot be forgotten in a unit file. A libc without mallopt is left alone.
    """
    libc_name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(libc_name).mallopt(M_ARENA_MAX, 2)
    except (OSError, AttributeError, TypeError):
        server.log.info("mallopt unavailable: malloc arenas left at the C library's default")

"""An API token's last use, noted without a write transaction of its own.

`last_used_at` is a hint for people ("last used 3 minutes ago"), written at
most once a minute per token. A request whose token is due to be noted does
not write it: it *owes* it to its process's backlog. The next write
transaction that any request of the process makes writes the whole backlog
first, in one statement (`core.db.at_each_write_transaction`); and a request
that finds the backlog older than API_TOKEN_USE_MAX_DELAY_SECONDS, or holding
BACKLOG_MAX_TOKENS tokens, writes it in a short transaction of its own. So a
booking pays one statement inside the transaction it makes anyway, and a read
or a refusal (a sold-out 409) pays nothing. A process that dies loses at most
that many seconds of hints. There is one backlog per database.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, update

from bookings.accounts.models import ApiToken
from bookings.accounts.services.api_tokens import TOKEN_LAST_USED_RESOLUTION
from bookings.core.db import at_each_write_transaction, transactional
from bookings.extensions import db

BACKLOG_MAX_TOKENS = 500


class Backlog:
    """Token uses this process owes one database: {token id: latest use}."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._uses: dict[int, datetime] = {}
        self._since: float | None = None

    def owe(self, uses: dict[int, datetime]) -> None:
        with self._lock:
            for token_id, at in uses.items():
                if token_id not in self._uses or at > self._uses[token_id]:
                    self._uses[token_id] = at
            if self._uses and self._since is None:
                self._since = time.monotonic()

    def take(self) -> dict[int, datetime]:
        with self._lock:
            uses, self._uses, self._since = self._uses, {}, None
        return uses

    def is_due(self, max_delay_seconds: float) -> bool:
        with self._lock:
            if self._since is None:
                return False
            return len(self._uses) >= BACKLOG_MAX_TOKENS or time.monotonic() - self._since >= max_delay_seconds


_backlogs: dict[str, Backlog] = {}
_backlogs_lock = threading.Lock()


def _database_key() -> str:
    return db.session.get_bind().url.render_as_string(hide_password=False)


def backlog() -> Backlog:
    """This process's backlog for the current app's database."""
    key = _database_key()
    with _backlogs_lock:
        return _backlogs.setdefault(key, Backlog())


def _forget_after_fork() -> None:
    _backlogs.clear()  # a forked child owes nothing of its parent's


os.register_at_fork(after_in_child=_forget_after_fork)

_TABLE = ApiToken.__table__
# Table-level, so a list of parameters is a plain executemany (not the ORM's bulk update by primary key).
_NOTE_USE = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("token_id"),
        _TABLE.c.last_used_at.is_(None) | (_TABLE.c.last_used_at <= bindparam("stale_before")),
    )
    .values(last_used_at=bindparam("used_at"))
)


def owe_api_token_use(token_id: int, now: datetime) -> None:
    """Note that a token was used at `now`, with the next write transaction (see the module docstring)."""
    backlog().owe({token_id: now})


def _write_backlog() -> Callable[[], None] | None:
    """The write hook: write every owed use in the transaction that is starting; on rollback, owe them again."""
    if not _backlogs:
        return None
    owed = backlog()
    uses = owed.take()
    if not uses:
        return None
    db.session.execute(
        _NOTE_USE,
        [
            {"token_id": token_id, "used_at": at, "stale_before": at - TOKEN_LAST_USED_RESOLUTION}
            for token_id, at in sorted(uses.items())  # the same order everywhere: no deadlock between writers
        ],
    )
    return lambda: owed.owe(uses)


at_each_write_transaction(_write_backlog)


def token_uses_due(max_delay_seconds: float) -> bool:
    return backlog().is_due(max_delay_seconds)


@transactional(durable=False)  # uses lost in a crash harm nothing
def write_token_uses() -> None:
    """Write the backlog now, in a transaction of its own (the write hook does the writing)."""

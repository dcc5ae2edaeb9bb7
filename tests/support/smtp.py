"""An SMTP sink for tests: aiosmtpd on 127.0.0.1, collecting every message it accepts.

    sink = SmtpSink().start()      # a free port, chosen once and kept across restarts
    ... deliver mail to sink.host:sink.port ...
    sink.wait_for(lambda m: m["To"] == "ada@example.org")
    sink.stop(); sink.start()      # "the server is down, then back" on the same port

A message is stored before the server answers 250, so once an SMTP client has
returned from sending, the message is already in `sink.messages`; `wait_for`
is for mail sent by another process (a live server, a worker).
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.ports import free_port


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        self.sink._store(ReceivedMessage(envelope.mail_from, tuple(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class SmtpSink:
    """An in-process SMTP server that keeps what it receives (in memory, until `clear`)."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.port = free_port()  # aiosmtpd refuses port=0; keep one port so restarts need no reconfiguration
        self._received: list[ReceivedMessage] = []
        self._changed = threading.Condition()
        self._controller: Controller | None = None

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> SmtpSink:
        if self._controller is None:
            controller = Controller(_Handler(self), hostname=self.host, port=self.port)
            controller.start()  # returns once the server answers
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            controller, self._controller = self._controller, None
            controller.stop()

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def is_running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- what arrived -------------------------------------------------------

    def _store(self, received: ReceivedMessage) -> None:
        with self._changed:
            self._received.append(received)
            self._changed.notify_all()

    @property
    def received(self) -> list[ReceivedMessage]:
        with self._changed:
            return list(self._received)

    @property
    def messages(self) -> list[EmailMessage]:
        """Parsed messages in arrival order."""
        return [r.message for r in self.received]

    def clear(self) -> None:
        with self._changed:
            self._received.clear()

    def wait_for(
        self, predicate: Callable[[EmailMessage], bool] = lambda _m: True, *, count: int = 1, timeout: float = 10.0
    ) -> list[EmailMessage]:
        """Wait until at least `count` messages match `predicate`; return the matches.

        The timeout only bounds the wait (a message that never comes fails the
        test with a list of what did arrive); nothing asserts how long it took.
        """

        def matches() -> list[EmailMessage]:
            return [r.message for r in self._received if predicate(r.message)]

        with self._changed:
            if self._changed.wait_for(lambda: len(matches()) >= count, timeout=timeout):
                return matches()
            seen = [f"{m['To']}: {m['Subject']}" for m in (r.message for r in self._received)]
        raise TimeoutError(f"expected {count} matching message(s) within {timeout}s; received {seen or 'nothing'}")


def body_text(message: EmailMessage) -> str:
    """The plain-text body of a message (its text/plain part)."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""

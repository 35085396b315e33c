"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping every message it accepts."""

from __future__ import annotations

import asyncio
import socket
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """What the server received, plus addresses it refuses for good (550) or for now (451), messages it
    finds too large (552 after the data), and addresses whose message makes it hang up mid-conversation."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[list[str], list[str]]] = []  # (recipients, MAIL FROM options) per message
        self.refuse: set[str] = set()
        self.defer: set[str] = set()
        self.too_large: set[str] = set()
        self.hang_up: set[str] = set()
        self.delay = 0.0  # seconds to think before accepting each message, to stretch a delivery run

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        if address in self.defer:
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hang_up & set(envelope.rcpt_tos):
            server.transport.close()  # the line drops before the answer: the sender cannot know
            return "421 4.4.2 Connection dropped"
        if self.too_large & set(envelope.rcpt_tos):
            return "552 5.3.4 Message size exceeds fixed limit"
        self.messages.append(self.parse(envelope))
        self.envelopes.append((list(envelope.rcpt_tos), list(envelope.mail_options)))
        return "250 Message accepted for delivery"

    @staticmethod
    def parse(envelope) -> EmailMessage:
        """With SMTPUTF8 the headers are raw UTF-8, which the byte parser would not read as text."""
        if envelope.smtp_utf8:
            return message_from_string(envelope.content.decode("utf-8"), policy=policy.default)
        return message_from_bytes(envelope.content, policy=policy.default)

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if address in message["To"]]

    def message_ids(self) -> list[str]:
        return [message["Message-ID"] for message in self.messages]


class MailServer:
    """Start, stop and start again on the same port: stopping it is an SMTP outage."""

    def __init__(self, *, smtputf8: bool = False, size_limit: int | None = None) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller: Controller | None = None
        # What the server offers in its EHLO answer: SMTPUTF8, and SIZE (aiosmtpd's default is 32 MiB).
        self.options = {"enable_SMTPUTF8": smtputf8, **({"data_size_limit": size_limit} if size_limit else {})}

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def serve_and_count(port: int) -> None:
    """Run a counting SMTP server in its own process until SIGTERM, then print what it received.
    Benchmarks use it so the server does not share a Python interpreter with the sender."""
    import signal
    import threading

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()
    print(len(mailbox.messages), len(set(mailbox.message_ids())), flush=True)


if __name__ == "__main__":
    import sys

    serve_and_count(int(sys.argv[1]))

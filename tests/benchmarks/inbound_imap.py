"""IMAP polling throughput: append N replies to a private dovecot, then fetch them all with fetch_new.

    python tests/benchmarks/inbound_imap.py [--messages 1000] [--limit 500] [--processed Processed]

Needs Debian's dovecot-imapd and root (the same private server as the tests' `imap_server` fixture).
Prints the append rate and the rate at which fetch_new fetches, hands over and marks messages. The
store here only keeps the bytes: it measures the IMAP door alone, before the pipeline is plugged in.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=500, help="messages per poll (fetch_new's limit)")
    parser.add_argument("--processed", default=None, help="move stored messages to this folder instead of flagging")
    parser.add_argument("--body", type=int, default=2000, help="bytes of text in each message's body")
    args = parser.parse_args()

    from inbound.imap import fetch_new
    from tests.imapserver import ImapServer, message

    received: list[bytes] = []
    server = ImapServer()
    server.start()
    try:
        started = time.perf_counter()
        server.append_many(message(n, body="x" * args.body) for n in range(args.messages))
        append_seconds = time.perf_counter() - started

        url = server.url_for(processed=args.processed) if args.processed else server.url
        polls = stored = 0
        started = time.perf_counter()
        while True:
            result = fetch_new(url=url, store=received.append, limit=args.limit)
            polls += 1
            stored += result.stored
            if result.fetched == 0:
                break
        fetch_seconds = time.perf_counter() - started
        left = len(server.messages()) if args.processed else sum(1 for m in server.messages() if not m.flags)
    finally:
        server.stop()

    print(f"messages   {args.messages} of about {len(received[0]) if received else 0} bytes, "
          f"{'moved to ' + args.processed if args.processed else 'flagged'}")
    print(f"append     {args.messages / append_seconds:8.0f} messages/s  ({append_seconds:.2f} s)")
    print(f"fetch_new  {stored / fetch_seconds:8.0f} messages/s  ({fetch_seconds:.2f} s over {polls} polls, "
          f"{stored} stored, {len(received)} handed over, {left} left unprocessed)")


if __name__ == "__main__":
    main()

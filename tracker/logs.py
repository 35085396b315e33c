"""Structured logs: one line of key=value pairs per record, easy to grep and to ship as they are."""

from __future__ import annotations

import logging

# Attributes every LogRecord has; anything else was passed in `extra` and belongs on the line.
STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = {"at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                  "logger": record.name, "msg": record.getMessage()}
        fields.update((key, value) for key, value in record.__dict__.items()
                      if key not in STANDARD and not key.startswith("_"))
        line = " ".join(f"{key}={_quote(value)}" for key, value in fields.items() if value is not None)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _quote(value: object) -> str:
    text = str(value)
    if not text or any(character in text for character in ' ="\n'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text

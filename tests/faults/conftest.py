"""Fault tests: each breaks a real service on purpose and prints the figures it measured."""

from __future__ import annotations

import pytest

FIGURES: list[str] = []


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if "tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def figures(request):
    """Lines a fault test reports; printed together at the end of the run."""
    lines: list[str] = []
    yield lines
    FIGURES.extend(f"{request.node.name}: {line}" for line in lines)


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES:
        terminalreporter.section("fault figures")
        for line in FIGURES:
            terminalreporter.write_line(line)

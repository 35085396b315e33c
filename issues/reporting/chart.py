"""A small server-rendered line chart (SVG): the share of clock cycles met per day. No JavaScript, no
library: the template draws what this module measures out, and each point carries its numbers in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import formats
from django.utils.translation import gettext as _

from issues.reporting.compliance import Share, TrendDay

WIDTH, HEIGHT = 1000, 190
LEFT, RIGHT, TOP, BOTTOM = 40, 24, 10, 26


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    segments: list[str]  # "x,y x,y …" runs of consecutive days that had cycles
    points: list[Point]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: float
    bottom: float
    series: list[Series]
    x_labels: list[tuple[float, str]]
    y_labels: list[tuple[float, str]]


def _x(index: int, count: int) -> float:
    return round(LEFT + (WIDTH - LEFT - RIGHT) * index / max(count - 1, 1), 1)


def _y(percent: float) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (100 - percent) / 100, 1)


def _day(day: date) -> str:
    return formats.date_format(day, "n/j")


def _series(key: str, label: str, days: list[date], shares: list[Share]) -> Series:
    points, segments, run = [], [], []
    for index, (day, share) in enumerate(zip(days, shares, strict=True)):
        if share.percent is None:
            if run:
                segments.append(" ".join(run))
            run = []
            continue
        title = _("%(day)s · %(clock)s: %(percent)d %% met (%(met)d of %(total)d)") % {
            "day": _day(day), "clock": label, "percent": share.percent, "met": share.met, "total": share.total}
        point = Point(_x(index, len(days)), _y(share.percent), title)
        points.append(point)
        run.append(f"{point.x},{point.y}")
    if run:
        segments.append(" ".join(run))
    return Series(key, label, segments, points)


def trend_chart(trend: list[TrendDay]) -> Chart:
    days = [point.day for point in trend]
    ticks = sorted(range(len(days) - 1, -1, -7))  # weekly, ending today
    return Chart(
        width=WIDTH, height=HEIGHT, left=LEFT, right=WIDTH - RIGHT, bottom=HEIGHT - BOTTOM,
        series=[
            _series("acknowledge", _("Acknowledged in time"), days, [point.acknowledge for point in trend]),
            _series("update", _("Updated in time"), days, [point.update for point in trend]),
        ],
        x_labels=[(_x(index, len(days)), _day(days[index])) for index in ticks],
        y_labels=[(_y(percent), f"{percent} %") for percent in (0, 50, 100)],
    )

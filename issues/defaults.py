"""The default promise of each severity (see the design's SLA section).

Red and orange count calendar time. Blue and green count working time: one working day (9 h) to
acknowledge and one working week (45 h) between updates on a Monday-Friday 09:00-18:00 calendar,
or 1 day / 7 days around the clock where no business calendar applies.
"""

from datetime import time, timedelta

WORKING_DAY_AND_WEEK = {
    "acknowledge_within": timedelta(hours=9),
    "update_every": timedelta(hours=45),
    "business_time": True,
    "fallback_acknowledge_within": timedelta(days=1),
    "fallback_update_every": timedelta(days=7),
}
DEFAULT_POLICIES = {
    "red": {"acknowledge_within": timedelta(hours=1), "update_every": timedelta(days=1)},
    "orange": {"acknowledge_within": timedelta(hours=4), "update_every": timedelta(days=2)},
    "blue": WORKING_DAY_AND_WEEK,
    "green": WORKING_DAY_AND_WEEK,
}


def create_default_policies(policy_model) -> None:
    """Create the missing policies; existing ones, possibly edited by an admin, stay as they are."""
    for severity, values in DEFAULT_POLICIES.items():
        # The base policy (no tier); an early migration's model has no tiers at all.
        base = {"tier": None} if any(field.name == "tier" for field in policy_model._meta.get_fields()) else {}
        policy_model.objects.get_or_create(severity=severity, **base, defaults={"warn_at": 0.75, **values})


DEFAULT_CALENDAR = "Seoul office, Mon-Fri 09:00-18:00"


def create_default_calendar(calendar_model) -> None:
    """The working week the default business-time windows are written for (9 h a day, 45 h a week)."""
    nine, six = time(9), time(18)
    weekdays = {f"{day}_{edge}": hour for day in ("mon", "tue", "wed", "thu", "fri")
                for edge, hour in (("opens", nine), ("closes", six))}
    calendar_model.objects.get_or_create(name=DEFAULT_CALENDAR,
                                         defaults={"time_zone": "Asia/Seoul", "holiday_country": "KR", **weekdays})

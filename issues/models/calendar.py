"""Business calendars: when a team works, for SLA policies that count business time."""

from __future__ import annotations

import zoneinfo
from datetime import date, time

import holidays
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from issues.calendars import WorkingCalendar

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(zone)s” is not a time zone, e.g. Asia/Seoul."), params={"zone": value})


def validate_holiday_country(value: str) -> None:
    if value and value not in holidays.list_supported_countries():
        raise ValidationError(_("No public holidays are known for “%(code)s”; use a two-letter code such as KR."),
                              params={"code": value})


def hours_field(label: str) -> models.TimeField:
    return models.TimeField(label, null=True, blank=True)


class BusinessCalendar(models.Model):
    """Working hours per weekday in one time zone, public holidays of one country, extra closed days."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Seoul", validators=[validate_time_zone])
    holiday_country = models.CharField(
        _("public holidays of"), max_length=3, blank=True, default="KR", validators=[validate_holiday_country],
        help_text=_("Two-letter country code (KR includes Seollal and Chuseok). Empty: no public holidays."),
    )
    mon_opens, mon_closes = hours_field(_("Monday opens")), hours_field(_("Monday closes"))
    tue_opens, tue_closes = hours_field(_("Tuesday opens")), hours_field(_("Tuesday closes"))
    wed_opens, wed_closes = hours_field(_("Wednesday opens")), hours_field(_("Wednesday closes"))
    thu_opens, thu_closes = hours_field(_("Thursday opens")), hours_field(_("Thursday closes"))
    fri_opens, fri_closes = hours_field(_("Friday opens")), hours_field(_("Friday closes"))
    sat_opens, sat_closes = hours_field(_("Saturday opens")), hours_field(_("Saturday closes"))
    sun_opens, sun_closes = hours_field(_("Sunday opens")), hours_field(_("Sunday closes"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        for day in WEEKDAYS:
            opens, closes = getattr(self, f"{day}_opens"), getattr(self, f"{day}_closes")
            if (opens is None) != (closes is None):
                errors[f"{day}_closes"] = _("Give both the opening and the closing time, or neither (closed).")
            elif opens is not None and opens >= closes:
                errors[f"{day}_closes"] = _("Closing must come after opening.")
        if not errors and not self.weekly_hours():
            errors["mon_opens"] = _("A calendar needs at least one working day.")
        if errors:
            raise ValidationError(errors)

    def weekly_hours(self) -> dict[int, tuple[time, time]]:
        hours = {}
        for number, day in enumerate(WEEKDAYS):
            opens, closes = getattr(self, f"{day}_opens"), getattr(self, f"{day}_closes")
            if opens is not None and closes is not None and opens < closes:
                hours[number] = (opens, closes)
        return hours

    def working_calendar(self, closed_days: set[date] | None = None) -> WorkingCalendar:
        """The pure calendar the clocks count on. Pass closed_days when already loaded (one query saved)."""
        if closed_days is None:
            closed_days = set(self.closed_days.values_list("date", flat=True))
        country = holidays.country_holidays(self.holiday_country) if self.holiday_country else {}
        return WorkingCalendar(zone=zoneinfo.ZoneInfo(self.time_zone), hours=self.weekly_hours(),
                               is_closed=lambda day: day in closed_days or day in country)


class ClosedDay(models.Model):
    """A day the team does not work beyond public holidays: a company holiday, an office move."""

    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("business calendar"), on_delete=models.CASCADE,
                                 related_name="closed_days")
    date = models.DateField(_("date"))
    name = models.CharField(_("reason"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="closed_day_once")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class Closure(models.Model):
    """A run of CLOSURE_MIN_DAYS or more days without working hours on a calendar (weekends, public holidays
    and closed days together), announced once to the owners and the customers it touches (issues.closures).
    The row is the announcement's name: a second run finds it and announces nothing."""

    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("business calendar"), on_delete=models.CASCADE,
                                 related_name="closures")

    first_day = models.DateField(_("first closed day"))
    last_day = models.DateField(_("last closed day"))
    announced_at = models.DateTimeField(_("announced"))

    class Meta:
        ordering = ["first_day"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [models.UniqueConstraint(fields=["calendar", "first_day"], name="closure_announced_once")]

    def __str__(self) -> str:
        return f"{self.first_day} – {self.last_day}"

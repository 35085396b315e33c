"""The compliance of each team, day by day: what the dashboard reads instead of a year of timeline.

Written only by ``issues.reporting.rollups``, in the same transaction as the change it counts (a cycle that
ends, a breach recorded or cleared, a severity changed, an action undone), and recounted from the timeline
when what the days were counted on changes (``ComplianceBasis``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from issues.models.choices import Clock, Severity
from issues.models.people import Team


class ComplianceDay(models.Model):
    """What happened to one team's clock cycles on one local day (the team's zone), per clock and severity.

    Met = ``ended`` − ``cleared``: a cycle that ended with its breach cleared ended, but not in time. Missed =
    ``missed``: the breaches recorded that day (a cycle counts as missed on the day it breached, even while it
    still runs). ``ended`` and ``cleared`` count under the issue's severity, as the timeline recount does: a
    severity change moves the issue's history with it; a breach keeps the severity it breached at.

    A row is a change's contribution (negative when a change is taken back or moves history away): a day's
    figures are the sum of its rows. A change only ever inserts, so two changes never wait on one row; a
    reader merges a team's rows into one per day, clock and severity when they pile up."""

    # No index of its own: the (team, day) index below serves every read.
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="+",
                             db_index=False)
    day = models.DateField(_("day"))
    clock = models.CharField(_("clock"), max_length=12, choices=Clock.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    ended = models.IntegerField(_("cycles ended"), default=0)
    cleared = models.IntegerField(_("ended with a breach"), default=0)
    missed = models.IntegerField(_("breached"), default=0)

    class Meta:
        ordering = ("team", "day", "clock", "severity")
        verbose_name = _("compliance day")
        verbose_name_plural = _("compliance days")
        # The dashboard reads one team's last 90 days: a few hundred rows once merged.
        indexes = (models.Index(fields=["team", "day"], name="compliance_team_day"),)

    def __str__(self) -> str:
        return f"{self.team_id} {self.day} {self.clock} {self.severity}"


class ComplianceBasis(models.Model):
    """What a team's days were counted on: the zone their days begin in and the customers whose issues they
    count. When either changes (a new calendar or zone, a customer moving in or out), the team's days are
    recounted from the timeline before they are read again."""

    team = models.OneToOneField(Team, verbose_name=_("team"), on_delete=models.CASCADE, primary_key=True,
                                related_name="+")
    zone = models.CharField(_("time zone"), max_length=64)
    customers = models.CharField(_("customers"), max_length=64, help_text=_("A digest of the team's customers."))
    counted_at = models.DateTimeField(_("recounted"))

    class Meta:
        verbose_name = _("compliance basis")
        verbose_name_plural = _("compliance bases")

    def __str__(self) -> str:
        return f"{self.team_id} {self.zone}"

"""Morning repeats: a breach is not told once and then forgotten. Each working morning while a clock stays
breached, whoever must act on the issue (the owner, or who stands in: ``recipients.Reach.responsible``) and the
lead's part hear once more — in their digest when one goes to them that morning (its line says "still breached
since …, day N"), otherwise in a breach reminder email. Never both, and never twice a day.

Beat's digest task calls ``send_mornings``: the digests and the reminders are decided together, in one
transaction. A person's morning is their digest's (``digests.mornings_of``): no reminder on a weekend or a
holiday of their team's calendar. The day a breach's notice went out counts as that day's reminder. It stops the
day the breach is cleared (a human public update, the acknowledgement, the resolution).

Once by construction: a reminder email's dedupe key names the breach, the person and their local day; a
reminder folded into a digest is that day's digest (its key names the person and the day), and a person whose
digest of the day is queued gets no reminder email that day. ``Breach.repeats`` counts the mornings a breach
was repeated, with one ``BREACH_REPEATED`` line per issue and morning on the timeline.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from issues import ladder
from issues.clocks import ClockSetups
from issues.models import Breach, EventKind, IssueEvent, Profile
from issues.reporting.counts import display_name
from issues.scan import breach_notice_holds
from notifications import digests, emails, recipients
from notifications.models import EmailKind, OutboundEmail
from notifications.outbox import Email, enqueue
from notifications.recipients import Told

# The breach's issue is still open (resolving clears its breaches too; this keeps the rule in the query).
UNRESOLVED_ISSUE = Q(issue__resolved_at=None)


@dataclass(frozen=True)
class Reminder:
    """One breach to repeat to one person this morning."""

    breach: Breach
    told: Told
    found: recipients.Reach
    day: date
    number: int  # which day of the breach this is: the day its notice went out is day 1

    def key(self) -> str:
        return f"repeat:{self.breach.pk}:{self.told.user.pk}:{self.day.isoformat()}"

    def line(self) -> dict:
        """What the digest says of it: the digest's own line, marked (``digests.item``'s shape)."""
        issue = self.breach.issue
        return {"id": issue.pk, "reference": issue.reference, "title": issue.title[:120],
                "customer": issue.customer.name, "severity": issue.severity, "state": "breached",
                "due": self.breach.due_at.isoformat(), "owner": display_name(issue.owner) if issue.owner else "",
                "since": emails.iso(self.breach.breached_at), "day": self.number}


@dataclass
class MorningReport:
    digests: int = 0
    folded: int = 0
    reminders: int = 0


def send_mornings(*, now: datetime | None = None) -> MorningReport:
    """Queue the digests due now with the reminders of breaches still open folded in, and a reminder email to
    whoever gets no digest this morning."""
    now = now or timezone.now()
    report = MorningReport()
    with transaction.atomic():
        planned = digests.digests_due(now)
        due = reminders_due(now)
        with_digest = {person.pk for person, _, _ in planned}
        folded = [reminder for pk in with_digest for reminder in due.get(pk, [])]
        separate = [reminder for pk, mine in due.items() if pk not in with_digest for reminder in mine]
        report.digests = len(enqueue([fold(email, due.get(person.pk, [])) for person, _, email in planned], now=now))
        report.folded = len(folded)
        report.reminders = len(emails.queue_staff_emails([reminder_email(each) for each in separate], now=now))
        count_mornings(folded + separate, now=now)
    return report


def reminders_due(now: datetime) -> dict[int, list[Reminder]]:
    """Per person whose morning it is: the breaches still open to remind them of, not yet told today (by a
    reminder email, or by a digest already queued this morning)."""
    breaches = list(Breach.objects.filter(UNRESOLVED_ISSUE, cleared_at=None)
                    .select_related("issue__customer__team", "issue__owner").order_by("pk"))
    if not breaches:
        return {}
    issues = list({breach.issue_id: breach.issue for breach in breaches}.values())
    found = recipients.reach(issues, at=now)
    told = {breach.pk: _each_once(found[breach.issue_id].responsible() + found[breach.issue_id].lead_part())
            for breach in breaches}
    people = list({person.user.pk: person.user for each in told.values() for person in each}.values())
    mornings = digests.mornings_of(people, now)
    if not mornings:
        return {}
    noticed = noticed_at(breaches, ClockSetups(issues))
    due = defaultdict(list)
    for breach in breaches:
        for person in told[breach.pk]:
            if person.user.pk not in mornings or not person.user.email:
                continue
            today = mornings[person.user.pk][0]
            if number := ladder.breach_day(noticed[breach.pk], today.day, today.zone):
                due[person.user.pk].append(Reminder(breach, person, found[breach.issue_id], today.day, number))
    return _not_told_today(due, {pk: today for pk, (today, _) in mornings.items()})


def noticed_at(breaches: list[Breach], setups: ClockSetups) -> dict[int, datetime]:
    """When each breach's notice went out: at once for red, else when the team's working day began (at most
    ``scan.MAX_BREACH_NOTICE_HOLD`` later), as the scan held it."""
    return {breach.pk: breach_notice_holds([breach.issue], setups, now=breach.breached_at).get(
        breach.issue_id, breach.breached_at) for breach in breaches}


def fold(email: Email, reminders: list[Reminder]) -> Email:
    """The digest with its reminders in it: a line it lists anyway is marked "still breached since …, day N";
    a breach it does not list (another team's issue, one beyond the first lines) gets a line of its own."""
    if not reminders:
        return email
    by_issue = {reminder.breach.issue_id: reminder for reminder in reminders}
    listed = set()

    def marked(section: dict) -> dict:
        lines = []
        for line in section["issues"]:
            if (reminder := by_issue.get(line["id"])) is not None:
                listed.add(line["id"])
                line = {**line, "since": emails.iso(reminder.breach.breached_at), "day": reminder.number}
            lines.append(line)
        return {**section, "issues": lines}

    context = {**email.context, **{part: [marked(section) for section in email.context[part]]
                                   for part in ("teams", "covering") if email.context.get(part)}}
    if email.context.get("own"):
        context["own"] = marked(email.context["own"])
    context["repeats"] = [reminder.line() for reminder in by_issue.values() if reminder.breach.issue_id not in listed]
    return replace(email, context=context)


def reminder_email(reminder: Reminder) -> Email:
    breach, user = reminder.breach, reminder.told.user
    return Email(recipient=user.email, recipient_name=display_name(user), language=Profile.language_of(user),
                 kind=EmailKind.BREACH_REPEAT, dedupe_key=reminder.key(), issue_id=breach.issue_id,
                 context={"clock": breach.clock, "due_at": emails.iso(breach.due_at),
                          "breached_at": emails.iso(breach.breached_at), "day": reminder.number,
                          **reminder.told.context(reminder.found)})


def count_mornings(reminders: list[Reminder], *, now: datetime) -> int:
    """Count the morning on each breach reminded (once a day, whoever was reminded first: a conditional UPDATE
    on rows locked here), and note it once per issue on the timeline. Returns how many breaches were counted."""
    by_day = defaultdict(lambda: defaultdict(list))
    for reminder in reminders:
        by_day[reminder.day][reminder.breach.pk].append(reminder)
    counted, events = 0, {}
    for day, by_breach in by_day.items():
        candidates = Breach.objects.filter(Q(last_repeated_on=None) | Q(last_repeated_on__lt=day), pk__in=list(by_breach))
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True))
        counted += Breach.objects.filter(pk__in=ids).update(repeats=F("repeats") + 1, last_repeated_on=day)
        for pk in ids:
            first = by_breach[pk][0]
            events.setdefault(first.breach.issue_id, IssueEvent(
                issue_id=first.breach.issue_id, kind=EventKind.BREACH_REPEATED, at=now, new_value=first.breach.clock,
                data={"clock": first.breach.clock, "day": first.number, "since": emails.iso(first.breach.breached_at),
                      "recipients": [display_name(each.told.user) for each in
                                     sorted(by_breach[pk], key=lambda each: not each.told.responsible)]}))
    IssueEvent.objects.bulk_create(events.values())
    return counted


def _not_told_today(due: dict[int, list[Reminder]], mornings: dict[int, digests.Morning]) -> dict[int, list[Reminder]]:
    """Without the reminders queued already today, and without the people whose digest went this morning (it was
    their reminder): one query."""
    keys = [reminder.key() for mine in due.values() for reminder in mine] + [mornings[pk].key(
        mine[0].told.user) for pk, mine in due.items()]
    queued = set(OutboundEmail.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    return {pk: fresh for pk, mine in due.items() if mornings[pk].key(mine[0].told.user) not in queued
            if (fresh := [reminder for reminder in mine if reminder.key() not in queued])}


def _each_once(told: list[Told]) -> list[Told]:
    """Each person once, in the part they were named for first (the one who must act comes first)."""
    return list({person.user.pk: person for person in reversed(told)}.values())[::-1]

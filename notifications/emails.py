"""What to say to whom when an issue changes.

Called by ``issues.services`` and the SLA scan inside the transaction of the change. Each function
picks the recipients and the facts of the moment and queues one outbox row per recipient; the worker
renders and sends them later (``notifications.compose``, ``notifications.delivery``). Recipients come
only from the database; internal notes never reach a customer; a colleague hears about an issue only
while they may open it (``notifications.recipients``). Every queued email is noted on its issue's
timeline with who was told.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from django.db.models import F, FilteredRelation, Q

from issues import burst, sla
from issues.clocks import clock_setup
from issues.models import (
    Clock,
    Contact,
    EventKind,
    Issue,
    IssueEvent,
    Profile,
    Severity,
    Status,
)
from issues.models.issue import CLOCK_COLUMNS
from issues.text import person_name
from notifications import delivery, recipients
from notifications.links import address_tag
from notifications.models import EmailKind, OutboundEmail
from notifications.outbox import Email, enqueue
from notifications.recipients import Told

# --- to the customer ------------------------------------------------------------------------------


def acknowledged(issue: Issue, *, now: datetime) -> int:
    """Who owns the issue, what happens next, when the next update will come. Returns how many contacts
    were written to (0: nobody heard)."""
    return len(_to_customers([issue], EmailKind.ACKNOWLEDGED, now=now,
                             key=lambda i: f"ack:{i.pk}:{stamp(i.ack_started_at)}", context=_next_update))


def public_update(event: IssueEvent, *, to: list[Contact] | None = None) -> int:
    """The update text, the status, the owner and the next promised date. Returns how many contacts were
    written to. ``to``: the issue's recipients, when the caller has looked them up already."""
    issue = event.issue
    return len(_to_customers([issue], EmailKind.PUBLIC_UPDATE, now=event.at, key=lambda i: f"update:{event.pk}",
                             context=lambda i: {"event": event.pk, "promised": i.promised_update_at is not None,
                                                **_after_update(i)},
                             to=None if to is None else {issue.pk: to}))


def _after_update(issue: Issue) -> dict:
    """What the update says comes next: the next update's date; or, when it asks the customer something, that
    the issue waits for their answer, when they will be reminded and when we go on without it."""
    if not issue.is_open:
        return {"next_update_at": None}
    if issue.status == Status.WAITING_ON_CUSTOMER and issue.waiting_ends_at is not None:
        return {"waiting": True, "next_update_at": iso(issue.promised_update_at),
                "remind_at": iso(issue.waiting_remind_at), "ends_at": iso(issue.waiting_ends_at)}
    return {"next_update_at": iso(issue.update_due_at)}


def waiting_reminders(issues: list[Issue], *, now: datetime, question: dict[int, int | None]) -> set[int]:
    """One polite reminder per wait: what we asked, and that we go on without their answer on a given date.
    Returns the issues whose customer was written to."""
    written = _to_customers(
        issues, EmailKind.WAITING_REMINDER, now=now,
        key=lambda i: f"waiting_reminder:{i.pk}:{stamp(i.update_paused_at)}",
        context=lambda i: {"event": question.get(i.pk), "ends_at": iso(i.waiting_ends_at)},
    )
    return {row.issue_id for row in written}


def resolved(issue: Issue, *, body: str) -> int:
    """Sent even to contacts who muted updates: what was done and how to reopen. Returns how many contacts
    were written to."""
    return len(_to_customers([issue], EmailKind.RESOLVED, now=issue.resolved_at, include_muted=True,
                             key=lambda i: f"resolved:{i.pk}:{stamp(i.resolved_at)}", context=lambda i: {"body": body}))


def auto_status(issues: list[Issue], *, now: datetime, latest_update: dict[int, int | None],
                next_update_at: dict[int, datetime],
                to: dict[int, list[Contact]] | None = None) -> dict[int, dict[str, list[str]]]:
    """The k-th automatic "keep you in the loop" email of each issue's update cycle (k already counted).
    Returns who was written to, per issue: the scan notes it on the automatic email's own line. ``to``: the
    issues' recipients (``update_recipients``), when the caller has looked them up already."""
    return _to_customers(
        issues, EmailKind.AUTO_STATUS, now=now,
        key=lambda i: f"auto:{i.pk}:{stamp(i.update_started_at)}:{i.auto_emails_sent}",
        context=lambda i: {"automatic": True, "number": i.auto_emails_sent, "latest_event": latest_update.get(i.pk),
                           "next_update_at": iso(next_update_at[i.pk])},
        to=to, queue=_queue_batch,
    )


def _next_update(issue: Issue) -> dict:
    """When the customer hears next. While we wait on them the update clock is paused and has no date:
    say instead how long after their answer the next update comes (the whole window: the cycle starts
    paused, so none of it is used yet)."""
    if issue.update_due_at is not None or issue.update_paused_at is None:
        return {"next_update_at": iso(issue.update_due_at)}
    rules, calendar = clock_setup(issue)
    return {"next_update_at": None, "waiting": True, "window": rules.update_every.total_seconds(),
            "working_time": calendar is not sla.AROUND_THE_CLOCK}


# --- to staff (only people who may open the issue: ``notifications.recipients``) --------------------


def issue_opened(issue: Issue, *, by) -> None:
    """Red issues: the team lead hears at once. An issue that opens unowned because its account manager
    may no longer take it: whoever would act on it hears that it needs an owner."""
    found = recipients.reach([issue], at=issue.created_at)[issue.pk]
    told = []
    if issue.severity == Severity.RED:
        told = _red_issue(issue, found, by=by, raised=False, now=issue.created_at)
    if issue.owner_id is None and issue.customer.account_manager_id is not None and found.manager is None:
        _needs_owner(issue, found, by=by, already={person.user.pk for person in told})


def severity_changed(issue: Issue, *, previous_severity: str, by) -> None:
    """Raised to red: the team lead hears at once, as for a red issue opened."""
    if issue.severity == Severity.RED and previous_severity != Severity.RED:
        _red_issue(issue, recipients.reach([issue], at=issue.updated_at)[issue.pk], by=by, raised=True, now=issue.updated_at)


def assigned(event: IssueEvent) -> None:
    """The new owner hears, unless they took the issue themselves."""
    _tell_owner(event, EmailKind.ASSIGNED)


def reopened(event: IssueEvent) -> None:
    """The owner (or whoever stands in) hears that the issue is back and needs acknowledging again."""
    _tell_owner(event, EmailKind.REOPENED)


def waits_ended(issues: list[Issue], *, now: datetime) -> int:
    """The customer did not answer within the wait: whoever must act hears once per wait that the update
    clock runs again, and by when the customer needs news."""
    found = recipients.reach(issues, at=now)
    emails = []
    for issue in issues:
        emails += _staff_emails(
            issue, EmailKind.WAITING_ENDED, found[issue.pk].responsible(), found[issue.pk],
            key=f"waiting_ended:{issue.pk}:{stamp(issue.update_started_at)}",
            context={"clock": Clock.UPDATE, "due_at": iso(issue.update_due_at),
                     "since": iso(issue.update_started_at)},
        )
    return len(_queue_and_note_all(emails, now=now))


def at_risk_reminders(issues: list[Issue], clock: str, *, now: datetime,
                      not_before: dict[int, datetime]) -> dict[int, dict[str, list[str]]]:
    """One reminder per issue and clock cycle, to whoever must act: the owner, else a stand-in. Returns who was
    told, per issue: the scan notes it on the warning's own line."""
    columns = CLOCK_COLUMNS[clock]
    found = recipients.reach(issues, at=now)
    emails = []
    for issue in issues:
        emails += _staff_emails(
            issue, EmailKind.AT_RISK, found[issue.pk].responsible(), found[issue.pk],
            key=f"warn:{issue.pk}:{clock}:{stamp(getattr(issue, columns.started))}",
            context={"clock": clock, "due_at": iso(getattr(issue, columns.due))}, not_before=not_before.get(issue.pk),
        )
    return _queue_batch(emails, now=now)


# A person told of this many breaches by one batch of the scan (a burst: a beat outage, a mass import, a policy
# edit) gets one notice listing them, not one email each; it lists the first LISTED, theirs to answer first.
LISTING_FROM = 3
LISTED = 25


def breach_notices(issues: list[Issue], clock: str, *, now: datetime, raised: dict[int, dict],
                   not_before: dict[int, datetime]) -> dict[int, dict[str, list[str]]]:
    """One notice per person per clock cycle: whoever must act, and the team lead added (never instead). A
    person with LISTING_FROM or more of a batch's breaches (held alike) hears once, in a notice listing them,
    named after the first of them as its own notice would be: twice is still once. Returns who was told, per
    issue: the scan notes it on the breach's own line."""
    columns = CLOCK_COLUMNS[clock]
    found = recipients.reach(issues, at=now)
    theirs = defaultdict(list)  # (person, held until) -> [(issue, why they are told)], in the batch's order
    for issue in issues:
        for person in _unique(found[issue.pk].responsible() + found[issue.pk].lead_part()):
            if person.user.email:
                theirs[person.user.pk, not_before.get(issue.pk)].append((issue, person))

    def cycle(issue: Issue) -> str:  # a breach notice's key, but for the person told
        return f"breach:{issue.pk}:{clock}:{stamp(getattr(issue, columns.started))}"

    emails, covers = [], {}
    for (_pk, held), told in theirs.items():
        if len(told) < LISTING_FROM:
            for issue, person in told:
                emails += _staff_emails(
                    issue, EmailKind.BREACH, [person], found[issue.pk], not_before=held, key=cycle(issue),
                    context={"clock": clock, "due_at": iso(getattr(issue, columns.due)), **raised.get(issue.pk, {})})
            continue
        # Theirs to answer first, the longest overdue first; only the lines listed are written out.
        told.sort(key=lambda pair: (not pair[1].responsible, getattr(pair[0], columns.due), pair[0].pk))
        first, user = told[0][0], told[0][1].user
        lines = [{"id": issue.pk, "due_at": iso(getattr(issue, columns.due)), "raised": issue.pk in raised,
                  **person.context(found[issue.pk])} for issue, person in told[:LISTED]]
        key = f"{cycle(first)}:{user.pk}"
        emails.append(Email(recipient=user.email, recipient_name=person_name(user), language=Profile.language_of(user),
                            kind=EmailKind.BREACHES, dedupe_key=key, not_before=held,
                            context={"clock": clock, "count": len(told),
                                     "yours": sum(person.responsible for _, person in told), "issues": lines}))
        covers[key] = [issue.pk for issue, _ in told]
    return _queue_batch(emails, now=now, covers=covers)


def deadline_warnings(issues: list[Issue], *, now: datetime, not_before: dict[int, datetime]) -> int:
    """The customer's deadline is a working day away (or passed): whoever must act hears once per deadline
    value, so a new deadline warns again and the same one never twice."""
    found = recipients.reach(issues, at=now)
    emails = []
    for issue in issues:
        emails += _staff_emails(
            issue, EmailKind.DEADLINE_AT_RISK, found[issue.pk].responsible(), found[issue.pk],
            key=f"deadline:{issue.pk}:{stamp(issue.customer_deadline)}", not_before=not_before.get(issue.pk),
            context={"deadline": iso(issue.customer_deadline), "passed": issue.customer_deadline <= now},
        )
    return len(_queue_and_note_all(emails, now=now))


# --- shared ---------------------------------------------------------------------------------------


def stamp(moment: datetime | None) -> str:
    """A cycle's start as it appears in dedupe keys: UTC, to the microsecond."""
    return moment.astimezone(UTC).isoformat() if moment else "-"


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _pk(user) -> int | None:
    return getattr(user, "pk", None)


def _red_issue(issue: Issue, found: recipients.Reach, *, by, raised: bool, now: datetime) -> list[Told]:
    """The lead, unless they raised it themselves; without a lead, the account manager, else the team
    (never the person who raised it: they know)."""
    if found.lead is not None and found.lead.pk == _pk(by):
        return []
    told = found.lead_part(besides=_pk(by))
    emails = _staff_emails(issue, EmailKind.RED_ISSUE, told, found, key=f"red:{issue.pk}:{stamp(now)}",
                           context={"actor": _pk(by), "raised": raised})
    _queue_and_note_all(emails, now=now)
    return told


def _needs_owner(issue: Issue, found: recipients.Reach, *, by, already: set[int]) -> None:
    """An "assigned" email that says nobody owns the issue yet, to whoever would act on it (not to whoever
    opened it, nor twice to a lead who just had the red alert): the existing kind, no new machinery."""
    told = [person for person in found.responsible() if person.user.pk not in already | {_pk(by)}]
    emails = _staff_emails(issue, EmailKind.ASSIGNED, told, found, key=f"unowned:{issue.pk}",
                           context={"actor": _pk(by), "needs_owner": True})
    _queue_and_note_all(emails, now=issue.created_at)


def _tell_owner(event: IssueEvent, kind: str) -> None:
    """The owner hears of a change someone else made; an owner who is gone, whoever stands in."""
    issue = event.issue
    found = recipients.reach([issue], at=event.at)[issue.pk]
    told = [person for person in found.responsible() if person.user.pk != event.actor_id]
    emails = _staff_emails(issue, kind, told, found, key=f"{kind}:{event.pk}", context={"actor": event.actor_id})
    _queue_and_note_all(emails, now=event.at)


def receives(contact: Contact, *, include_muted: bool = False) -> bool:
    """Whether a recipient of an issue is written to: never once their mail bounced for good
    (undeliverable); a contact who muted updates only hears of a resolution."""
    return contact.undeliverable_at is None and (include_muted or contact.receives_updates)


def update_recipients(issues: Iterable[Issue], *, include_muted: bool = False) -> dict[int, list[Contact]]:
    """The recipients of these issues who are written to (``receives``), per issue, in one query however
    many issues: each issue's reporter, the contacts copied on it (``Issue.cc``) and the contacts who
    follow all their company's issues."""
    issues = list(issues)
    ids = [issue.pk for issue in issues]
    contacts = (
        Contact.objects.reachable()
        # Only the copies on these issues join in: a contact copied on thousands of others stays one row.
        .annotate(batch_copy=FilteredRelation("cc_issues", condition=Q(cc_issues__in=ids)))
        .filter(Q(pk__in={issue.reporter_id for issue in issues} - {None}) | Q(batch_copy__isnull=False)
                | Q(follows_all_issues=True, customer__in={issue.customer_id for issue in issues}))
        .annotate(copied_on=F("batch_copy__id"))
    )
    if not include_muted:
        contacts = contacts.filter(receives_updates=True)
    by_pk, copied, followers = {}, defaultdict(dict), defaultdict(dict)
    for contact in contacts.order_by("pk"):
        by_pk[contact.pk] = contact
        if contact.copied_on is not None:
            copied[contact.copied_on][contact.pk] = contact
        if contact.follows_all_issues:
            followers[contact.customer_id][contact.pk] = contact
    found = {}
    for issue in issues:
        each = {issue.reporter_id: by_pk[issue.reporter_id]} if issue.reporter_id in by_pk else {}
        each |= copied[issue.pk] | followers[issue.customer_id]
        found[issue.pk] = sorted(each.values(), key=lambda contact: contact.pk)
    return found


def _to_customers(issues: list[Issue], kind: str, *, now: datetime, key, context, include_muted: bool = False,
                  to: dict[int, list[Contact]] | None = None, queue: Callable[..., Any] | None = None) -> Any:
    """Queue one email per recipient of each issue; returns what ``queue`` does: by default the rows written and
    noted (none: nobody heard), for a scan's batch who was told per issue (``_queue_batch``)."""
    to = update_recipients(issues, include_muted=include_muted) if to is None else to
    emails = [
        Email(recipient=contact.email, recipient_name=contact.name, language=contact.language, kind=kind,
              dedupe_key=f"{key(issue)}:{contact.pk}", issue_id=issue.pk, contact_id=contact.pk,
              context=context(issue))
        for issue in issues
        for contact in to.get(issue.pk, [])
    ]
    return (queue or _queue_and_note_all)(emails, now=now)


def _staff_emails(issue: Issue, kind: str, told: list[Told], found: recipients.Reach, *, key: str, context: dict,
                  not_before: datetime | None = None) -> list[Email]:
    return [
        Email(recipient=person.user.email, recipient_name=person_name(person.user),
              language=Profile.language_of(person.user), kind=kind, dedupe_key=f"{key}:{person.user.pk}",
              issue_id=issue.pk, context={**context, **person.context(found)}, not_before=not_before)
        for person in told
        if person.user.email
    ]


def _unique(told: list[Told]) -> list[Told]:
    """Each person once, in the part they were named for first (the one who must act comes first)."""
    seen, result = set(), []
    for person in told:
        if person.user.pk not in seen:
            seen.add(person.user.pk)
            result.append(person)
    return result


def _queue_and_note(issue: Issue, kind: str, emails: list[Email], *, now: datetime) -> int:
    """Queue the emails of one change to one issue and note them on its timeline; returns how many."""
    return len(_queue_and_note_all(emails, now=now))


def queue_staff_emails(emails: list[Email], *, now: datetime) -> list[OutboundEmail]:
    """Queue staff emails whose people were picked elsewhere (the escalation ladder: ``notifications.escalations``
    and ``notifications.repeats``), noted on each issue's timeline like every other."""
    return _queue_and_note_all(emails, now=now)


def _queue_and_note_all(emails: list[Email], *, now: datetime) -> list[OutboundEmail]:
    """Queue the emails of one change and note on each issue's timeline who was told."""
    written = enqueue(emails, now=now)
    IssueEvent.objects.bulk_create([
        IssueEvent(issue_id=issue_id, kind=EventKind.EMAIL_QUEUED, at=now, public=False, new_value=kind,
                   data={"kind": kind, "recipients": addresses})
        for (issue_id, kind), addresses in _told(written).items()
    ])
    return written


def _queue_batch(emails: list[Email], *, now: datetime,
                 covers: dict[str, list[int]] | None = None) -> dict[int, dict[str, list[str]]]:
    """Queue a scan's batch of emails, thousands at a time, set-based (``issues.burst``). Who was told is
    returned per issue and kind, for the step to note on its own line of each timeline (one line per issue, not
    one more per email, as ``_queue_and_note_all`` writes). `covers`: the issues an email lists, where it is
    about several."""
    told: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in burst.enqueue(emails, now=now):
        for issue_id in (covers or {}).get(row.dedupe_key, [row.issue_id]):
            if issue_id is not None:
                told[issue_id][row.kind].append(row.recipient)
    return {issue_id: dict(kinds) for issue_id, kinds in told.items()}


def _told(written: list) -> dict[tuple[int, str], list[str]]:
    """Who was told, per issue and kind of email, in the order written."""
    recipients_of = defaultdict(list)
    for row in written:
        if row.issue_id is not None:
            recipients_of[row.issue_id, row.kind].append(row.recipient)
    return recipients_of


# --- about customers' email (``inbound``) ---------------------------------------------------------


def receipt(issue: Issue, *, contact: Contact, now: datetime) -> int:
    """The contact whose email opened the issue hears at once that we have it, who owns it and by when
    a person answers (an automatic reply: ``Auto-Submitted: auto-replied``)."""
    if contact.undeliverable_at is not None:
        return 0
    email = Email(recipient=contact.email, recipient_name=contact.name, language=contact.language,
                  kind=EmailKind.RECEIPT, dedupe_key=f"receipt:{issue.pk}:{contact.pk}", issue_id=issue.pk,
                  contact_id=contact.pk, context={"due_at": iso(issue.ack_due_at)})
    return len(_queue_and_note_all([email], now=now))


def customer_wrote(event: IssueEvent, *, reopened: bool = False, resumed: bool = False) -> int:
    """The owner (or whoever stands in) hears once, with the customer's text and when an answer is due."""
    issue = event.issue
    found = recipients.reach([issue], at=event.at)[issue.pk]
    emails = _staff_emails(issue, EmailKind.CUSTOMER_MESSAGE, found.responsible(), found,
                           key=f"customer_message:{event.pk}",
                           context={"event": event.pk, "due_at": iso(issue.ack_due_at), "reopened": reopened,
                                    "resumed": resumed})
    return len(_queue_and_note_all(emails, now=event.at))


def contact_unreachable(contact: Contact, issues: list[Issue], *, now: datetime) -> int:
    """A contact's mail bounced for good: whoever must act on each of their customer's open issues, and the
    lead's part, hear once (one email per person, listing the issues)."""
    if not issues:
        return 0
    found = recipients.reach(issues, at=now)
    people = {}
    for issue in issues:
        for person in found[issue.pk].responsible() + found[issue.pk].lead_part():
            people.setdefault(person.user.pk, person.user)
    reachable_left = Contact.objects.reachable().filter(customer=contact.customer_id).exclude(
        pk=contact.pk).exists()
    context = {"contact_name": contact.name, "contact_email": contact.email, "customer_name": contact.customer.name,
               "reason": contact.undeliverable_reason, "none_left": not reachable_left,
               "issues": [{"id": issue.pk, "reference": issue.reference, "title": issue.title} for issue in issues]}
    emails = [Email(recipient=user.email, recipient_name=person_name(user),
                    language=Profile.language_of(user), kind=EmailKind.CONTACT_UNREACHABLE,
                    dedupe_key=f"unreachable:{contact.pk}:{stamp(now)}:{user.pk}", context=context)
              for user in people.values() if user.email]
    return len(enqueue(emails, now=now))


def cancel_to_contacts(contact_ids: list[int]) -> int:
    """Nothing more goes to these contacts: what is still queued for them is cancelled."""
    return delivery.cancel(OutboundEmail.objects.filter(contact_id__in=contact_ids))


# --- the customer's own page (``portal``) -----------------------------------------------------------


def next_news(issue: Issue, *, now: datetime) -> dict:
    """When the customer hears from us next, in the words our emails use (the customer page shows the same):
    a person's answer due (``answer_by``: a new issue, or their message waiting for one), and the next update —
    its date, or while we wait on them the wait's dates (``_after_update``) or the window after their answer
    (``_next_update``). An update clock that ran out says when the automatic email goes; none left: overdue."""
    if not issue.is_open:
        return {}
    facts = {"answer_by": iso(issue.ack_due_at) if issue.ack_due_at and issue.ack_due_at > now else None}
    if issue.update_started_at is None:  # never acknowledged: the update clock has not run yet
        return facts
    told = _after_update(issue) if issue.update_paused_at is None or issue.waiting_ends_at else _next_update(issue)
    if told.get("waiting"):
        return {**facts, **told}
    due = next((moment for moment in (issue.update_due_at, issue.auto_email_due_at) if moment and moment > now), None)
    return {**facts, "next_update_at": iso(due), "overdue": due is None}


def page_copy(issue: Issue, contact: Contact, *, cause: str, context: dict, now: datetime) -> int:
    """What was done on the customer page, copied to the contact's own address: whoever holds their link acts
    as them, so the contact hears of every action ("if this wasn't you, tell us"). Once per cause (the stored
    answer, the deadline's event); sent even to a contact who muted updates."""
    if not receives(contact, include_muted=True):
        return 0
    email = Email(recipient=contact.email, recipient_name=contact.name, language=contact.language,
                  kind=EmailKind.PAGE_COPY, dedupe_key=f"page_copy:{cause}:{contact.pk}", issue_id=issue.pk,
                  contact_id=contact.pk, context=context)
    return len(_queue_and_note_all([email], now=now))


def fresh_links(contact: Contact, issues: list[dict], *, address: str, now: datetime) -> int:
    """Someone asked for fresh links to this contact's issues (``issues``: reference, title, status, url): they
    go to the contact's own address only, once per address and hour however often it is asked."""
    if not receives(contact, include_muted=True):
        return 0
    hour = now.astimezone(UTC).strftime("%Y-%m-%dT%H")
    email = Email(recipient=contact.email, recipient_name=contact.name, language=contact.language,
                  kind=EmailKind.FRESH_LINKS, dedupe_key=f"fresh_links:{address_tag(address)}:{hour}:{contact.pk}",
                  contact_id=contact.pk, context={"issues": issues})
    return len(enqueue([email], now=now))


# --- after a resolution, the customer's word (``issues.feedback``) ----------------------------------


def feedback_copy(event: IssueEvent, contact: Contact, *, about: IssueEvent) -> int:
    """What the contact just said on their issue page, copied to their own address, so a forwarded link used by
    someone else is noticed. Sent even to a contact who muted updates; once per event. `about`: the event whose
    words the copy quotes (their rating comment, or the message that said what is still wrong)."""
    if not receives(contact, include_muted=True):
        return 0
    email = Email(recipient=contact.email, recipient_name=contact.name, language=contact.language,
                  kind=EmailKind.FEEDBACK_COPY, dedupe_key=f"feedback_copy:{event.pk}:{contact.pk}",
                  issue_id=event.issue_id, contact_id=contact.pk,
                  context={"event": about.pk, "said": event.kind, "score": (event.data or {}).get("score"),
                           "follow_up": about.issue_id != event.issue_id})
    return len(_queue_and_note_all([email], now=event.at))


def low_rating(event: IssueEvent) -> int:
    """A low rating: whoever must act on the issue and the team lead hear once per rating, with the comment."""
    issue = event.issue
    found = recipients.reach([issue], at=event.at)[issue.pk]
    emails = _staff_emails(issue, EmailKind.LOW_RATING, _unique(found.responsible() + found.lead_part()), found,
                           key=f"low_rating:{event.pk}", context={"event": event.pk})
    return len(_queue_and_note_all(emails, now=event.at))

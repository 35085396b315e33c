"""After a resolution, the customer's word: solved, not solved (with what is still wrong), and a rating.

Like ``issues.services``, each function is one transaction that checks its input (``ValidationError`` before
anything is written), writes the change, appends one timeline event and queues the emails. The acting user is
``None``: a customer's contact did it, named on the event (``data``: contact, name, email). Each action is copied
to the contact's own address, so a forwarded link used by someone else does not go unnoticed.

One ``Feedback`` row per contact and resolution (``Issue.resolved_at`` names it): a second word within the same
resolution changes the row; after a reopen and another resolution the contact may judge it again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from issues import checks
from issues.conversation import receive_customer_message
from issues.models import Contact, EventKind, Feedback, Issue, IssueEvent, Status
from issues.models.feedback import HIGHEST_SCORE, LOWEST_SCORE
from issues.services import _lock
from issues.timeline import record
from notifications import emails

# A rating this low (or lower) tells the owner and the team lead at once.
LOW_SCORE = 2
COMMENT_MAX_CHARS = 2000


def solved(*, issue: Issue, contact: Contact, now: datetime | None = None, token: str | None = None) -> Feedback:
    """The contact says the resolution solved their problem."""
    now = now or timezone.now()

    def apply(feedback: Feedback) -> IssueEvent | None:
        if feedback.solved is True:
            return None  # said before: nothing new to record or copy
        feedback.solved = True
        return _said(issue, contact, EventKind.SAID_SOLVED, feedback, now=now, token=token, public=True)

    return _once(token, contact, lambda: _judge(issue, contact, now=now, apply=apply))


def not_solved(*, issue: Issue, contact: Contact, words: str, now: datetime | None = None,
               token: str | None = None) -> Issue:
    """The contact says it is not solved, in their own words: those words take the path of an emailed answer
    (``issues.conversation.receive_customer_message``), which reopens a recently resolved issue and tells its
    owner (or opens a follow-up when the issue is closed or was resolved long ago). Returns the issue the words
    landed on."""
    now = now or timezone.now()
    words = checks.clean_message(words, field="words", required=_("Tell us what is still wrong: your words go to "
                                                                  "the person who resolved it."))
    landed = issue

    def apply(feedback: Feedback) -> IssueEvent:
        nonlocal landed
        feedback.solved = False
        landed = receive_customer_message(issue=issue, contact=contact, body=words, subject="", at=now, now=now,
                                          via="page")
        # Their words as stored: a message on this issue, or the description of the follow-up they opened.
        message = landed.events.filter(kind__in=[EventKind.CUSTOMER_MESSAGE, EventKind.CREATED], at=now).latest("pk")
        return _said(issue, contact, EventKind.SAID_NOT_SOLVED, feedback, now=now, token=token, public=True,
                     extra={"message": message.pk, "landed": landed.pk}, copy_event=message)

    first = _once(token, contact, lambda: _judge(issue, contact, now=now, apply=apply))
    # The same form sent again finds where its words went the first time.
    return first if isinstance(first, Issue) else landed


def rate(*, issue: Issue, contact: Contact, score: int | str | None, comment: str = "", now: datetime | None = None,
         token: str | None = None) -> Feedback:
    """A rating from 1 to 5 with an optional comment; a second rating of the same resolution replaces the
    first. A low rating (``LOW_SCORE`` or less) tells the owner and the team lead."""
    now = now or timezone.now()
    score = clean_score(score)
    comment = checks.clean_message(comment, field="comment")
    if len(comment) > COMMENT_MAX_CHARS:
        raise ValidationError({"comment": _("Keep the comment to %(limit)s characters at most.")
                               % {"limit": f"{COMMENT_MAX_CHARS:,}"}})

    def apply(feedback: Feedback) -> IssueEvent | None:
        if feedback.score == score and feedback.comment == comment:
            return None
        previous = feedback.score
        feedback.score, feedback.comment = score, comment
        event = _said(issue, contact, EventKind.RATED, feedback, now=now, token=token, public=False, body=comment,
                      extra={"score": score, "previous": previous})
        if score <= LOW_SCORE:
            emails.low_rating(event)
        return event

    return _once(token, contact, lambda: _judge(issue, contact, now=now, apply=apply))


def clean_score(score: int | str | None) -> int:
    """A whole number from 1 to 5, as a number or as a form sends it ("4")."""
    if isinstance(score, str) and score.strip().isascii() and score.strip().isdecimal():
        score = int(score)
    if isinstance(score, bool) or not isinstance(score, int) or not LOWEST_SCORE <= score <= HIGHEST_SCORE:
        raise ValidationError({"score": _("Choose a rating from 1 to 5.")})
    return score


def current(issue: Issue, contact: Contact) -> Feedback | None:
    """What the contact said of the issue's current resolution, if anything (None while it is open)."""
    if issue.resolved_at is None:
        return None
    return Feedback.objects.filter(issue=issue, contact=contact, resolved_at=issue.resolved_at).first()


# --- shared --------------------------------------------------------------------------------------


def _judge(issue: Issue, contact: Contact, *, now: datetime, apply: Callable[[Feedback], IssueEvent | None]):
    """Lock the issue, find (or start) the contact's feedback on its resolution, apply the change and save it."""
    if contact.customer_id != issue.customer_id:
        raise ValidationError(_("This contact belongs to another customer."))
    with transaction.atomic():
        _lock(issue)
        if issue.status not in {Status.RESOLVED, Status.CLOSED} or issue.resolved_at is None:
            raise ValidationError(_("This issue is not resolved: there is nothing to judge yet. Answer on its page "
                                    "to tell us more."))
        feedback = current(issue, contact) or Feedback(issue=issue, contact=contact, resolved_at=issue.resolved_at,
                                                       owner_id=issue.owner_id, created_at=now)
        if apply(feedback) is None:
            return feedback
        feedback.updated_at = now
        feedback.save()
    return feedback


def _said(issue: Issue, contact: Contact, kind: str, feedback: Feedback, *, now: datetime, token: str | None,
          public: bool, body: str = "", extra: dict | None = None, copy_event: IssueEvent | None = None) -> IssueEvent:
    """The timeline event, attributed to the contact, and the copy to the contact's own address."""
    event = record(issue, kind, by=None, at=now, public=public, body=body, submission=_submission(token, contact),
                   data={"contact": contact.pk, "name": contact.name, "email": contact.email,
                         "resolved_at": feedback.resolved_at.isoformat(), **(extra or {})})
    emails.feedback_copy(event, contact, about=copy_event or event)
    return event


def _submission(token: str | None, contact: Contact) -> str | None:
    """A form's one-time token, named after the contact who sent it (a token is only ever its sender's)."""
    return f"contact:{contact.pk}:{token}" if token else None


def _once(token: str | None, contact: Contact, write: Callable[[], Feedback]):
    """Write once per form: the same form sent again (a double click, a retry) finds what its first sending
    wrote, even when both raced and the second lost on the event's unique submission."""
    submission = _submission(token, contact)
    if (first := _first(submission)) is not None:
        return first
    try:
        return write()
    except IntegrityError:
        if (first := _first(submission)) is None:
            raise
        return first


def _first(submission: str | None) -> Feedback | Issue | None:
    if submission is None:
        return None
    event = IssueEvent.objects.filter(submission=submission).first()
    if event is None:
        return None
    if event.kind == EventKind.SAID_NOT_SOLVED:
        return Issue.objects.get(pk=event.data.get("landed", event.issue_id))
    return Feedback.objects.filter(issue_id=event.issue_id, contact_id=event.data.get("contact"),
                                   resolved_at=event.data.get("resolved_at")).first()

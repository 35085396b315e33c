"""Who hears at the escalation ladder's third rung (``issues.ladder``), inside the scan's transaction.

The team's escalation contact (``Team.escalation_contact``) while they are active and may open the team's
issues (a member, the lead, or a superuser); otherwise every active superuser. Once per breach and person: the
dedupe key names both, and a breach is a clock cycle. The owner stays the customer's contact and nobody's part
changes: the contact is added to the ladder, never put in anyone's place.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, Q

from issues.models import Breach, Profile, Team
from issues.reporting.counts import display_name
from notifications import emails
from notifications.models import EmailKind
from notifications.outbox import Email

ROLE = "escalation"


def escalation_contacts(team_ids: set[int]) -> tuple[dict[int, object], list]:
    """The escalation contact of each team that has one who may be told, and the active superusers (loaded only
    when some team has none): two queries at most."""
    member = Team.members.through.objects.filter(team=OuterRef("pk"), user=OuterRef("escalation_contact"))
    may_open = Q(escalation_contact__is_superuser=True) | Q(lead=F("escalation_contact")) | Exists(member)
    teams = (Team.objects.filter(pk__in=team_ids, escalation_contact__is_active=True).filter(may_open)
             .exclude(escalation_contact__email="").select_related("escalation_contact__profile"))
    contacts = {team.pk: team.escalation_contact for team in teams}
    superusers = []
    if team_ids - set(contacts):
        superusers = list(get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
                          .select_related("profile").order_by("pk"))
    return contacts, superusers


def escalation_notices(breaches: list[Breach], *, now: datetime) -> dict[int, list[str]]:
    """Queue the third rung's email for each breach (issue, owner and customer__team loaded). Returns the names
    of the people told, per breach."""
    contacts, superusers = escalation_contacts({breach.issue.customer.team_id for breach in breaches})
    queued, told = [], {}
    for breach in breaches:
        contact = contacts.get(breach.issue.customer.team_id)
        people = [contact] if contact is not None else superusers
        context = {"clock": breach.clock, "due_at": emails.iso(breach.due_at),
                   "breached_at": emails.iso(breach.breached_at), "role": ROLE, "is_owner": False,
                   "fallback": contact is None}
        queued += [Email(recipient=user.email, recipient_name=display_name(user), language=Profile.language_of(user),
                         kind=EmailKind.ESCALATION, dedupe_key=f"escalate:{breach.pk}:{user.pk}",
                         issue_id=breach.issue_id, context=context)
                   for user in people]
        told[breach.pk] = [display_name(user) for user in people]
    emails.queue_staff_emails(queued, now=now)
    return told

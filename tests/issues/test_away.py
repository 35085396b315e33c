"""Away and cover: while Hana is away, what was meant for her goes to Daniel, her backup, and says so; the lead
still gets the lead's part; the customer is told whom to reach until she is back; she owns her issues all
along, and after the period she hears again without anyone doing anything.

The team works Mon-Fri 09:00-18:00 in Seoul (the default calendar). Hana is away Monday 2 to Wednesday 4
November 2026 (whole days: back Thursday morning).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from issues import away, services
from issues.conversation import receive_customer_message
from issues.defaults import DEFAULT_CALENDAR
from issues.models import Away, BusinessCalendar, Profile
from issues.scan import scan_sla
from notifications import recipients
from notifications.compose import rendered
from notifications.digests import send_digests
from notifications.models import EmailKind, OutboundEmail
from tests.factories import TeamFactory, UserFactory, make_issue

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=SEOUL)  # opening time of a working Monday
AWAY_FROM = datetime(2026, 11, 2, tzinfo=SEOUL)
BACK = datetime(2026, 11, 5, tzinfo=SEOUL)  # Thursday 00:00: the last day away is Wednesday 4 November
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_hours(team):
    team.calendar = BusinessCalendar.objects.get(name=DEFAULT_CALENDAR)
    team.save()
    return team


@pytest.fixture
def hana_away(office_hours, manager, colleague):
    """Hana set herself away last week, with Daniel as her backup."""
    return away.set_away(person=manager, starts_at=AWAY_FROM, ends_at=BACK, backup=colleague, by=manager,
                         now=MONDAY - 7 * DAY)


def emails_of(kind: str) -> list[OutboundEmail]:
    return [rendered(row) for row in OutboundEmail.objects.filter(kind=kind).order_by("recipient", "pk")]


def to(kind: str) -> list[str]:
    return sorted(row.recipient for row in OutboundEmail.objects.filter(kind=kind))


def rendered_at(row: OutboundEmail, at: datetime) -> OutboundEmail:
    """A customer email is written by the worker: who covers is read when it renders."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        return rendered(row)


# --- the scenario: an owner away over a breach -----------------------------------------------------


def test_an_owner_away_over_a_breach_hands_her_part_to_the_backup_and_gets_the_next_one_back(
        hana_away, customer, contact, manager, colleague, lead):
    fire = make_issue(customer=customer, at=MONDAY, severity="red", owner=manager, by=lead, title="Checkout down")

    scan_sla(now=MONDAY + 50 * MINUTE)  # at risk from 09:45
    scan_sla(now=MONDAY + 2 * HOUR)  # breached from 10:00

    assert to(EmailKind.AT_RISK) == [colleague.email]
    assert to(EmailKind.BREACH) == sorted([colleague.email, lead.email])  # the backup acts, the lead is added
    reminder, = emails_of(EmailKind.AT_RISK)
    assert "You are covering for Hana Lee, who is away until 4 November." in reminder.body_text
    notices = {row.recipient: row for row in emails_of(EmailKind.BREACH)}
    assert "You are covering for Hana Lee" in notices[colleague.email].body_text
    assert "Please write to the customer as soon as you can" in notices[colleague.email].body_text
    assert "You are told as the team lead. Hana Lee stays the customer's contact" in notices[lead.email].body_text
    assert "covering" not in notices[lead.email].body_text
    fire.refresh_from_db()
    assert fire.owner == manager  # the owner stays the owner

    services.acknowledge(issue=fire, by=colleague, now=MONDAY + 2 * HOUR + 5 * MINUTE)
    welcome, = [row for row in OutboundEmail.objects.filter(kind=EmailKind.ACKNOWLEDGED)]
    assert welcome.recipient == contact.email
    text = rendered_at(welcome, MONDAY + 3 * HOUR).body_text
    assert "Owner: Hana Lee" in text
    assert "Your contact until 4 November: Daniel Cho" in text

    later = make_issue(customer=customer, at=BACK + 4 * DAY, severity="red", owner=manager, by=lead)
    scan_sla(now=BACK + 4 * DAY + 50 * MINUTE)  # Monday 9 November: Hana is back

    assert OutboundEmail.objects.get(kind=EmailKind.AT_RISK, issue=later).recipient == manager.email
    services.acknowledge(issue=later, by=manager, now=BACK + 4 * DAY + 55 * MINUTE)
    back = OutboundEmail.objects.get(kind=EmailKind.ACKNOWLEDGED, issue=later)
    assert "Your contact until" not in rendered_at(back, BACK + 4 * DAY + HOUR).body_text  # she is back
    # An email says what was true when it was queued, however late a worker renders it.
    assert "Your contact until 4 November: Daniel Cho" in rendered_at(welcome, BACK + HOUR).body_text


def test_the_customer_is_told_in_korean_whom_to_reach(hana_away, customer, manager, colleague, lead):
    customer.language = "ko"
    customer.save()
    from tests.factories import ContactFactory

    ContactFactory(customer=customer, name="박서연", email="seoyeon@acme.example.kr", language="ko",
                   follows_all_issues=True)
    issue = make_issue(customer=customer, at=MONDAY, severity="orange", owner=manager, by=lead)
    services.acknowledge(issue=issue, by=colleague, now=MONDAY + HOUR)

    row = OutboundEmail.objects.get(kind=EmailKind.ACKNOWLEDGED)
    facts = rendered_at(row, MONDAY + HOUR).body_text.split("\n\n")[-2]
    contact_line, = [line for line in facts.splitlines() if "Daniel Cho님" in line]  # the label: locale/ko
    assert "11월 4일" in contact_line
    assert "Hana Lee님" in facts  # still the owner


# --- who covers ----------------------------------------------------------------------------------------


def test_without_a_backup_the_lead_covers_and_says_for_whom(office_hours, customer, manager, lead):
    away.set_away(person=manager, starts_at=AWAY_FROM, ends_at=BACK, by=manager, now=MONDAY - DAY)
    make_issue(customer=customer, at=MONDAY, severity="red", owner=manager, by=lead)

    scan_sla(now=MONDAY + 50 * MINUTE)
    scan_sla(now=MONDAY + 2 * HOUR)

    assert to(EmailKind.AT_RISK) == [lead.email]
    assert to(EmailKind.BREACH) == [lead.email]  # once: covering comes first, the lead's part folds into it
    breach, = emails_of(EmailKind.BREACH)
    assert "You are covering for Hana Lee, who is away until 4 November." in breach.body_text
    assert "Please write to the customer" in breach.body_text


def test_an_away_lead_without_a_backup_hands_the_leads_part_to_the_account_manager(
        office_hours, customer, manager, colleague, lead):
    away.set_away(person=lead, starts_at=AWAY_FROM, ends_at=BACK, by=lead, now=MONDAY - DAY)
    make_issue(customer=customer, at=MONDAY, severity="red", owner=colleague, by=colleague)

    scan_sla(now=MONDAY + 2 * HOUR)

    assert to(EmailKind.BREACH) == sorted([colleague.email, manager.email])
    notices = {row.recipient: row for row in emails_of(EmailKind.BREACH)}
    assert "You are covering for Jisoo Kim" in notices[manager.email].body_text


def test_a_backup_away_too_does_not_pass_it_on_the_lead_covers(office_hours, team, customer, manager, colleague, lead):
    third = UserFactory(username="minji", first_name="Minji", last_name="Park")
    team.members.add(third)
    away.set_away(person=manager, starts_at=AWAY_FROM, ends_at=BACK, backup=colleague, by=manager, now=MONDAY - DAY)
    away.set_away(person=colleague, starts_at=MONDAY - HOUR, ends_at=MONDAY + DAY, backup=third, by=colleague,
                  now=MONDAY - DAY)  # Daniel is out on Monday too
    issue = make_issue(customer=customer, at=MONDAY, severity="red", owner=manager, by=lead)

    found = recipients.reach([issue], at=MONDAY + HOUR)[issue.pk]

    told, = found.responsible()
    assert (told.user, told.role, told.covering.person) == (lead, recipients.Role.COVER, manager)
    told_tuesday, = recipients.reach([issue], at=MONDAY + DAY + HOUR)[issue.pk].responsible()
    assert told_tuesday.user == colleague  # back on Tuesday, he covers again


def test_a_new_assignment_to_someone_away_goes_to_their_backup(hana_away, customer, manager, colleague, lead):
    issue = make_issue(customer=customer, at=MONDAY, severity="blue", owner=lead, by=lead)

    services.assign(issue=issue, owner=manager, by=lead, now=MONDAY + HOUR)

    assigned, = emails_of(EmailKind.ASSIGNED)
    assert assigned.recipient == colleague.email
    assert "Jisoo Kim made Hana Lee the owner of" in assigned.body_text
    assert "You are covering for Hana Lee, who is away until 4 November" in assigned.body_text


def test_what_a_customer_writes_reaches_the_backup(hana_away, customer, contact, manager, colleague, lead):
    issue = make_issue(customer=customer, at=MONDAY - DAY, severity="blue", owner=manager, by=lead)
    services.acknowledge(issue=issue, by=manager, now=MONDAY - DAY + HOUR)

    receive_customer_message(issue=issue, contact=contact, body="Any news?", subject="Re: export", at=MONDAY + HOUR)

    message, = emails_of(EmailKind.CUSTOMER_MESSAGE)
    assert message.recipient == colleague.email
    assert "You are covering for Hana Lee" in message.body_text


def test_covers_answers_for_many_people_in_one_query(hana_away, manager, colleague, lead, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = away.covers([manager, colleague, lead], MONDAY + HOUR)

    assert list(found) == [manager.pk]
    assert (found[manager.pk].backup, found[manager.pk].until) == (colleague, BACK)
    assert away.who_covers(manager, BACK) is None  # back at the period's end, by itself


# --- the digest -----------------------------------------------------------------------------------------


def test_the_away_person_gets_no_digest_and_her_issues_go_to_the_backups_under_covering_for(
        hana_away, customer, manager, colleague, lead):
    make_issue(customer=customer, at=MONDAY - 13 * HOUR, severity="red", owner=manager, by=lead, title="Checkout down")

    send_digests(now=MONDAY + 5 * MINUTE)

    assert manager.email not in to(EmailKind.DIGEST)
    digest = next(row for row in emails_of(EmailKind.DIGEST) if row.recipient == colleague.email)
    assert "== Covering for Hana Lee: 1 breached" in digest.body_text
    assert "Checkout down" in digest.body_text
    assert "Covering for Hana Lee" in digest.body_html


def test_the_covering_section_speaks_korean(hana_away, customer, manager, colleague, lead):
    Profile.objects.create(user=colleague, language="ko")
    make_issue(customer=customer, at=MONDAY - 13 * HOUR, severity="red", owner=manager, by=lead)

    send_digests(now=MONDAY + 5 * MINUTE)

    digest = next(row for row in emails_of(EmailKind.DIGEST) if row.recipient == colleague.email)
    assert "Hana Lee님 업무 대행" in digest.body_text


# --- setting a period: the rules ------------------------------------------------------------------------


def period(**changes) -> dict:
    return {"starts_at": AWAY_FROM, "ends_at": BACK, "now": MONDAY - DAY} | changes


@pytest.mark.parametrize(("changes", "message"), [
    ({"ends_at": AWAY_FROM}, "The end of the period must come after its start."),
    ({"starts_at": MONDAY - 9 * DAY, "ends_at": MONDAY - 8 * DAY}, "This period is already over."),
])
def test_a_period_must_end_after_it_starts_and_not_be_over(office_hours, manager, colleague, changes, message):
    with pytest.raises(ValidationError) as refused:
        away.set_away(person=manager, backup=colleague, by=manager, **period(**changes))

    assert message in refused.value.messages
    assert not Away.objects.exists()


def test_the_backup_must_be_someone_else_active_and_of_a_shared_team(office_hours, manager, colleague, outsider):
    gone = UserFactory(username="left", first_name="Leo", last_name="Left", is_active=False)
    office_hours.members.add(gone)
    refusals = {}
    for backup in (manager, gone, outsider):
        with pytest.raises(ValidationError) as refused:
            away.set_away(person=manager, backup=backup, by=manager, **period())
        refusals[backup.username] = refused.value.messages

    assert refusals == {"hana": ["Choose someone else as the backup."], "left": ["Leo Left can no longer sign in."],
                        "olga": ["Olga Other is in none of Hana Lee's teams."]}
    assert not Away.objects.exists()


def test_a_backup_away_over_the_whole_period_is_refused_and_the_reason_given(office_hours, manager, colleague):
    away.set_away(person=colleague, starts_at=AWAY_FROM - DAY, ends_at=BACK + DAY, by=colleague, now=MONDAY - DAY)

    with pytest.raises(ValidationError) as refused:
        away.set_away(person=manager, backup=colleague, by=manager, **period())

    assert refused.value.messages == ["Daniel Cho is away themselves until 2026-11-05: choose another backup."]


def test_periods_do_not_overlap_but_several_are_kept(office_hours, manager, colleague):
    away.set_away(person=manager, backup=colleague, by=manager, **period())
    with pytest.raises(ValidationError) as refused:
        away.set_away(person=manager, by=manager, **period(starts_at=BACK - DAY, ends_at=BACK + DAY))
    away.set_away(person=manager, by=manager, **period(starts_at=BACK + 7 * DAY, ends_at=BACK + 8 * DAY))

    assert refused.value.messages == [
        "Hana Lee is already away from 2026-11-02 to 2026-11-04: end that period first or choose other dates."]
    assert Away.objects.filter(person=manager).count() == 2


def test_a_lead_sets_it_for_a_member_and_a_member_not_for_a_colleague(office_hours, manager, colleague, lead):
    set_by_lead = away.set_away(person=manager, backup=colleague, by=lead, **period())
    with pytest.raises(ValidationError):
        away.set_away(person=lead, by=colleague, **period())

    assert set_by_lead.set_by == lead
    assert list(Away.objects.values_list("person", flat=True)) == [manager.pk]


def test_ending_a_running_period_keeps_it_as_history_and_a_future_one_is_withdrawn(office_hours, manager):
    running = away.set_away(person=manager, by=manager, **period())
    ahead = away.set_away(person=manager, by=manager, **period(starts_at=BACK + 7 * DAY, ends_at=BACK + 8 * DAY))

    assert away.end_away(away=running, by=manager, now=MONDAY + HOUR).ends_at == MONDAY + HOUR
    assert away.end_away(away=ahead, by=manager, now=MONDAY + HOUR) is None
    assert list(Away.objects.values_list("ends_at", flat=True)) == [MONDAY + HOUR]
    assert away.who_covers(manager, MONDAY + 2 * HOUR) is None


# --- the pages ----------------------------------------------------------------------------------------------


def away_now(manager, colleague=None, *, by=None) -> Away:
    """A period around the real present, for the pages (which read the clock)."""
    from django.utils import timezone

    now = timezone.now()
    return away.set_away(person=manager, starts_at=now - DAY, ends_at=now + 3 * DAY, backup=colleague,
                         by=by or manager, now=now)


def test_the_preferences_page_sets_a_period_with_a_backup(client, office_hours, manager, colleague):
    client.force_login(manager)

    response = client.post(reverse("preferences"), {
        "form": "away", "away-person": manager.pk, "away-starts_on": "2030-03-09", "away-ends_on": "2030-03-11",
        "away-backup": colleague.pk})

    assert response.status_code == 302
    period_set = Away.objects.get()
    assert (period_set.person, period_set.backup, period_set.set_by) == (manager, colleague, manager)
    assert period_set.starts_at == datetime(2030, 3, 9, tzinfo=SEOUL)
    assert period_set.ends_at == datetime(2030, 3, 12, tzinfo=SEOUL)
    page = client.get(reverse("preferences")).content.decode()
    assert "2030-03-09 – 2030-03-11" in page and "Daniel Cho covers" in page
    assert Profile.objects.filter(user=manager).count() == 0  # the digest setting was left alone


def test_the_preferences_page_says_why_a_period_is_refused(client, office_hours, manager):
    client.force_login(manager)

    response = client.post(reverse("preferences"), {
        "form": "away", "away-person": manager.pk, "away-starts_on": "2030-03-11", "away-ends_on": "2030-03-09",
        "away-backup": manager.pk})

    assert response.status_code == 400
    assert "The end of the period must come after its start." in response.content.decode()
    assert not Away.objects.exists()


def test_a_lead_picks_among_the_members_only_and_ends_a_period(client, office_hours, manager, colleague, lead,
                                                               outsider):
    client.force_login(lead)
    page = client.get(reverse("preferences")).content.decode()
    assert "Who is away" in page and "Hana Lee" in page and "Olga Other" not in page

    refused = client.post(reverse("preferences"), {
        "form": "away", "away-person": outsider.pk, "away-starts_on": "2030-03-09", "away-ends_on": "2030-03-11"})
    assert refused.status_code == 400
    period_set = away_now(manager, colleague, by=lead)
    response = client.post(reverse("preferences"), {"form": "end_away", "away": period_set.pk})

    assert response.status_code == 302
    period_set.refresh_from_db()
    assert away.who_covers(manager, period_set.ends_at) is None
    assert client.post(reverse("preferences"), {"form": "end_away", "away": "x"}).status_code == 404


def test_someone_else_cannot_end_my_period(client, office_hours, manager, colleague):
    period_set = away_now(manager, colleague)
    client.force_login(colleague)

    assert client.post(reverse("preferences"), {"form": "end_away", "away": period_set.pk}).status_code == 404


@pytest.mark.parametrize("periods", [1, 12])
def test_the_preferences_page_runs_a_fixed_number_of_queries(client, office_hours, manager, colleague, lead, periods,
                                                             django_assert_max_num_queries):
    from django.utils import timezone

    for n in range(periods):
        start = timezone.now() + (n * 3 - 20) * DAY
        Away.objects.create(person=manager, starts_at=start, ends_at=start + DAY, backup=colleague,
                            created_at=timezone.now())
    client.force_login(lead)

    with django_assert_max_num_queries(11):  # one of them lists the person's API tokens
        response = client.get(reverse("preferences"))

    assert response.status_code == 200
    assert response.content.decode().count("Hana Lee") >= 2


def test_the_issue_page_says_who_covers_while_the_owner_is_away(client, office_hours, customer, manager, colleague,
                                                                 lead):
    from django.utils import timezone

    issue = make_issue(customer=customer, at=timezone.now() - HOUR, owner=manager, by=lead)
    client.force_login(lead)
    assert "is away until" not in client.get(issue.get_absolute_url()).content.decode()

    period_set = away_now(manager, colleague)
    page = client.get(issue.get_absolute_url()).content.decode()

    assert f"Hana Lee is away until {away.shown_until(period_set.ends_at)}; Daniel Cho covers." in page


def test_the_inbox_lists_the_issues_i_cover(client, office_hours, customer, manager, colleague, lead):
    from django.utils import timezone

    hers = make_issue(customer=customer, at=timezone.now() - HOUR, owner=manager, by=lead, title="Hana's export")
    make_issue(customer=customer, at=timezone.now() - HOUR, owner=colleague, by=lead, title="Daniel's own")
    away_now(manager, colleague)

    client.force_login(colleague)
    mine = client.get(reverse("inbox"), {"owner": "covering"}).content.decode()
    client.force_login(lead)
    leads = client.get(reverse("inbox"), {"owner": "covering"}).content.decode()

    assert "Hana&#x27;s export" in mine and "Daniel&#x27;s own" not in mine
    assert "Hana&#x27;s export" not in leads  # Daniel covers, not the lead
    assert "Issues I cover" in mine
    assert hers.pk


def test_the_inbox_shows_the_lead_what_they_cover_when_there_is_no_backup(client, office_hours, customer, manager,
                                                                          lead):
    from django.utils import timezone

    make_issue(customer=customer, at=timezone.now() - HOUR, owner=manager, by=lead, title="Hana's export")
    away_now(manager)
    client.force_login(lead)

    assert "Hana&#x27;s export" in client.get(reverse("inbox"), {"owner": "covering"}).content.decode()


def test_a_team_of_another_lead_is_not_mine_to_cover(client, office_hours, customer, manager, lead):
    from django.utils import timezone

    other_lead = UserFactory(username="other-lead")
    TeamFactory(name="Retail", lead=other_lead).members.add(manager)
    make_issue(customer=customer, at=timezone.now() - HOUR, owner=manager, by=lead, title="Hana's export")
    away_now(manager)
    client.force_login(other_lead)

    assert "Hana&#x27;s export" not in client.get(reverse("inbox"), {"owner": "covering"}).content.decode()

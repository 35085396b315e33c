"""Every URL of the project, for every kind of person, by GET and by POST, on another team's objects.

The URL list comes from the resolver, so a new URL without an entry in ACCESS fails this test until
someone decides who may use it. Outsiders get 404 (never a 403 or a 200 that confirms the object exists),
anonymous visitors are sent to log in, GET changes nothing, and a POST without a CSRF token is refused.
The API (/api/) is the same matrix through each person's token: no token is a 401, never a login page, and a
browser's session opens nothing there.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db.models import Max
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from inbound.models import InboundAttachment, InboundMessage
from issues.models import Breach, Contact, Issue, IssueEvent, Undo
from notifications.links import customer_page_token, unsubscribe_token
from notifications.models import OutboundEmail
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    TeamFactory,
    UserFactory,
    make_api_token,
    make_issue,
)

pytestmark = pytest.mark.django_db

# Who may use each URL. Object URLs name an object of "their" team (the team the outsider is not in).
PUBLIC, SIGNED_IN, ISSUE, CUSTOMER, LEADS, ADMIN = "public", "signed in", "issue", "customer", "leads", "admin"
BULK = "issues named in the form"
OWN = "one's own undo"
INBOUND = "an email of their team's"
DEBUG_ONLY = "the development mailbox, only while DEBUG is on"
# The customer's page: no login; whoever holds the contact's signed link, whatever else they are (portal.access).
LINK = "whoever holds the contact's signed link"
ACCESS = {
    "healthz": PUBLIC, "login": PUBLIC, "logout": PUBLIC, "set_language": PUBLIC, "unsubscribe": PUBLIC,
    "admin:login": PUBLIC, "admin:logout": PUBLIC,
    "inbox": SIGNED_IN, "issue_new": SIGNED_IN, "issue_bulk": BULK, "customer_list": SIGNED_IN,
    "preferences": SIGNED_IN, "saved_view_save": SIGNED_IN, "saved_view_delete": SIGNED_IN,
    "issue_detail": ISSUE, "issue_update": ISSUE, "issue_note": ISSUE, "issue_acknowledge": ISSUE,
    "issue_assign": ISSUE, "issue_severity": ISSUE, "issue_status": ISSUE, "issue_resolve": ISSUE,
    "issue_reopen": ISSUE, "issue_recipients": ISSUE, "issue_deadline": ISSUE, "customer_detail": CUSTOMER,
    "issue_compose": ISSUE, "undo": OWN,
    "dashboard": LEADS, "dashboard_breaches_csv": LEADS, "dashboard_owners_csv": LEADS,
    "dashboard_ratings_csv": LEADS,
    "inbound_unmatched": SIGNED_IN, "inbound_attach": INBOUND, "inbound_open": INBOUND, "inbound_discard": INBOUND,
    "inbound_original": INBOUND, "inbound_attachment": INBOUND,
    "dev_mailbox": DEBUG_ONLY, "dev_new": DEBUG_ONLY, "dev_answer": DEBUG_ONLY,
    "portal:issue": LINK, "portal:issues": LINK, "portal:answer": LINK, "portal:deadline": LINK,
    "portal:solved": LINK, "portal:not_solved": LINK, "portal:rate": LINK, "portal:fresh_link": PUBLIC,
}
# The API: the same decisions, through a token (its schema, its docs and its unknown addresses are for anyone).
API_SIGNED_IN, API_ISSUE, API_CUSTOMER, API_LEADS = "API: any token", "API: issue", "API: customer", "API: leads"
API_KINDS = {API_SIGNED_IN, API_ISSUE, API_CUSTOMER, API_LEADS}
ACCESS |= {
    "api:openapi-json": PUBLIC, "api:openapi-view": PUBLIC, "api:api-root": PUBLIC, "api_not_found": PUBLIC,
    "api:list_issues": API_SIGNED_IN, "api:open_issue": API_SIGNED_IN, "api:list_customers": API_SIGNED_IN,
    "api:get_issue": API_ISSUE, "api:acknowledge_issue": API_ISSUE, "api:assign_issue": API_ISSUE,
    "api:change_severity": API_ISSUE, "api:change_status": API_ISSUE, "api:post_update": API_ISSUE,
    "api:resolve_issue": API_ISSUE, "api:reopen_issue": API_ISSUE,
    "api:get_customer": API_CUSTOMER, "api:get_dashboard": API_LEADS,
}
ROLES = ["anonymous", "outsider", "member", "lead", "superuser"]


def url_patterns(patterns=None, prefix: str = "", namespace: str | None = None):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield (f"{namespace}:{pattern.name}" if namespace else str(pattern.name)), prefix + str(pattern.pattern)


@pytest.fixture(autouse=True)
def no_throttle_counts():
    """The customer pages count requests in the cache (portal.throttle): each test starts from none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world():
    """Their team (lead, member, customer, contact, an open issue) and an outsider in another team."""
    lead, member = UserFactory(username="their-lead"), UserFactory(username="their-member")
    team = TeamFactory(name="Their team", lead=lead)
    team.members.add(member)
    customer = CustomerFactory(name="Their customer", code="THEIRS", slug="theirs", team=team,
                               account_manager=member)
    contact = ContactFactory(customer=customer, email="them@theirs.example.com")
    issue = make_issue(customer=customer, at=customer.created_at, severity="red", owner=member, reporter=contact,
                       title="Their secret issue")
    outsider = UserFactory(username="outsider")
    TeamFactory(name="Our team", lead=UserFactory(username="our-lead")).members.add(outsider)
    people = {"outsider": outsider, "member": member, "lead": lead,
              "superuser": UserFactory(username="root", is_superuser=True, is_staff=True)}
    # The member's quick action, still undoable (nothing in it: undoing it changes nothing else).
    undo = Undo.objects.create(cause="world", action="acknowledge", actor=member, at=customer.created_at,
                               expires_at=timezone.now() + timedelta(hours=1), changes={"issues": {}})
    message = InboundMessage.objects.create(
        key="mid:their-secret@theirs.example.com", source="pipe", raw=b"Subject: Their secret issue\n\nHi",
        size=30, received_at=customer.created_at, sender="stranger@theirs.example.com", subject="Their secret issue",
        outcome="unmatched", team=team)
    attachment = InboundAttachment.objects.create(message=message, filename="secret.pdf",
                                                  content_type="application/pdf", size=3, data=b"pdf")
    tokens = {role: make_api_token(person, name=f"{role}'s token") for role, person in people.items()}
    return {"issue": issue, "customer": customer, "contact": contact, "team": team, "people": people, "tokens": tokens,
            "message": message, "attachment": attachment, "email": OutboundEmail.objects.filter(contact=contact).first(),
            "undo": undo}


def address(template: str, world: dict) -> str:
    """Fill a URL pattern's parameters with their team's objects."""
    values = {"<id:pk>": world["issue"].pk, "<slug:slug>": world["customer"].slug,
              "<str:token>": unsubscribe_token(world["contact"].pk, world["contact"].email), "<path:object_id>": world["issue"].pk,
              "<int:content_type_id>": 1, "<path:object_id>/": f"{world['issue'].pk}/", "<app_label>": "issues",
              "<url>": "", "<id:id>": world["issue"].pk, "(?P<rest>.*)": "no-such-address"}
    path = "/" + template.lstrip("^").rstrip("$")
    if path.startswith("/c/"):
        contact = world["contact"]
        values["<str:token>"] = customer_page_token(world["issue"].pk, contact.pk, address=contact.email,
                                                    generation=contact.page_links_generation)
    if path.startswith("/inbound/attachments/"):
        values["<id:pk>"] = world["attachment"].pk
    elif path.startswith("/inbound/"):
        values["<id:pk>"] = world["message"].pk
    elif path.startswith("/undo/"):
        values["<id:pk>"] = world["undo"].pk
    elif path.startswith("/dev/mailbox/"):
        values["<id:pk>"] = world["email"].pk if world["email"] else 1
    for placeholder, value in values.items():
        path = path.replace(placeholder, str(value))
    if "dashboard" in path:
        path += f"?team={world['team'].pk}"
    return path


def client_for(role: str, world: dict, *, csrf: bool = False, api: bool = False) -> Client:
    """A browser signed in as the role; for the API, a program with the role's token (and no session)."""
    if api:
        headers = {} if role == "anonymous" else {"Authorization": f"Bearer {world['tokens'][role]}"}
        return Client(enforce_csrf_checks=csrf, headers=headers)
    client = Client(enforce_csrf_checks=csrf)
    if role != "anonymous":
        client.force_login(world["people"][role])
    return client


def send(client: Client, method: str, path: str, data: dict, *, api: bool):
    if method == "GET":
        return client.get(path)
    return client.post(path, "{}", content_type="application/json") if api else client.post(path, data)


def kind_of(name: str) -> str | None:
    """The admin's own pages are all behind its staff login; every other URL needs a decision here."""
    if name in ACCESS:
        return ACCESS[name]
    return ADMIN if name.startswith("admin:") else None


def expected(kind: str, role: str, method: str, status: int, location: str) -> bool:
    to_login = status == 302 and location.startswith("/accounts/login/")
    if kind == ADMIN:
        return (status == 302 and "/admin/login/" in location) if role != "superuser" else status < 500
    if kind == PUBLIC:
        return status < 500 and status != 403
    if kind == LINK:
        return status in (200, 302, 400, 405)  # the link is the key: no login, for anyone who holds it
    if kind in API_KINDS:
        return api_expected(kind, role, status)
    if role == "anonymous":
        return to_login
    if status in (403, 500):
        return False
    if kind == DEBUG_ONLY:
        return status == 404  # the suite runs with DEBUG off, as production does
    if kind == SIGNED_IN:
        return status in (200, 302, 400, 405)
    if kind == BULK and method == "GET":
        return status == 405  # no object in the address: nothing to confirm or deny
    forbidden = role == "outsider" or (kind == LEADS and role == "member") or (kind == OWN and role != "member")
    if forbidden:
        return status == 404
    return status in (200, 302, 400, 405)


def api_expected(kind: str, role: str, status: int) -> bool:
    """No token: 401. Someone else's object: 404. Otherwise an answer: done, refused as invalid, or the address
    does not take the method (405, said of the address whatever the object or token). Never 403: these tokens
    write."""
    if role == "anonymous":
        return status in (401, 405)
    if status in (401, 403) or status >= 500:
        return False
    forbidden = (role == "outsider" and kind != API_SIGNED_IN) or (kind == API_LEADS and role == "member")
    if forbidden:
        return status in (404, 405)
    return status in (200, 201, 405, 409, 422)


def state() -> tuple:
    """Everything a stray GET could change."""
    return (Issue.objects.aggregate(Max("updated_at")), IssueEvent.objects.count(), OutboundEmail.objects.count(),
            Breach.objects.count(), list(Contact.objects.values_list("pk", "receives_updates")),
            list(Issue.objects.values_list("pk", "status", "severity", "owner")))


def test_every_url_has_a_decision_in_the_matrix():
    undecided = [name for name, _ in url_patterns() if kind_of(name) is None]

    assert not undecided, f"decide who may use these URLs in ACCESS: {undecided}"


def test_every_url_answers_every_role_as_the_matrix_says_and_no_get_changes_anything(world):
    failures = []
    for name, template in url_patterns():
        kind = kind_of(name)
        path = address(template, world)
        roles = ROLES if kind != ADMIN else ["anonymous", "outsider", "member", "lead"]
        for role in roles:
            client = client_for(role, world, api=kind in API_KINDS)
            methods = ["GET"] if name == "logout" else ["GET", "POST"]  # logging out is a POST's one effect
            for method in methods:
                data = {"issues": [world["issue"].pk], "action": "acknowledge"} if name == "issue_bulk" else {}
                before = state()
                response = send(client, method, path, data, api=kind in API_KINDS)
                if not expected(kind, role, method, response.status_code, response.get("Location", "")):
                    failures.append((name, role, method, response.status_code, response.get("Location", "")))
                if method == "GET" and state() != before:
                    failures.append((name, role, "GET changed something", response.status_code, ""))
    assert not failures, "\n".join(map(str, failures))


def test_no_answer_to_an_outsider_mentions_their_issue(world):
    secret = world["issue"].title
    for name, template in url_patterns():
        if kind_of(name) in (ADMIN, PUBLIC, LINK):  # the link is the key, whoever holds it (tested below)
            continue
        outsider = client_for("outsider", world, api=kind_of(name) in API_KINDS)
        for response in (outsider.get(address(template, world)), outsider.get(address(template, world) + "?q=secret")):
            assert secret not in response.content.decode(errors="replace"), name


def test_a_post_without_the_csrf_token_is_refused_everywhere_but_the_one_click_unsubscribe(world):
    """The API reads no cookie: there a browser's POST is refused as unauthenticated, or the address takes no POST."""
    accepted, api_refusals = [], 0
    for name, template in url_patterns():
        if name.startswith("admin:") or name == "unsubscribe":
            continue
        path = address(template, world)
        for role in ("anonymous", "member"):
            response = client_for(role, world, csrf=True).post(path, {})
            refused = (401, 404, 405) if path.startswith("/api/") else (403,)
            if response.status_code not in refused:
                accepted.append((name, role, response.status_code))
            api_refusals += path.startswith("/api/")
    assert not accepted, accepted
    assert api_refusals >= 30


def test_a_customer_page_link_that_was_tampered_with_opens_nothing_for_anyone(world):
    """A 404 by the method the page answers (the other is a 405 whatever the link), never the issue's title."""
    found, dead = [], set()
    for name, template in url_patterns():
        if kind_of(name) != LINK:
            continue
        genuine = address(template, world)
        token = genuine.split("/")[2]
        forged = genuine.replace(token, token[:-1] + ("b" if token.endswith("a") else "a"))
        for role in ROLES:
            for method in ("GET", "POST"):
                client = client_for(role, world)
                response = client.get(forged) if method == "GET" else client.post(forged, {})
                if response.status_code not in (404, 405) or world["issue"].title in response.content.decode():
                    found.append((name, role, method, response.status_code))
                if response.status_code == 404:
                    dead.add(name)
    assert not found, found
    assert dead == {name for name, _ in url_patterns() if kind_of(name) == LINK}

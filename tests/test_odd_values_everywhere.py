"""Every URL of the resolver, with odd values in every place it reads one, never answers 500.

The URL list is the access matrix's (tests/test_access_matrix.py): a new URL fails
``test_every_url_says_what_it_reads`` until someone lists the query parameters it reads and the form it
accepts in CASES. Then each path argument and each query parameter gets every ODD value, as a team member
and as the team's lead (the admin's pages as a superuser); each form field gets every ODD value from one
of the two in turn; and no answer may be a server error, including one that happens while a CSV streams.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.test_access_matrix import address, url_patterns, world  # noqa: F401  (world is a fixture)

pytestmark = pytest.mark.django_db

# What the penetration test tried: digits of other scripts, ids beyond 64 bits, -1, 0, nothing, invisible
# text, NUL (raw and escaped), a path climb, the calendar's first and last day, a very long value.
ODD = ["²", "٣５", str(2**64), "-1", "0", "", "\u200b\u3164", "\x00", "%00", "../", "0001-01-01", "9999-12-31",
       "x" * 3000]


@dataclass(frozen=True)
class Case:
    """What one URL reads. `reads`: its query parameters, in groups read by one form (which checks each
    field on its own, so a group's parameters can be odd together). `posts`: it takes a form, whose
    fields (valid_forms) are made odd one at a time so the others pass and the odd one reaches the service."""

    reads: tuple[tuple[str, ...], ...] = ()
    posts: bool = False
    fresh_client: bool = False  # the POST changes who is signed in or the language: a client of its own


def valid_forms(world: dict) -> dict[str, dict[str, str]]:
    issue, member = world["issue"], world["people"]["member"]
    return {
        "issue_compose": {"compose-audience": "public", "compose-body": "We are on it.",
                          "compose-promised_update_at": "", "compose-then": "keep", "compose-token": ""},
        "undo": {"next": "/"},
        "issue_update": {"update-body": "We are on it.", "update-promised_update_at": "", "update-token": ""},
        "issue_note": {"note-body": "Checked the logs.", "note-token": ""},
        "issue_assign": {"assign-owner": str(member.pk), "assign-seen": str(member.pk)},
        "issue_severity": {"severity-severity": "orange", "severity-seen": issue.severity},
        "issue_status": {"status-status": "in_progress", "status-seen": issue.status},
        "issue_resolve": {"resolve-body": "Replaced the fuser."},
        "issue_recipients": {"recipients-cc": str(world["contact"].pk)},
        "issue_deadline": {"deadline-customer_deadline": "2099-01-01T10:00", "deadline-seen": ""},
        "issue_bulk": {"issues": str(issue.pk), "action": "severity", "severity": "orange", "owner": "",
                       "filters": "severity=red"},
        "issue_new": {"customer": str(world["customer"].pk), "reporter": str(world["contact"].pk), "title": "Jam",
                      "description": "Paper jam.", "severity": "blue", "owner": "", "token": ""},
        "preferences": {"receives_digest": "on"},
        "saved_view_save": {"name": "Mine", "query": "owner=me"},
        "saved_view_delete": {},
        "set_language": {"language": "ko", "next": "/"},
        "login": {"username": "their-member", "password": "wrong", "next": "/"},
        "logout": {"next": "/"},
        "unsubscribe": {"receives_updates": "on"},
        # The path's id names an inbound message (the world's issue id: none here, but the form is read first).
        "inbound_attach": {f"m{issue.pk}-reference": issue.reference},
        "inbound_open": {f"m{issue.pk}-customer": str(world["customer"].pk)},
        "inbound_discard": {"discard": "yes"},
        "dev_new": {"contact": str(world["contact"].pk), "subject": "Jam", "body": "Paper jam."},
        "dev_answer": {f"e{issue.pk}-body": "Thanks."},
        "portal:answer": {"body": "Here is the log.", "token": ""},
        "portal:deadline": {"deadline": "2030-01-01", "token": ""},
        "portal:fresh_link": {"email": "them@theirs.example.com"},
        "portal:solved": {"solved-token": ""},
        "portal:not_solved": {"not_solved-words": "Still jams.", "not_solved-token": ""},
        "portal:rate": {"rating-score": "4", "rating-comment": "Quick.", "rating-token": ""},
    }


FIELDLESS = {"issue_acknowledge", "issue_reopen"}  # their forms carry only the CSRF token
INBOX_FILTERS = ("severity", "status", "owner", "customer", "team", "clock", "q", "page")
CASES: dict[str, Case] = {
    "healthz": Case(),
    "login": Case(reads=(("next",),), posts=True, fresh_client=True),
    "logout": Case(reads=(("next",),), posts=True, fresh_client=True),
    "set_language": Case(reads=(("next",),), posts=True, fresh_client=True),
    "unsubscribe": Case(posts=True),
    "inbox": Case(reads=(INBOX_FILTERS,)),
    "issue_new": Case(reads=(("customer",),), posts=True),
    "issue_bulk": Case(posts=True),
    "issue_detail": Case(reads=(("compose", "then"),)),
    "issue_compose": Case(posts=True),
    "undo": Case(posts=True),
    "issue_update": Case(posts=True),
    "issue_note": Case(posts=True),
    "issue_acknowledge": Case(posts=True),
    "issue_assign": Case(posts=True),
    "issue_severity": Case(posts=True),
    "issue_status": Case(posts=True),
    "issue_resolve": Case(posts=True),
    "issue_reopen": Case(posts=True),
    "issue_recipients": Case(posts=True),
    "issue_deadline": Case(posts=True),
    "customer_list": Case(),
    "customer_detail": Case(),
    "dashboard": Case(reads=(("team",), ("customers",))),
    "dashboard_breaches_csv": Case(reads=(("team",), ("first", "last"))),
    "dashboard_owners_csv": Case(reads=(("team",),)),
    "dashboard_ratings_csv": Case(reads=(("team",), ("first", "last"))),
    "preferences": Case(posts=True),
    "saved_view_save": Case(posts=True),
    "saved_view_delete": Case(posts=True),
    "inbound_unmatched": Case(),
    "inbound_attach": Case(posts=True),
    "inbound_open": Case(posts=True),
    "inbound_discard": Case(posts=True),
    "inbound_original": Case(),
    "inbound_attachment": Case(),
    "dev_mailbox": Case(),
    "dev_new": Case(posts=True),
    "dev_answer": Case(posts=True),
    "portal:issue": Case(),
    "portal:issues": Case(),
    "portal:answer": Case(posts=True),
    "portal:deadline": Case(posts=True),
    "portal:fresh_link": Case(posts=True),
    "portal:solved": Case(posts=True),
    "portal:not_solved": Case(posts=True),
    "portal:rate": Case(posts=True),
}


# The admin's pages: a change list reads its search, ordering, page, filters and date drill-down; an
# object's page reads where it was reached from. Our apps' admins get every one; Django's and the
# libraries' (groups, django-axes) get the same guards (issues.admin.OddInputGuards), walked by path only.
OUR_APPS = ("issues", "notifications", "auth_user")
OBJECT_PAGE_READS = ("_to_field", "_popup", "_changelist_filters")


def admin_reads(name: str, superuser) -> tuple[tuple[str, ...], ...]:
    """Groups of parameters sent together (each group with each odd value): the drill-down's year on its
    own, since a bad month or day would stop Django before it reads the year."""
    if not name.startswith(tuple(f"admin:{app}" for app in OUR_APPS)):
        return ()
    if name.endswith("_change"):
        return (OBJECT_PAGE_READS,)
    for model, model_admin in admin.site._registry.items():
        if name == f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist":
            request = RequestFactory().get("/")
            request.user = superuser
            filters = tuple(parameter for spec in model_admin.get_changelist_instance(request).filter_specs
                            for parameter in spec.expected_parameters())
            hierarchy = model_admin.date_hierarchy
            drill_down = ((f"{hierarchy}__year",), (f"{hierarchy}__year", f"{hierarchy}__month",
                                                     f"{hierarchy}__day")) if hierarchy else ()
            return (("q", "o", "p", "_to_field", *filters), *drill_down)
    return ()


def case_of(name: str) -> Case | None:
    """The admin's pages are walked by path; so is the API (/api/), which reads a token, not a session: here each
    odd address answers 401 or 404, and tests/api/test_schema.py sends it odd values everywhere with a token."""
    if name.startswith(("admin:", "api:")) or name == "api_not_found":
        return Case()
    return CASES.get(name)


@dataclass
class Walk:
    """Sends the requests and keeps every server error (and every error while a response streams)."""

    requests: int = 0
    errors: list[tuple] = field(default_factory=list)

    def send(self, client: Client, method: str, path: str, data: dict, *, label: tuple) -> None:
        self.requests += 1
        response = client.get(path, data) if method == "GET" else client.post(path, data)
        try:
            if response.streaming:
                b"".join(response.streaming_content)
        except Exception as error:  # noqa: BLE001  a stream that breaks is the finding
            self.errors.append((*label, f"while streaming: {error!r}"))
            return
        if response.status_code >= 500:
            self.errors.append((*label, response.status_code))


def clients(world: dict) -> dict[str, Client]:
    signed_in = {}
    for role in ("member", "lead", "superuser"):
        client = Client(raise_request_exception=False)
        client.force_login(world["people"][role])
        signed_in[role] = client
    return signed_in


def odd_paths(template: str, world: dict) -> list[tuple[str, str]]:
    """The URL with each odd value in all of its path arguments (quoted as a browser would)."""
    placeholders = [part.split(">")[0] for part in template.split("<")[1:]]
    paths = []
    for value in ODD:
        odd = template
        for placeholder in placeholders:
            odd = odd.replace(f"<{placeholder}>", quote(value, safe="") or "%20")
        paths.append((value, address(odd, world)))
    return paths


def test_every_url_says_what_it_reads():
    unlisted = [name for name, _ in url_patterns() if case_of(name) is None]

    assert not unlisted, f"list the query parameters and the form of these URLs in CASES: {unlisted}"


def test_no_odd_value_anywhere_gets_a_server_error(world):
    people, forms, walk = clients(world), valid_forms(world), Walk()
    assert {name for name, case in CASES.items() if case.posts} == set(forms) | FIELDLESS
    for name, template in url_patterns():
        case, in_admin = case_of(name), name.startswith("admin:")
        if case is None:
            continue  # test_every_url_says_what_it_reads names it
        path = address(template, world).partition("?team=")[0]
        base = {"team": str(world["team"].pk)} if name.startswith("dashboard") else {}
        roles = ["superuser"] if in_admin else ["member", "lead"]
        for role in roles:
            if "<" in template:
                for value, odd_path in odd_paths(template, world):
                    walk.send(people[role], "GET", odd_path, {}, label=(name, role, "path", value))
            for group in admin_reads(name, world["people"]["superuser"]) if in_admin else case.reads:
                for value in ODD:
                    walk.send(people[role], "GET", path, {**base, **dict.fromkeys(group, value)},
                              label=(name, role, "&".join(group), value))
        if case.posts:
            post_odd_forms(walk, name, path, case, forms.get(name, {}), world, people, roles)

    assert walk.requests > 2000, walk.requests
    assert not walk.errors, "\n".join(map(repr, walk.errors))


def post_odd_forms(walk: Walk, name: str, path: str, case: Case, valid: dict, world: dict,
                   people: dict[str, Client], roles: list[str]) -> None:
    """The valid form with one field odd at a time; the roles take the odd values in turn (the form and
    the service treat a member and the lead alike). A form without fields is sent once, empty."""
    sends = [(form_field, value, {**valid, form_field: value}) for form_field in valid for value in ODD]
    for turn, (form_field, value, data) in enumerate(sends or [("", "", {})]):
        role = roles[turn % len(roles)]
        sender = people[role]
        if case.fresh_client:
            sender = Client(raise_request_exception=False)
            if name != "login":
                sender.force_login(world["people"][role])
        walk.send(sender, "POST", path, data, label=(name, role, f"POST {form_field}", value))


def test_the_walk_finds_a_server_error_where_there_is_one(world, monkeypatch):
    """The walk is worth its requests only if it notices: a view that fails on one odd value fails it."""
    from issues.views import dashboard

    original = dashboard.chosen_team

    def fails_on_superscripts(request):
        if "²" in request.GET.get("team", ""):
            raise ValueError("²")
        return original(request)

    monkeypatch.setattr(dashboard, "chosen_team", fails_on_superscripts)
    walk = Walk()
    lead = clients(world)["lead"]
    for value in ODD:
        walk.send(lead, "GET", reverse("dashboard"), {"team": value}, label=("dashboard", "lead", "team", value))

    assert walk.requests == len(ODD)
    assert walk.errors == [("dashboard", "lead", "team", "²", 500)]

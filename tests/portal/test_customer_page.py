"""The customer's own page, reached by the signed link in every email to them: stories of Grace, Acme's contact.

She reads the issue, answers it (with files), tells us her deadline, and asks for a fresh link when an old one no
longer works. Whoever holds her link acts as her, so every action is copied to her address; a link that was
tampered with, expired, revoked or sent to an address she no longer has opens nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from inbound.models import InboundAttachment, InboundMessage, Source
from issues import services
from issues.models import Contact, EventKind, Issue, IssueEvent, Status
from notifications.compose import rendered
from notifications.links import customer_page_path
from notifications.models import EmailKind, OutboundEmail
from tests.factories import ContactFactory, UserFactory, make_issue, wait_on_customer

pytestmark = pytest.mark.django_db
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
PAGE_LINK = re.compile(r"https?://[^/\s]+(/c/[^/\s]+/)")


@pytest.fixture(autouse=True)
def fresh_counters():
    """The throttle counts in the cache: each story starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def issue(customer, contact, manager):
    """Grace reported it a day ago; Hana acknowledged it and wrote to her."""
    now = timezone.now()
    issue = make_issue(customer=customer, at=now - DAY, owner=manager, reporter=contact,
                       title="Invoices export times out", description="Since Monday the export never finishes.")
    services.post_update(issue=issue, body="We found a stuck export job and are restarting it.", public=True,
                         by=manager, now=now - DAY + HOUR)
    return issue


def link_in_email(row: OutboundEmail) -> str:
    """The page's address, as the customer finds it in the rendered email (text part)."""
    match = PAGE_LINK.search(rendered(row).body_text)
    assert match, rendered(row).body_text
    return match.group(1)


def grace_link(issue: Issue) -> str:
    row = OutboundEmail.objects.filter(issue=issue, recipient="grace@acme.example.com").order_by("-pk").first()
    return link_in_email(row)


def form_token(response) -> str:
    return re.search(r'name="token" value="([0-9a-f]{32})"', response.content.decode()).group(1)


def state() -> tuple:
    return (list(Issue.objects.values_list("pk", "status", "updated_at", "customer_deadline", "ack_due_at")),
            IssueEvent.objects.count(), OutboundEmail.objects.count(), InboundMessage.objects.count())


# --- reading -------------------------------------------------------------------------------------------


def test_grace_opens_the_link_in_her_email_and_reads_status_owner_next_update_and_the_conversation(issue):
    path = grace_link(issue)

    response = Client().get(path)

    page = response.content.decode()
    assert response.status_code == 200
    assert f"ACME-{issue.pk}" in page and "Invoices export times out" in page
    assert "Acknowledged" in page and "Hana Lee" in page
    assert "Next update promised by" in page and "(KST)" in page
    assert "We found a stuck export job and are restarting it." in page
    assert "Since Monday the export never finishes." in page
    assert response["Referrer-Policy"] == "strict-origin"  # no Referer carries the token in its address
    assert "noindex" in response["X-Robots-Tag"]
    assert "Content-Security-Policy" in response


def test_every_email_to_a_contact_carries_her_own_link_and_each_contact_gets_a_different_one(issue, customer):
    korean = ContactFactory(customer=customer, name="박서연", email="seoyeon@acme.example.com", language="ko",
                            follows_all_issues=True)
    services.post_update(issue=issue, body="Restarted; watching it.", public=True, by=issue.owner)
    rows = {row.recipient: rendered(row) for row in OutboundEmail.objects.filter(kind=EmailKind.PUBLIC_UPDATE)
            .order_by("pk")}

    grace, seoyeon = link_in_email(rows["grace@acme.example.com"]), link_in_email(rows[korean.email])

    assert grace != seoyeon
    assert "이 이슈의 고객님 전용 페이지" in rows[korean.email].body_text
    assert "Your page for this issue" in rows["grace@acme.example.com"].body_html
    assert Client().get(seoyeon).status_code == 200


def test_the_page_speaks_the_contacts_language_and_the_switch_still_works(issue, customer):
    korean = ContactFactory(customer=customer, name="박서연", email="seoyeon@acme.example.com", language="ko",
                            follows_all_issues=True)
    path = customer_page_path(issue.pk, korean.pk, address=korean.email, generation=korean.page_links_generation)
    client = Client()

    assert 'lang="ko"' in client.get(path).content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": path})
    assert 'lang="en"' in client.get(path).content.decode()


def test_internal_notes_staff_lines_and_other_contacts_addresses_never_show(issue, customer, manager):
    colleague = ContactFactory(customer=customer, name="Ada Lovelace", email="ada.secret@acme.example.com",
                               follows_all_issues=True)
    services.post_update(issue=issue, body="Customer is on the legacy plan; no refund.", public=False, by=manager)
    from issues import conversation
    conversation.receive_customer_message(issue=issue, contact=colleague, body="Ada here: still slow.",
                                          subject="Re", at=timezone.now())

    page = Client().get(grace_link(issue)).content.decode()

    assert "legacy plan" not in page
    assert "Ada here: still slow." in page and "Ada Lovelace" in page
    assert "ada.secret@acme.example.com" not in page
    assert "clock" not in page.lower()  # no clock lines, no email bookkeeping
    assert "Email queued" not in page


def test_the_list_shows_the_companys_open_issues_grace_receives_each_with_its_own_link(issue, customer, contact,
                                                                                       manager):
    someone_else = ContactFactory(customer=customer, name="Joan Clarke", email="joan@acme.example.com")
    theirs = make_issue(customer=customer, at=timezone.now(), reporter=someone_else, title="Joan's printer")
    contact.follows_all_issues = False
    contact.save()
    mine = make_issue(customer=customer, at=timezone.now(), reporter=contact, title="Grace's second issue")
    client = Client()

    listing = client.get(grace_link(issue) + "issues/").content.decode()

    assert "Grace&#x27;s second issue" in listing and "Invoices export times out" in listing
    assert "Joan" not in listing
    second = re.search(r'href="(/c/[^"]+/)">Grace', listing).group(1)
    assert client.get(second).status_code == 200
    assert theirs.pk and mine.pk


def test_the_customers_pages_lead_nowhere_staff_go_and_the_brand_leads_to_her_issues(issue, manager):
    path = grace_link(issue)
    staff = Client()
    staff.force_login(manager)  # even a colleague checking her link sees her page, not ours
    pages = {"issue": Client().get(path), "list": Client().get(path + "issues/"),
             "issue-as-staff": staff.get(path), "dead": Client().get("/c/nonsense/"),
             "fresh-link": Client().get("/c/new-link/")}

    for name, response in pages.items():
        links = re.findall(r'href="([^"]*)"', response.content.decode())
        assert links, name  # the walk really read the page's links
        staff_links = [link for link in links if link == "/" or link.startswith(("/accounts/", "/issues/", "/admin/",
                                                                                 "/customers/", "/dashboard/"))]
        assert staff_links == [], name
    assert f'class="navbar-brand fw-semibold" href="{path}issues/"' in pages["issue"].content.decode()
    assert "Log out" not in pages["issue-as-staff"].content.decode()


def test_get_changes_nothing(issue):
    path = grace_link(issue)
    before = state()

    for suffix in ("", "issues/", "answer/", "deadline/"):
        Client().get(path + suffix)

    assert state() == before


# --- answering -----------------------------------------------------------------------------------------


def test_an_answer_ends_the_wait_starts_the_response_clock_tells_the_owner_and_copies_grace(issue, manager):
    wait_on_customer(issue, by=manager)
    path = grace_link(issue)
    client = Client()
    token = form_token(client.get(path))

    response = client.post(path + "answer/", {"body": "Here is the log you asked for.", "token": token})

    assert response.status_code == 302 and response["Location"] == path
    issue.refresh_from_db()
    assert issue.status == Status.IN_PROGRESS
    assert issue.ack_due_at is not None  # a person must answer within the acknowledge window
    message = IssueEvent.objects.get(issue=issue, kind=EventKind.CUSTOMER_MESSAGE)
    assert message.body == "Here is the log you asked for." and message.data["name"] == "Grace Hopper"
    stored = InboundMessage.objects.get(pk=message.data["inbound"])
    assert stored.source == Source.PAGE and stored.contact_id == issue.reporter_id
    assert message.data["via"] == "page"  # Hana's timeline says she wrote on her page, not by email
    (told,) = OutboundEmail.objects.filter(kind=EmailKind.CUSTOMER_MESSAGE)
    assert told.recipient == manager.email
    (copy,) = [rendered(row) for row in OutboundEmail.objects.filter(kind=EmailKind.PAGE_COPY)]
    assert copy.recipient == "grace@acme.example.com"
    assert "Here is the log you asked for." in copy.body_text and "If this wasn't you" in copy.body_text
    page = client.get(path).content.decode()
    assert "Thank you: your answer is on the issue" in page
    assert "Here is the log you asked for." in page
    assert "We answer you by" in page and "Next update promised by" in page


def test_the_same_answer_sent_twice_is_recorded_and_copied_once(issue):
    path = grace_link(issue)
    client = Client()
    token = form_token(client.get(path))

    for _ in range(2):
        assert client.post(path + "answer/", {"body": "Double click.", "token": token}).status_code == 302

    assert IssueEvent.objects.filter(kind=EventKind.CUSTOMER_MESSAGE).count() == 1
    assert OutboundEmail.objects.filter(kind=EmailKind.PAGE_COPY).count() == 1
    assert OutboundEmail.objects.filter(kind=EmailKind.CUSTOMER_MESSAGE).count() == 1


def test_files_go_with_the_answer_and_land_as_its_attachments(issue):
    path = grace_link(issue)
    client = Client()
    files = [SimpleUploadedFile("export.log", b"line 1\nline 2\n", content_type="text/plain"),
             SimpleUploadedFile("화면.png", b"\x89PNG fake", content_type="image/png")]

    client.post(path + "answer/", {"body": "Logs attached.", "token": form_token(client.get(path)), "files": files})

    message = IssueEvent.objects.get(kind=EventKind.CUSTOMER_MESSAGE)
    assert [item["name"] for item in message.data["attachments"]] == ["export.log", "화면.png"]
    assert bytes(InboundAttachment.objects.get(filename="export.log").data) == b"line 1\nline 2\n"
    assert "export.log" in client.get(path).content.decode()


def test_too_many_or_too_large_files_are_refused_clearly_and_the_text_is_kept(issue, settings):
    settings.CUSTOMER_PAGE_MAX_FILES, settings.CUSTOMER_PAGE_MAX_BYTES = 2, 1000
    path = grace_link(issue)
    client = Client()
    before = state()

    many = client.post(path + "answer/", {"body": "Three files.", "token": form_token(client.get(path)),
                                          "files": [SimpleUploadedFile(f"{n}.txt", b"x") for n in range(3)]})
    large = client.post(path + "answer/", {"body": "A big one.", "token": form_token(client.get(path)),
                                           "files": [SimpleUploadedFile("big.bin", b"x" * 1001)]})

    assert many.status_code == large.status_code == 400
    assert "You chose 3 files; at most 2 can go with one answer." in many.content.decode()
    assert "Three files." in many.content.decode()
    assert "the most we take is 1000" in large.content.decode()
    assert "A big one." in large.content.decode()
    assert state() == before


def test_an_empty_answer_is_refused(issue):
    path = grace_link(issue)
    client = Client()

    response = client.post(path + "answer/", {"body": "\u200b ", "token": form_token(client.get(path))})

    assert response.status_code == 400
    assert "Write your answer, or attach a file." in response.content.decode()


def test_an_answer_on_a_closed_issue_opens_a_follow_up_and_grace_lands_on_its_page(issue, manager):
    path = grace_link(issue)
    services.resolve(issue=issue, by=manager, body="Fixed.")
    services.change_status(issue=issue, status=Status.CLOSED, by=manager)
    client = Client()

    response = client.post(path + "answer/", {"body": "It is back.", "token": form_token(client.get(path))})

    follow_up = Issue.objects.get(follows=issue)
    assert response.status_code == 302 and response["Location"] != path
    assert "It is back." in client.get(response["Location"]).content.decode()
    assert follow_up.reporter_id == issue.reporter_id


# --- the deadline ----------------------------------------------------------------------------------------


def test_grace_says_she_needs_it_by_a_day_and_it_is_on_the_timeline_in_her_name_and_copied(issue):
    path = grace_link(issue)
    client = Client()
    day = (timezone.localdate() + timedelta(days=10)).isoformat()

    response = client.post(path + "deadline/", {"deadline": day, "token": form_token(client.get(path))})

    assert response.status_code == 302
    issue.refresh_from_db()
    assert timezone.localtime(issue.customer_deadline).date().isoformat() == day
    assert issue.deadline_warn_at is not None
    event = IssueEvent.objects.get(kind=EventKind.DEADLINE_SET)
    assert event.actor is None and event.data["name"] == "Grace Hopper" and event.public
    (copy,) = [rendered(row) for row in OutboundEmail.objects.filter(kind=EmailKind.PAGE_COPY)]
    assert "that you need it by" in copy.body_text
    page = client.get(path).content.decode()
    assert "Noted: you need this by" in page
    assert "Grace Hopper set the deadline to" in page
    staff = Client()
    staff.force_login(issue.owner)
    assert "Grace Hopper noted that the customer needs this by" in staff.get(f"/issues/{issue.pk}/").content.decode()


def test_a_past_day_is_refused_with_a_clear_message(issue):
    path = grace_link(issue)
    client = Client()
    yesterday = (timezone.localdate() - DAY).isoformat()

    response = client.post(path + "deadline/", {"deadline": yesterday, "token": form_token(client.get(path))})

    assert response.status_code == 400
    assert "That day is over: choose a day in the future." in response.content.decode()
    issue.refresh_from_db()
    assert issue.customer_deadline is None


def test_the_same_deadline_form_sent_twice_is_noted_and_copied_once(issue):
    path = grace_link(issue)
    client = Client()
    token = form_token(client.get(path))
    day = (timezone.localdate() + timedelta(days=10)).isoformat()

    for _ in range(2):
        client.post(path + "deadline/", {"deadline": day, "token": token})

    assert IssueEvent.objects.filter(kind=EventKind.DEADLINE_SET).count() == 1
    assert OutboundEmail.objects.filter(kind=EmailKind.PAGE_COPY).count() == 1


# --- links that open nothing ------------------------------------------------------------------------------


def assert_dead(client: Client, path: str) -> None:
    response = client.get(path)
    page = response.content.decode()
    assert response.status_code == 404
    assert "Invoices export times out" not in page
    assert "Send me a fresh link" in page


def test_a_tampered_link_is_a_404_with_a_way_to_ask_for_a_fresh_one(issue):
    path = grace_link(issue)
    signature = path.rstrip("/").rsplit("-", 1)[1]
    forged = path.replace(signature, ("a" if signature[0] != "a" else "b") + signature[1:])
    other_issue = path.replace(f"/c/{issue.pk}-", f"/c/{issue.pk + 1}-")

    for dead in (forged, other_issue, "/c/nonsense/", f"/c/{issue.pk}-1-{'a' * 26}/"):
        assert_dead(Client(), dead)


def test_a_link_expires_a_set_number_of_days_after_resolution(issue, manager, settings):
    path = grace_link(issue)
    services.resolve(issue=issue, by=manager, body="Fixed.")
    assert Client().get(path).status_code == 200  # still readable after resolution

    Issue.objects.filter(pk=issue.pk).update(
        resolved_at=timezone.now() - timedelta(days=settings.CUSTOMER_PAGE_DAYS_AFTER_RESOLUTION, minutes=1))

    assert_dead(Client(), path)


def test_rotating_the_contacts_links_revokes_every_link_sent_so_far(issue, contact):
    path = grace_link(issue)

    Contact.objects.filter(pk=contact.pk).rotate_page_links()

    assert_dead(Client(), path)
    services.post_update(issue=issue, body="Next news.", public=True, by=issue.owner)
    assert Client().get(grace_link(issue)).status_code == 200  # the next email carries a new one


def test_a_link_sent_to_an_address_the_contact_no_longer_has_is_dead(issue, contact):
    path = grace_link(issue)

    contact.email = "grace.hopper@newacme.example.com"
    contact.save()

    assert_dead(Client(), path)


def test_a_link_for_an_issue_grace_no_longer_receives_is_dead(issue, contact, customer):
    other = ContactFactory(customer=customer, email="joan@acme.example.com")
    issue.reporter = other
    Issue.objects.filter(pk=issue.pk).update(reporter=other)
    path = customer_page_path(issue.pk, contact.pk, address=contact.email, generation=contact.page_links_generation)
    assert Client().get(path).status_code == 200  # she follows all of Acme's issues

    Contact.objects.filter(pk=contact.pk).update(follows_all_issues=False)

    assert_dead(Client(), path)


# --- fresh links ------------------------------------------------------------------------------------------


def test_a_fresh_link_request_sends_once_an_hour_and_says_the_same_for_an_unknown_address(issue):
    client = Client()

    known = [client.post("/c/new-link/", {"email": "Grace@Acme.example.com"}) for _ in range(3)]
    unknown = client.post("/c/new-link/", {"email": "nobody@nowhere.example.com"})

    (email,) = [rendered(row) for row in OutboundEmail.objects.filter(kind=EmailKind.FRESH_LINKS)]
    assert email.recipient == "grace@acme.example.com"
    sentence = "If the address is one we know, fresh links to its issues are on their way to it."
    assert all(sentence in response.content.decode() for response in [*known, unknown])
    assert {response.status_code for response in [*known, unknown]} == {200}
    path = PAGE_LINK.search(email.body_text).group(1)
    assert f"ACME-{issue.pk} Invoices export times out" in email.body_text
    assert Client().get(path).status_code == 200


def test_fresh_links_skip_issues_whose_links_expired(issue, manager, settings):
    services.resolve(issue=issue, by=manager, body="Fixed.")
    Issue.objects.filter(pk=issue.pk).update(resolved_at=timezone.now() - timedelta(days=31))

    Client().post("/c/new-link/", {"email": "grace@acme.example.com"})

    (email,) = [rendered(row) for row in OutboundEmail.objects.filter(kind=EmailKind.FRESH_LINKS)]
    assert "Invoices export times out" not in email.body_text
    assert "You receive no open issue right now." in email.body_text


# --- throttling -------------------------------------------------------------------------------------------


def test_too_many_requests_for_one_link_get_a_429_in_the_products_layout(issue, settings):
    settings.CUSTOMER_PAGE_REQUESTS_PER_LINK = 3
    path = grace_link(issue)
    client = Client()

    statuses = [client.get(path).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.get(path)
    assert "Too many requests" in response.content.decode() and "Inloop" in response.content.decode()
    assert "Invoices export times out" not in response.content.decode()


def test_a_client_guessing_links_is_throttled_by_its_address(issue, settings):
    settings.CUSTOMER_PAGE_REQUESTS_PER_ADDRESS = 5
    client = Client(REMOTE_ADDR="203.0.113.9")

    statuses = [client.get(f"/c/{issue.pk}-1-{str(n) * 26}/").status_code for n in range(2, 8)]

    assert statuses[:5] == [404] * 5 and statuses[5] == 429
    assert Client(REMOTE_ADDR="198.51.100.1").get(grace_link(issue)).status_code == 200


def test_fresh_link_requests_are_throttled_per_client(settings):
    settings.CUSTOMER_PAGE_FRESH_LINKS_PER_HOUR = 2
    client = Client()

    statuses = [client.post("/c/new-link/", {"email": f"x{n}@example.com"}).status_code for n in range(3)]

    assert statuses == [200, 200, 429]


# --- revoking from the admin -------------------------------------------------------------------------------


def test_an_admin_rotates_a_contacts_links_from_the_contact_list(issue, contact):
    path = grace_link(issue)
    admin = Client()
    admin.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))

    admin.post("/admin/issues/contact/", {"action": "rotate_page_links", "_selected_action": [contact.pk]})

    assert_dead(Client(), path)


def test_an_admin_rotates_a_contacts_links_on_the_contact_page(issue, contact, customer):
    path = grace_link(issue)
    admin = Client()
    admin.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    form = {"customer": customer.pk, "name": contact.name, "email": contact.email, "language": "en",
            "receives_updates": "on", "follows_all_issues": "on"}

    admin.post(f"/admin/issues/contact/{contact.pk}/change/", form)
    assert Client().get(path).status_code == 200  # saving the contact alone revokes nothing
    admin.post(f"/admin/issues/contact/{contact.pk}/change/", {**form, "rotate_page_links": "on"})

    assert_dead(Client(), path)


# --- in Korean ---------------------------------------------------------------------------------------------


def test_a_korean_contact_reads_the_copy_of_her_answer_in_korean(issue, customer):
    seoyeon = ContactFactory(customer=customer, name="박서연", email="seoyeon@acme.example.com", language="ko",
                             follows_all_issues=True)
    path = customer_page_path(issue.pk, seoyeon.pk, address=seoyeon.email, generation=seoyeon.page_links_generation)
    client = Client()

    client.post(path + "answer/", {"body": "로그를 보내 드립니다.", "token": form_token(client.get(path))})

    (copy,) = [rendered(row) for row in OutboundEmail.objects.filter(kind=EmailKind.PAGE_COPY)]
    assert copy.recipient == seoyeon.email and copy.language == "ko"
    assert "이슈 페이지에 남기신 글입니다" in copy.subject
    assert "로그를 보내 드립니다." in copy.body_text and "본인이 하신 일이 아니라면" in copy.body_text
    assert "이 이슈의 고객님 전용 페이지" in copy.body_text  # the copy carries her link too


def test_the_page_stays_open_when_the_throttles_cache_does_not_answer(issue):
    path = grace_link(issue)
    unreachable = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                               "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
                               "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}

    with override_settings(CACHES=unreachable):
        assert Client().get(path).status_code == 200

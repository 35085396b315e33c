"""The admin in Korean: a superuser who reads Korean finds no English label anywhere in it.

Every registered model's change list, add page (where adding is allowed) and change page is opened with
Korean active, with the admin's index and each app's page. Every label the admin writes from the code
must read Korean: column headers, filter titles and their fixed choices, actions, form labels, fieldset and
inline titles, help texts, app and model names. The data the pages show (names, addresses, subjects) is
not looked at. A field without a verbose_name, a column or action without a description, or a msgid the
Korean catalogue does not translate shows English here, and the failure names the page and the text.
A newly registered model fails until the walk below has an example of it to open.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import lxml.html
import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.filters import (
    AllValuesFieldListFilter,
    RelatedFieldListFilter,
)
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise

from api.tokens import create_token
from inbound.models import InboundAttachment, InboundMessage
from issues import services
from issues.models import (
    Away,
    Breach,
    BusinessCalendar,
    ClosedDay,
    Feedback,
    IssueEvent,
    Profile,
    SlaPolicy,
    Tier,
    Undo,
)
from notifications.models import OutboundEmail
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    TeamFactory,
    UserFactory,
    make_issue,
)
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 10:00 in Seoul

# Where the admin writes words of its own (from our code, Django's or a library's), by what they are.
LABELS = {
    "heading": "//div[@id='content']/h1",
    "app": "//div[@id='content-main']//caption",
    "model": "//div[@id='content-main']//table//th[@scope='row']",
    "column": "//table[@id='result_list']/thead//th",
    "action": "//select[@name='action']/option[@value != '']",
    "label": "//form//label[not(.//select)]",  # the action bar's label holds its select: options read below
    "fieldset": "//h2[contains(@class, 'fieldset-heading')]",
    "inline": "//h2[contains(@class, 'inline-heading')]",
    "inline column": "//div[contains(@class, 'inline-group')]//thead//th",
    "help": "//div[contains(@class, 'help')]",
}
# Latin words a Korean label may keep: the product's name, a header's name, and the keys Django's own Korean
# names. Acronyms (SLA, ID, HTML, IMAP, HTTP) are written in capitals and always allowed.
KEPT = {"Inloop", "Message-ID", "Accept", "Control", "Command", "Mac", "Single", "Sign-On"}
WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


def english(text: str) -> list[str]:
    return [word for word in WORD.findall(text) if word not in KEPT and not word.isupper()]


def texts(nodes) -> list[str]:
    return [" ".join((node if isinstance(node, str) else node.text_content()).split()).rstrip(":").strip()
            for node in nodes]


def labels(html: str, data_filters: set[str]) -> list[tuple[str, str]]:
    """(what, text) of each label on the page. A filter's choices are labels too, except those of a filter
    over data (a related model, a column's values): there only "All" is ours."""
    tree = lxml.html.fromstring(html)
    found = [(what, text) for what, xpath in LABELS.items() for text in texts(tree.xpath(xpath))]
    for details in tree.xpath("//nav[@id='changelist-filter']//details"):
        title = details.get("data-filter-title")
        choices = texts(details.xpath(".//li/a"))
        found += [("filter", title)] + [("filter choice", text) for text in
                                        (choices[:1] if title in data_filters else choices)]
    return [(what, text) for what, text in found if text]


@pytest.fixture
def superuser():
    user = UserFactory(username="root", first_name="민준", last_name="박", is_superuser=True, is_staff=True)
    Profile.objects.create(user=user, language="ko")
    return user


@pytest.fixture
def korean_admin(client: Client, superuser) -> Client:
    client.force_login(superuser)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    return client


@pytest.fixture
def everything(superuser):
    """One of each thing the admin lists, in Korean where it is data: a team with its calendar, tier and
    policies, a customer and contact, an issue with its timeline, emails, a breach, an away period, an
    undo, the contact's feedback, an inbound email with an attachment, a group, and the login throttle's
    records."""
    lead = UserFactory(username="jisoo", first_name="지수", last_name="김")
    calendar = BusinessCalendar.objects.create(name="서울 사무소", **{f"{day}_{edge}": time(hour) for day in
                                               ("mon", "tue", "wed", "thu", "fri")
                                               for edge, hour in (("opens", 9), ("closes", 18))})
    ClosedDay.objects.create(calendar=calendar, date=date(2026, 12, 31), name="종무식")
    tier = Tier.objects.create(name="프리미엄")
    SlaPolicy.objects.create(tier=tier, severity="red", acknowledge_within=timedelta(minutes=30),
                             update_every=timedelta(hours=12))
    team = TeamFactory(name="기업 지원팀", lead=lead, calendar=calendar)
    customer = CustomerFactory(name="한빛은행", code="HANBIT", slug="hanbit", team=team, account_manager=lead,
                               tier=tier, language="ko")
    contact = ContactFactory(customer=customer, name="박서연", email="seoyeon@hanbit.example.kr", language="ko")
    issue = make_issue(customer=customer, at=T0, severity="red", reporter=contact, owner=lead, title="이체 지연")
    services.post_update(issue=issue, body="원인을 찾고 있습니다.", public=True, by=lead, now=T0 + timedelta(minutes=20))
    Breach.objects.create(issue=issue, clock="acknowledge", severity="red", cycle_started_at=T0,
                          due_at=T0 + timedelta(hours=1), breached_at=T0 + timedelta(hours=1))
    Away.objects.create(person=lead, starts_at=T0, ends_at=T0 + timedelta(days=3), created_at=T0, set_by=lead)
    undo = Undo.objects.create(cause=f"acknowledge:{lead.pk}:{T0:%s}:{issue.pk}", action="acknowledge", actor=lead,
                               at=T0, expires_at=T0 + timedelta(seconds=10), undone_at=T0 + timedelta(seconds=4))
    undo.issues.add(issue)
    Feedback.objects.create(issue=issue, contact=contact, resolved_at=T0 + timedelta(hours=2), owner=lead, solved=True,
                            score=5, comment="빠르게 해결해 주셔서 감사합니다.", created_at=T0 + timedelta(hours=3),
                            updated_at=T0 + timedelta(hours=3))
    message = InboundMessage.objects.create(
        key="mid:answer@hanbit.example.kr", source="imap", raw=b"Subject: Re\n\nHi", size=17, received_at=T0,
        sender="seoyeon@hanbit.example.kr", sender_name="박서연", subject="답장", text="감사합니다.",
        outcome="customer_message", issue=issue, contact=contact, team=team)
    InboundAttachment.objects.create(message=message, filename="log.txt", content_type="text/plain", size=3,
                                     data=b"log")
    endpoint = Endpoint.objects.create(name="운영 채널", url="https://hooks.example.kr/ops", format="teams",
                                       language="ko", team=team, events=["issue.opened"])
    Delivery.objects.create(endpoint=endpoint, event_type="issue.opened", dedupe_key="issue.opened:ko:1",
                            payload={"type": "issue.opened"}, next_attempt_at=T0, created_at=T0)
    create_token(user=lead, name="모니터링", read_only=True, now=T0)
    Group.objects.create(name="관리자")
    seen = {"user_agent": "Mozilla/5.0", "ip_address": "192.0.2.1", "username": "root", "http_accept": "*/*",
            "path_info": "/admin/login/"}
    AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**seen)
    AccessFailureLog.objects.create(**seen, locked_out=False)


def data_filters(model_admin, user) -> set[str]:
    """The titles, in Korean, of the change list's filters whose choices are data."""
    request = RequestFactory().get("/")
    request.user = user
    with translation.override("ko"):
        changelist = model_admin.get_changelist_instance(request)
        return {str(spec.title) for spec in changelist.filter_specs
                if isinstance(spec, RelatedFieldListFilter | AllValuesFieldListFilter)}


def pages(user) -> list[tuple[str, set[str]]]:
    """Every page to read, with the data filters of its change list."""
    request = RequestFactory().get("/")
    request.user = user
    found = [(reverse("admin:index"), set())]
    found += [(reverse("admin:app_list", args=[label]), set())
              for label in sorted({model._meta.app_label for model in admin.site._registry})]
    for model, model_admin in admin.site._registry.items():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        found.append((reverse(f"{name}_changelist"), data_filters(model_admin, user)))
        if model_admin.has_add_permission(request):
            found.append((reverse(f"{name}_add"), set()))
        example = model._default_manager.order_by("pk").first()
        if example is not None:
            found.append((reverse(f"{name}_change", args=[example.pk]), set()))
    return found


def test_every_registered_model_has_an_example_to_open(everything, superuser):
    missing = [model._meta.label for model in admin.site._registry if not model._default_manager.exists()]

    assert not missing, f"add an example of these to the `everything` fixture: {missing}"


def test_a_superuser_reading_korean_finds_no_english_in_the_admin(korean_admin, everything, superuser):
    seen, left_english = 0, set()
    for url, filters_over_data in pages(superuser):
        response = korean_admin.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Language"] == "ko", url
        for what, text in labels(response.content.decode(), filters_over_data):
            seen += 1
            if english(text):
                left_english.add(f"{url} {what}: {text}")

    # Up to three pages for each registered model, each with many labels: reading nothing cannot pass.
    assert seen > 20 * len(admin.site._registry), seen
    assert not left_english, "English left in the Korean admin:\n" + "\n".join(sorted(left_english))


def test_events_emails_and_breaches_are_named_in_korean_not_by_their_stored_codes(korean_admin, everything):
    """An admin page titles a row by what it is: "공개 업데이트", never "public_update"."""
    update = IssueEvent.objects.get(kind="public_update")
    rows = {update: ("public_update", "public update"),
            OutboundEmail.objects.filter(kind="public_update").first(): ("public_update", "status update"),
            Breach.objects.get(): ("acknowledge", "acknowledge")}

    for row, (code, label) in rows.items():
        page = korean_admin.get(reverse(f"admin:{row._meta.app_label}_{row._meta.model_name}_change", args=[row.pk]))
        crumbs = lxml.html.fromstring(page.content.decode()).xpath("//div[contains(@class, 'breadcrumbs')]")
        with translation.override("ko"):
            korean = translation.gettext(label)
        assert korean != label  # the catalogue says it in Korean: the check below means something
        assert korean in crumbs[0].text_content(), row
        assert code not in crumbs[0].text_content(), row


def test_the_walk_finds_a_label_left_in_english(korean_admin, everything, superuser, monkeypatch):
    """The check above, shown to work: a field whose label nobody translated is caught."""
    monkeypatch.setattr(Tier._meta.get_field("name"), "verbose_name", "Tier's name")
    response = korean_admin.get(reverse("admin:issues_tier_add"))

    found = [text for _what, text in labels(response.content.decode(), set()) if english(text)]

    assert found == ["Tier's name"]


OUR_APPS = ("issues", "notifications", "inbound")


def test_every_field_of_ours_has_a_label_to_translate():
    """Each field, and each model, names itself through gettext: its label is a msgid, not the field's name."""
    models = [model for model in apps.get_models() if model._meta.app_label in OUR_APPS]
    fields = [(model, field) for model in models for field in model._meta.fields + model._meta.many_to_many
              if not field.auto_created]
    unnamed = [f"{model._meta.label}.{field.name}" for model, field in fields
               if not isinstance(field.verbose_name, Promise)]
    unnamed += [model._meta.label for model in models if not isinstance(model._meta.verbose_name, Promise)]

    assert len(fields) > 150
    assert not unnamed, f"give these a verbose_name=_(…): {unnamed}"

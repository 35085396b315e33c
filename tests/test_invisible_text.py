"""Text that draws nothing is empty, and messages have a size limit: for every door into the services.

Hana pastes a zero-width space (or a Hangul filler, or a right-to-left override) into a title or an
update: on every screen and in every email that is an empty message, so she hears what she would for an
empty field, keeps what she typed, and nothing is written or sent. Text with visible characters keeps its
invisible ones where they matter (the joiners inside an emoji family, a heart's variation selector).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issues import checks, services, text
from issues.models import Issue, IssueEvent
from notifications.models import OutboundEmail
from tests.factories import make_issue

IN_A_TEST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PURE = settings(deadline=None)  # a busy machine must not turn a slow example into a failure

# The characters the penetration test used, and their relatives.
INVISIBLES = ("\u200b\u200c\u200d\u2060\u3164\u115f\u1160\uffa0\ufeff\u202a\u202b\u202c\u202d\u202e"
              "\u2066\u2067\u2068\u2069\u00ad\u034f\u180e\u2028\u2029\u00a0\u3000\u2800\ufe0f"
              " \t\r\n\x0b\x0c\x85\x1f")
INVISIBLE_ONLY = st.text(st.sampled_from(INVISIBLES), min_size=1, max_size=40)
VISIBLE = st.characters(codec="utf-8", exclude_categories=["Cs", "Mn", "Me", "Mc", "Co", "Cn"]).filter(
    lambda character: not text.is_invisible(character))
# What may follow a visible character and still be trimmed: not an emoji's joiner or selector.
SPACING = st.text(st.sampled_from([c for c in INVISIBLES if not text.attaches(c)]), min_size=1, max_size=40)
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl: one emoji
HEART = "\u2764\ufe0f"  # the red heart; without its selector, a black text heart
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"  # black flag + tags


# --- the rule ---------------------------------------------------------------------------------------

@PURE
@given(value=INVISIBLE_ONLY)
def test_text_of_nothing_but_invisible_characters_is_blank_and_trims_to_nothing(value):
    assert text.is_blank(value)
    assert text.trim(value) == ""
    assert text.one_line(value) == ""


@PURE
@given(before=INVISIBLE_ONLY, visible=st.text(VISIBLE, min_size=1, max_size=20), after=SPACING)
def test_visible_text_is_not_blank_and_trimming_keeps_it_whole(before, visible, after):
    assert not text.is_blank(before + visible + after)
    assert text.trim(before + visible + after) == visible


@pytest.mark.parametrize("emoji", [FAMILY, HEART, ENGLAND, "1\ufe0f\u20e3", "e\u0301"])
def test_an_emoji_or_an_accent_at_the_end_keeps_the_invisible_characters_it_is_made_of(emoji):
    assert text.trim(f"\u200b Thanks {emoji}\u200b \n") == f"Thanks {emoji}"
    assert text.one_line(f"Thanks\n{emoji} ") == f"Thanks {emoji}"


def test_inside_a_text_nothing_invisible_is_removed():
    assert text.trim(f"a\u200bb {FAMILY} c\u00add") == f"a\u200bb {FAMILY} c\u00add"


# --- the services refuse it, whatever the door -------------------------------------------------------

@pytest.mark.django_db
@IN_A_TEST
@given(title=INVISIBLE_ONLY)
def test_an_issue_titled_with_invisible_characters_only_is_refused_like_an_untitled_one(customer, manager, title):
    with pytest.raises(ValidationError) as refused:
        services.open_issue(customer=customer, title=title, by=manager)

    assert refused.value.message_dict == {"title": ["Give the issue a title."]}
    assert not Issue.objects.exists()


@pytest.mark.django_db
@IN_A_TEST
@given(body=INVISIBLE_ONLY, public=st.booleans())
def test_an_update_or_note_of_invisible_characters_only_is_refused_and_nothing_is_sent(customer, contact, manager,
                                                                                     body, public):
    issue = Issue.objects.first() or make_issue(customer=customer, at=timezone.now(), reporter=contact)
    events, emails = IssueEvent.objects.count(), OutboundEmail.objects.count()

    with pytest.raises(ValidationError) as refused:
        services.post_update(issue=issue, body=body, public=public, by=manager)

    expected = "Write the update the customer will read." if public else "Write the note."
    assert refused.value.message_dict == {"body": [expected]}
    assert (IssueEvent.objects.count(), OutboundEmail.objects.count()) == (events, emails)


@pytest.mark.django_db
def test_a_title_keeps_its_emoji_and_loses_what_hides_at_its_ends(customer, manager):
    issue = services.open_issue(customer=customer, title=f"\u3164\u200b Printer on fire {FAMILY}\u2060", by=manager)

    assert issue.title == f"Printer on fire {FAMILY}"


@pytest.mark.django_db
def test_a_description_of_invisible_characters_is_stored_empty_and_such_a_resolution_is_refused(
        customer, contact, manager):
    issue = services.open_issue(customer=customer, title="Label printer", description="\u200b\u3164", by=manager,
                                reporter=contact)
    with pytest.raises(ValidationError, match="Say what was done"):
        services.resolve(issue=issue, by=manager, body="\ufeff\u200d")

    assert issue.description == ""
    assert not IssueEvent.objects.filter(issue=issue, kind="resolved").exists()


# --- the size limit ----------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("door", ["public update", "internal note", "description", "resolution"])
def test_a_message_longer_than_the_limit_is_refused_with_its_length_at_every_door(customer, contact, manager,
                                                                                 settings, door):
    settings.MESSAGE_MAX_CHARS = 50
    long = "가" * 51
    issue = make_issue(customer=customer, at=timezone.now(), reporter=contact)
    events = IssueEvent.objects.count()
    calls = {
        "public update": lambda: services.post_update(issue=issue, body=long, public=True, by=manager),
        "internal note": lambda: services.post_update(issue=issue, body=long, public=False, by=manager),
        "description": lambda: services.open_issue(customer=customer, title="t", description=long, by=manager),
        "resolution": lambda: services.resolve(issue=issue, body=long, by=manager),
    }

    with pytest.raises(ValidationError) as refused:
        calls[door]()

    [(field, [message])] = refused.value.message_dict.items()
    assert field == ("description" if door == "description" else "body")
    assert message == "Keep it to 50 characters at most (this one has 51): split it into several messages."
    assert IssueEvent.objects.count() == events


@pytest.mark.django_db
def test_a_message_of_exactly_the_limit_is_accepted_and_the_default_limit_is_twenty_thousand(customer, contact,
                                                                                            manager, settings):
    assert settings.MESSAGE_MAX_CHARS == 20_000
    issue = make_issue(customer=customer, at=timezone.now(), reporter=contact)

    event = services.post_update(issue=issue, body="x" * 20_000, public=True, by=manager)

    assert len(event.body) == 20_000
    with pytest.raises(ValidationError):
        checks.clean_message("x" * 20_001)


# --- the forms keep what was typed ---------------------------------------------------------------------

@pytest.fixture
def hana(client, manager):
    client.force_login(manager)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("audience, message", [
    ("public", "Write the update the customer will read."),
    ("internal", "Write the note."),
])
def test_the_issue_page_says_the_update_is_empty_and_keeps_the_invisible_text(hana, customer, contact, audience,
                                                                             message):
    issue = make_issue(customer=customer, at=timezone.now(), reporter=contact)
    typed = "\u200b\u3164\u2060"
    events = IssueEvent.objects.count()

    response = hana.post(reverse("issue_compose", kwargs={"pk": issue.pk}),
                         {"compose-body": typed, "compose-audience": audience})

    assert response.status_code == 400
    form = response.context["compose_form"]
    assert form.errors["body"] == [message]
    assert form["body"].value() == typed
    assert IssueEvent.objects.count() == events


@pytest.mark.django_db
def test_the_new_issue_page_says_the_title_is_missing_and_keeps_what_was_typed(hana, customer):
    response = hana.post(reverse("issue_new"), {"customer": customer.pk, "title": "\u3164\u3164",
                                                "description": "The label printer prints blank pages.",
                                                "severity": "blue"})

    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["title"] == ["Give the issue a title."]
    assert form["description"].value() == "The label printer prints blank pages."
    assert not Issue.objects.exists()


@pytest.mark.django_db
def test_a_resolution_too_long_is_refused_on_the_page_and_the_issue_stays_open(hana, customer, contact, settings):
    settings.MESSAGE_MAX_CHARS = 10
    issue = make_issue(customer=customer, at=timezone.now(), reporter=contact)

    response = hana.post(reverse("issue_compose", kwargs={"pk": issue.pk}),
                         {"compose-body": "Replaced the fuser.", "compose-audience": "public", "compose-then": "resolve"})

    assert response.status_code == 400
    form = response.context["compose_form"]
    assert "Keep it to 10 characters at most" in form.errors["body"][0]
    assert form["body"].value() == "Replaced the fuser." and form.chosen == ("public", "resolve")
    issue.refresh_from_db()
    assert issue.is_open

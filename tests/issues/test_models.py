"""Read-side rules of the models: who sees what."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser

from issues.models import Issue
from tests.factories import CustomerFactory, UserFactory, make_issue

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))

pytestmark = pytest.mark.django_db


def test_people_see_only_their_teams_issues_and_superusers_see_all(customer, manager, lead, outsider):
    ours = make_issue(customer=customer, at=T0)
    theirs = make_issue(customer=CustomerFactory(team=outsider.teams.get()), at=T0, by=outsider)
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)

    assert list(Issue.objects.visible_to(manager)) == [ours]
    assert list(Issue.objects.visible_to(lead)) == [ours]  # leads see their team even when not a member
    assert list(Issue.objects.visible_to(outsider)) == [theirs]
    assert set(Issue.objects.visible_to(admin)) == {ours, theirs}
    assert not Issue.objects.visible_to(AnonymousUser()).exists()

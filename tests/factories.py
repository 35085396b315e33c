"""factory_boy factories for the configuration models, and a helper that opens issues the real way."""

from __future__ import annotations

from datetime import datetime

import factory
from django.contrib.auth import get_user_model

from issues import services, sla
from issues.clocks import ClockSetups
from issues.models import Contact, Customer, Issue, Status, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@inloop.example.com")
    is_staff = False  # the admin is for superusers; account managers and leads work in the app
    password = factory.django.Password("correct horse battery")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")
    lead = factory.SubFactory(UserFactory)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    code = factory.Sequence(lambda n: f"C{n:03d}")
    slug = factory.LazyAttribute(lambda customer: customer.code.lower())
    team = factory.SubFactory(TeamFactory)
    language = "en"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example.com")
    language = "en"


def make_issue(*, customer: Customer, at: datetime, severity: str = "blue", by=None, **fields) -> Issue:
    """Open an issue through the service, at a moment the test chooses."""
    by = by or customer.account_manager or customer.team.lead
    return services.open_issue(customer=customer, severity=severity, by=by, now=at,
                               title=fields.pop("title", "Invoices export times out"), **fields)


def bulk_issues(*, customer: Customer, count: int, opened_at: datetime, severity: str = "red",
                acknowledged_at: datetime | None = None) -> list[Issue]:
    """Many issues at once, with the clock columns the services would have written (for scale tests)."""
    issues = [
        Issue(customer=customer, title=f"Bulk issue {n}", severity=severity, owner=customer.account_manager,
              created_at=opened_at, updated_at=acknowledged_at or opened_at, ack_started_at=opened_at,
              acknowledged_at=acknowledged_at, update_started_at=acknowledged_at,
              status=Status.ACKNOWLEDGED if acknowledged_at else Status.NEW)
        for n in range(count)
    ]
    setups = ClockSetups(issues)
    for issue in issues:
        issue.apply_clocks(sla.compute(issue.clock_facts(), *setups(issue)))
    return Issue.objects.bulk_create(issues, batch_size=1000)


def wait_on_customer(issue: Issue, *, by, now: datetime | None = None,
                     body: str = "Could you send us the export log from this morning?"):
    """Ask the customer something and wait for their answer ("send and wait"), as the issue page does. An issue
    nobody at the customer receives cannot wait: a contact is copied on it first, as its owner would."""
    from notifications.emails import update_recipients

    if not update_recipients([issue])[issue.pk]:
        services.change_recipients(issue=issue, cc=[ContactFactory(customer=issue.customer)], by=by, now=now)
    return services.post_update(issue=issue, body=body, public=True, by=by, now=now, wait=True)


class EndpointFactory(factory.django.DjangoModelFactory):
    """A webhook endpoint: JSON signed per Standard Webhooks, for issues opened and updated, every team."""

    class Meta:
        model = "webhooks.Endpoint"

    name = factory.Sequence(lambda n: f"Receiver {n}")
    url = factory.Sequence(lambda n: f"https://hooks.example.com/{n}")
    events = factory.LazyFunction(lambda: ["issue.opened", "issue.updated"])


def make_api_token(user, *, read_only: bool = False, name: str = "Test client") -> str:
    """A personal API token made the real way (``api.tokens``); returns its secret, shown only this once."""
    from api.tokens import create_token

    return create_token(user=user, name=name, read_only=read_only).secret

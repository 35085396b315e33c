"""factory_boy factories for the configuration models, and a helper that opens issues the real way."""

from __future__ import annotations

from datetime import datetime

import factory
from django.contrib.auth import get_user_model

from issues import services
from issues.models import Contact, Customer, Issue, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@inloop.example.com")
    is_staff = True
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

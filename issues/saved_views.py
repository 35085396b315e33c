"""Saved inbox views: the presets everyone has, and the views a person saves, names and deletes.

A view is a name for the inbox's query string. The presets are code, not rows: a new user has them
without any data, and they change for everyone when the inbox's filters do.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import QueryDict
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from issues import text
from issues.filters import filter_querystring
from issues.models import SavedView

# How many views one person may keep: a row of links above the inbox, not a second inbox.
MOST_VIEWS = 20


@dataclass(frozen=True)
class Preset:
    name: Promise
    query: str

    def get_absolute_url(self) -> str:
        return f"{reverse('inbox')}?{self.query}"


PRESETS = [
    Preset(_("My breached"), "owner=me&clock=breached"),
    Preset(_("Unassigned red"), "severity=red&owner=unassigned"),
    Preset(_("Waiting on the customer"), "scope=waiting"),
]


def views_of(person) -> list[SavedView]:
    return list(SavedView.objects.filter(person=person).only("name", "query", "position"))


def save_view(*, person, name: str, filters: QueryDict) -> SavedView:
    """Save the inbox's current filters under `name`; a view of the same name takes the new filters."""
    name = text.one_line(name)[:60].strip()
    if not name:
        raise ValidationError(_("Give the view a name."))
    query = filter_querystring(filters, page=False)
    with transaction.atomic():
        views = SavedView.objects.select_for_update().filter(person=person)
        existing = views.filter(name=name).first()
        if existing is not None:
            existing.query = query
            existing.save(update_fields=["query"])
            return existing
        if views.count() >= MOST_VIEWS:
            raise ValidationError(_("You have %(n)d saved views already: delete one first.") % {"n": MOST_VIEWS})
        position = (views.aggregate(last=Max("position"))["last"] or 0) + 1
        return SavedView.objects.create(person=person, name=name, query=query, position=position)


def delete_view(*, person, pk: int) -> bool:
    """Delete one of the person's own views; someone else's view is left alone (False)."""
    deleted, _rows = SavedView.objects.filter(person=person, pk=pk).delete()
    return bool(deleted)

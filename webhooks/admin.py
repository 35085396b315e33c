"""Webhooks in the admin: endpoints (events, format, team, secret; what waits and what failed) and the delivery
log, read-only, with "retry now" and "cancel"."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from webhooks import delivery, emit
from webhooks.models import (
    CHAT_EVENTS,
    SUBSCRIBABLE,
    Delivery,
    Endpoint,
    EventType,
    new_secret,
)


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https",
                         help_text=Endpoint._meta.get_field("url").help_text)
    events = forms.MultipleChoiceField(label=_("events"), choices=SUBSCRIBABLE, widget=forms.CheckboxSelectMultiple,
                                       required=False)

    class Meta:
        model = Endpoint
        fields = ["name", "url", "format", "language", "team", "events", "active"]

    def clean(self) -> dict:
        cleaned = super().clean()
        chosen = set(cleaned.get("events") or [])
        if cleaned.get("format") not in (None, "standard") and chosen - CHAT_EVENTS:
            self.add_error("events", _("A chat channel hears only of issues opened or raised to red, and of breaches: "
                                       "choose among “issue opened”, “issue updated” and “clock breached”."))
        return cleaned


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["name", "url", "format", "team", "language", "active", "subscribed", "pending", "failed"]
    list_filter = ["active", "format", "team"]
    search_fields = ["name", "url"]
    readonly_fields = ["secret", "secret_rotated_at", "created_at"]
    actions = ["send_test", "rotate_secret"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("team").annotate(
            pending_count=Count("deliveries", filter=Q(deliveries__status__in=delivery.UNFINISHED)),
            failed_count=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)))

    @admin.display(description=_("events"))
    def subscribed(self, endpoint: Endpoint) -> str:
        labels = dict(EventType.choices)
        return ", ".join(str(labels.get(name, name)) for name in endpoint.events or [])

    @admin.display(description=_("waiting"), ordering="pending_count")
    def pending(self, endpoint: Endpoint) -> int:
        return endpoint.pending_count

    @admin.display(description=_("failed"), ordering="failed_count")
    def failed(self, endpoint: Endpoint) -> int:
        return endpoint.failed_count

    @admin.action(description=_("Send a test event to the selected endpoints"))
    def send_test(self, request, queryset: QuerySet[Endpoint]) -> None:
        endpoints = list(queryset)
        for endpoint in endpoints:
            emit.send_test(endpoint, by=request.user)
        self.message_user(request, ngettext("A test event is on its way to %d endpoint.",
                                            "A test event is on its way to %d endpoints.", len(endpoints))
                          % len(endpoints), messages.SUCCESS)

    @admin.action(description=_("Rotate the signing secret of the selected endpoints"))
    def rotate_secret(self, request, queryset: QuerySet[Endpoint]) -> None:
        """A new secret at once; for a day requests are signed with the old one too, so receivers can switch."""
        now = timezone.now()
        endpoints = list(queryset)
        for endpoint in endpoints:
            endpoint.previous_secret, endpoint.secret, endpoint.secret_rotated_at = endpoint.secret, new_secret(), now
            endpoint.save(update_fields=["previous_secret", "secret", "secret_rotated_at"])
        self.message_user(request, ngettext(
            "%d secret rotated. For the next 24 hours each request is signed with the old secret too.",
            "%d secrets rotated. For the next 24 hours each request is signed with the old secret too.",
            len(endpoints)) % len(endpoints), messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event_type", "endpoint", "issue", "status", "attempts", "response_status",
                    "response", "next_attempt_at", "delivered_at"]
    list_filter = ["status", "event_type", "endpoint"]
    search_fields = ["dedupe_key", "message_id", "response_excerpt"]
    date_hierarchy = "created_at"
    list_select_related = ["endpoint", "issue__customer"]
    actions = ["retry_now", "cancel"]
    fields = ["status", "event_type", "endpoint", "issue", "attempts", "next_attempt_at", "claimed_until",
              "last_attempt_at", "response_status", "response_excerpt", "delivered_at", "created_at", "message_id",
              "dedupe_key", "payload"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser if obj is None else False

    @admin.display(description=_("last response or error"))
    def response(self, row: Delivery) -> str:
        return Truncator(row.response_excerpt).chars(60)

    @admin.action(description=_("Retry selected deliveries now"))
    def retry_now(self, request, queryset) -> None:
        count = delivery.retry_now(queryset)
        self.message_user(request, ngettext("%d delivery will be retried now.", "%d deliveries will be retried now.",
                                            count) % count, messages.SUCCESS)
        self.tell_what_was_left(request, queryset, count)

    @admin.action(description=_("Cancel selected deliveries"))
    def cancel(self, request, queryset) -> None:
        count = delivery.cancel(queryset)
        self.message_user(request, ngettext("%d delivery cancelled.", "%d deliveries cancelled.", count) % count,
                          messages.SUCCESS)
        self.tell_what_was_left(request, queryset, count)

    def tell_what_was_left(self, request, queryset, changed: int) -> None:
        left = queryset.count() - changed
        if left:
            self.message_user(request, ngettext(
                "%d delivery was left as it is: already delivered, cancelled, or being sent right now.",
                "%d deliveries were left as they are: already delivered, cancelled, or being sent right now.",
                left) % left, messages.WARNING)

"""The outbox in the admin: what was sent, what waits and why, with a preview; retry or cancel."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin

from notifications import delivery
from notifications.compose import rendered
from notifications.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "status", "kind", "recipient", "subject", "attempts", "error", "sent_at"]
    list_filter = ["status", "kind", "language"]
    search_fields = ["recipient", "subject", "dedupe_key", "message_id"]
    date_hierarchy = "created_at"
    list_select_related = ["issue__customer"]
    actions = ["retry_now", "cancel"]
    fields = ["status", "kind", "recipient", "recipient_name", "language", "subject", "issue", "attempts",
              "next_attempt_at", "lease_expires_at", "sent_at", "last_error", "message_id", "dedupe_key",
              "headers", "context", "preview"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser if obj is None else False

    @admin.display(description=_("last error"))
    def error(self, email: OutboundEmail) -> str:
        return Truncator(email.last_error).chars(60)

    @admin.display(description=_("preview"))
    def preview(self, email: OutboundEmail) -> str:
        shown = rendered(email)
        frame = reverse("admin:notifications_outboundemail_preview", args=[email.pk])
        return format_html('<iframe sandbox src="{}" title="{}" width="720" height="480"></iframe><pre>{}</pre>',
                           frame, shown.subject, shown.body_text)

    def get_urls(self):
        return [path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_html),
                     name="notifications_outboundemail_preview"), *super().get_urls()]

    @method_decorator(xframe_options_sameorigin)
    def preview_html(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The email's HTML on its own, for the preview frame. Emails style themselves inline, so this one
        response allows inline styles; it may run nothing and load nothing, and only the admin may frame it.
        An email shows what was said to whom: only staff allowed to view the outbox may open it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        email = get_object_or_404(OutboundEmail, pk=pk)
        response = HttpResponse(rendered(email).body_html)
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox")
        return response

    @admin.action(description=_("Retry selected emails now"))
    def retry_now(self, request, queryset) -> None:
        count = delivery.retry_now(queryset)
        self.message_user(request, ngettext("%d email will be retried now.", "%d emails will be retried now.",
                                            count) % count, messages.SUCCESS)
        self.tell_what_was_left(request, queryset, count)

    @admin.action(description=_("Cancel selected emails"))
    def cancel(self, request, queryset) -> None:
        count = delivery.cancel(queryset)
        self.message_user(request, ngettext("%d email cancelled.", "%d emails cancelled.", count) % count,
                          messages.SUCCESS)
        self.tell_what_was_left(request, queryset, count)

    def tell_what_was_left(self, request, queryset, changed: int) -> None:
        """Sent, cancelled, or being sent this very moment (a live lease): those rows stay as they are."""
        left = queryset.count() - changed
        if left:
            self.message_user(request, ngettext(
                "%d email was left as it is: already sent, cancelled, or being sent right now.",
                "%d emails were left as they are: already sent, cancelled, or being sent right now.", left) % left,
                messages.WARNING)

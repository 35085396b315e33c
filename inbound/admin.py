"""Inbound email in the admin: read-only records, with the raw source one click away in the app."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from inbound.models import InboundAttachment, InboundMessage


class AttachmentInline(admin.TabularInline):
    model = InboundAttachment
    fields = ["filename", "content_type", "size"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "sender", "subject", "outcome", "issue", "source"]
    list_filter = ["outcome", "source"]
    search_fields = ["sender", "subject", "message_id"]
    date_hierarchy = "received_at"
    readonly_fields = ["key", "message_id", "source", "size", "received_at", "sender", "sender_name", "subject",
                       "text", "outcome", "reason", "processed_at", "attempts", "issue", "contact", "team",
                       "handled_at", "handled_by"]
    exclude = ["raw"]
    inlines = [AttachmentInline]

    def has_add_permission(self, request) -> bool:
        return False  # messages come in by email, not by hand

    @admin.display(description=_("size"))
    def size_shown(self, message: InboundMessage) -> str:
        return f"{message.size:,}"

"""The admin is where SLA policies, teams, customers and contacts are configured.

Issues, their events and breaches are read-only here: every change to an issue goes through
``issues.services`` so that its timeline, clocks and emails stay right. Every registered admin, ours and
those of Django and of libraries, gets ``OddInputGuards``: a hand-edited address is never a server error.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext

from issues import periods, services, tiers
from issues.login import AdminLoginForm
from issues.models import (
    OPEN_STATUSES,
    Away,
    Breach,
    BusinessCalendar,
    ClosedDay,
    Contact,
    Customer,
    Feedback,
    Issue,
    IssueEvent,
    Profile,
    Severity,
    SlaPolicy,
    Team,
    Tier,
    Undo,
)
from issues.models.calendar import WEEKDAYS
from issues.text import validate_name


def describe_duration(value: timedelta | None) -> str:
    """'1 day 4 h', '45 min': how a support lead says a window."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if hours:
        parts.append(_("%(n)d h") % {"n": hours})
    if minutes or not parts:
        parts.append(_("%(n)d min") % {"n": minutes})
    return " ".join(parts)


class RecomputesClocks:
    """Editing what the clocks count on moves the due times of the open issues it governs."""

    def recompute(self, request, issues) -> None:
        moved = services.recompute_open_clocks(issues=issues, by=request.user)
        if moved:
            self.message_user(request, ngettext("The due times of %d open issue moved.",
                                                "The due times of %d open issues moved.", moved) % moved)


class ChangeListGuards:
    """A change list whose filters name no date — the year 2**64, the day after 9999-12-31, a year-1 day
    SQLite cannot turn into UTC — answers like any bad filter (the admin's own "?e=1" page), not with a
    server error. Drill-downs are held to the years whose edges exist, the same on every database."""

    def get_filters(self, request: HttpRequest) -> tuple:
        year = request.GET.get(f"{self.date_hierarchy}__year") if self.date_hierarchy else None
        if year is not None and not year_has_edges(year):
            raise IncorrectLookupParameters(f"no such year: {year[:20]}")
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as error:
            raise IncorrectLookupParameters(error) from error

    def get_results(self, request: HttpRequest) -> None:
        try:
            super().get_results(request)
        except OverflowError as error:  # raised while SQLite's adapter converts the filter's date to UTC
            raise IncorrectLookupParameters(error) from error


def year_has_edges(year: str) -> bool:
    try:
        return periods.has_edges(int(year))
    except ValueError:
        return False


@functools.cache
def guarded(changelist: type[ChangeList]) -> type[ChangeList]:
    return type(f"Guarded{changelist.__name__}", (ChangeListGuards, changelist), {})


class OddInputGuards:
    """What no hand-edited admin address may turn into a server error: odd filters (above), and an empty
    ?_to_field=, for which Django looks up a field named "" instead of the primary key."""

    def get_changelist(self, request: HttpRequest, **kwargs) -> type[ChangeList]:
        return guarded(super().get_changelist(request, **kwargs))

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        return super().get_object(request, object_id, from_field or None)


def guard_every_admin(site: admin.AdminSite = admin.site) -> None:
    """Give every registered admin the guards: ours, and those of Django (groups) and of libraries
    (django-axes). Called once all admin modules are loaded (``IssuesConfig.ready``)."""
    for model, model_admin in list(site._registry.items()):
        if not isinstance(model_admin, OddInputGuards):
            site.unregister(model)
            site.register(model, type(type(model_admin).__name__, (OddInputGuards, type(model_admin)), {}))


# django-axes (the login throttle) ships no Korean. The words its admin shows are listed here, each in its
# own gettext_noop so that makemessages keeps it in our catalogue, which then translates it wherever axes
# shows it.
LOGIN_THROTTLE_WORDS = (
    gettext_noop("access attempt"), gettext_noop("access attempts"), gettext_noop("access log"),
    gettext_noop("access logs"), gettext_noop("access failure"), gettext_noop("access failures"),
    gettext_noop("access attempt expiration"), gettext_noop("access attempt expirations"),
    gettext_noop("Access Attempt"), gettext_noop("User Agent"), gettext_noop("IP Address"), gettext_noop("Username"),
    gettext_noop("HTTP Accept"), gettext_noop("Path"), gettext_noop("Attempt Time"), gettext_noop("Logout Time"),
    gettext_noop("Access lock out"), gettext_noop("GET Data"), gettext_noop("POST Data"),
    gettext_noop("Failed Logins"), gettext_noop("Expires At"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("Session key hash (sha256)"), gettext_noop("Locked Out"), gettext_noop("Form Data"),
    gettext_noop("Meta Data"), gettext_noop("Clean up expired attempts"), gettext_noop("Attempt Remaining"),
    gettext_noop("Not set"),
)



class LoginAttemptAdmin(AccessAttemptAdmin):
    """Axes's failed logins, with a title for the one column axes leaves without."""

    @admin.display(description=_("status"))
    def status(self, obj: AccessAttempt) -> str:
        return super().status(obj)


def name_the_login_throttle(site: admin.AdminSite = admin.site) -> None:
    """Give the login throttle's app a name to translate (axes has none), and its status column a title.
    Called before ``guard_every_admin`` (``IssuesConfig.ready``)."""
    apps.get_app_config("axes").verbose_name = _("login throttle")
    if site.is_registered(AccessAttempt):
        site.unregister(AccessAttempt)
        site.register(AccessAttempt, LoginAttemptAdmin)



class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False


class StaffChangeForm(UserChangeForm):
    """Django's user form, with first and last names held to the rule for names (one line of visible
    text): they are shown in every list, in emails and in CSV rows."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("first_name", "last_name"):
            if name in self.fields:
                self.fields[name].validators.append(validate_name)


admin.site.login_form = AdminLoginForm  # a username longer than its column is refused, not a server error
admin.site.site_header = _("Inloop administration")
admin.site.site_title = _("Inloop")
admin.site.index_title = _("Teams, customers, service levels and email")
admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class StaffAdmin(UserAdmin):
    form = StaffChangeForm
    inlines = [ProfileInline]


def corrected_address(form) -> None:
    """A contact whose mail bounced is written to again once someone corrects the address."""
    if "email" in form.changed_data and form.instance.undeliverable_at is not None:
        form.instance.undeliverable_at, form.instance.undeliverable_reason = None, ""


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 1
    fields = ["name", "email", "language", "receives_updates", "undeliverable_at"]
    readonly_fields = ["undeliverable_at"]


@admin.register(Team)
class TeamAdmin(RecomputesClocks, admin.ModelAdmin):
    list_display = ["name", "lead", "escalation_contact", "calendar", "member_count", "customer_count"]
    search_fields = ["name", "lead__username", "lead__first_name", "lead__last_name"]
    autocomplete_fields = ["lead", "escalation_contact"]
    list_select_related = ["lead", "escalation_contact", "calendar"]
    filter_horizontal = ["members"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and "calendar" in form.changed_data:
            # Every customer's issues: clocks follow a customer's own calendar where it has one, but the owner's
            # warning before a customer's deadline follows the team's working hours.
            self.recompute(request, Issue.objects.filter(customer__team=obj))

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            member_total=Count("members", distinct=True), customer_total=Count("customers", distinct=True)
        )

    @admin.display(description=_("members"), ordering="member_total")
    def member_count(self, team: Team) -> int:
        return team.member_total

    @admin.display(description=_("customers"), ordering="customer_total")
    def customer_count(self, team: Team) -> int:
        return team.customer_total


@admin.register(Customer)
class CustomerAdmin(RecomputesClocks, admin.ModelAdmin):
    list_display = ["name", "code", "team", "account_manager", "language", "tier", "calendar", "open_issue_count"]
    list_filter = ["team", "tier", "language"]
    search_fields = ["name", "code", "slug", "contacts__email"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["account_manager"]
    list_select_related = ["team", "account_manager", "tier"]
    inlines = [ContactInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(open_total=Count("issues", filter=Q(issues__status__in=OPEN_STATUSES)))

    @admin.display(description=_("open issues"), ordering="open_total")
    def open_issue_count(self, customer: Customer) -> int:
        return customer.open_total

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and {"calendar", "team", "tier"} & set(form.changed_data):
            self.recompute(request, Issue.objects.filter(customer=obj))

    def save_formset(self, request, form, formset, change) -> None:
        for contact_form in formset.forms:
            corrected_address(contact_form)
        super().save_formset(request, form, formset, change)


class ContactForm(forms.ModelForm):
    rotate_page_links = forms.BooleanField(
        label=_("Rotate customer page links"), required=False,
        help_text=_("Every link to this contact's issue pages sent so far stops working (a forwarded or leaked "
                    "link); the next emails carry new ones, and the contact can ask for fresh links."))

    class Meta:
        model = Contact
        fields = "__all__"


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactForm
    list_display = ["name", "email", "customer", "language", "receives_updates", "undeliverable_at"]
    list_filter = ["language", "receives_updates", "customer__team", ("undeliverable_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "email", "customer__name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["undeliverable_at", "undeliverable_reason"]
    actions = ["mark_reachable", "rotate_page_links"]

    def save_model(self, request, obj, form, change) -> None:
        corrected_address(form)
        super().save_model(request, obj, form, change)
        if change and form.cleaned_data.get("rotate_page_links"):
            Contact.objects.filter(pk=obj.pk).rotate_page_links()
            self.message_user(request, _("The contact's customer page links were rotated: the old ones no longer "
                                         "work."))

    @admin.action(description=_("Rotate customer page links (the links sent so far stop working)"))
    def rotate_page_links(self, request, queryset) -> None:
        rotated = queryset.rotate_page_links()
        self.message_user(request, ngettext("Customer page links rotated for %(n)d contact.",
                                            "Customer page links rotated for %(n)d contacts.", rotated) % {"n": rotated})

    @admin.action(description=_("Write to the selected contacts again (their address works now)"))
    def mark_reachable(self, request, queryset) -> None:
        queryset.update(undeliverable_at=None, undeliverable_reason="")


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(RecomputesClocks, admin.ModelAdmin):
    list_display = ["name", "time_zone", "holiday_country", "working_week"]
    search_fields = ["name"]
    inlines = [ClosedDayInline]
    fieldsets = [
        (None, {"fields": ["name", "time_zone", "holiday_country"]}),
        (_("Working hours"), {
            "fields": [(f"{day}_opens", f"{day}_closes") for day in WEEKDAYS],
            "description": _("Leave both times empty on days the team does not work."),
        }),
    ]

    @admin.display(description=_("working week"))
    def working_week(self, calendar: BusinessCalendar) -> str:
        hours = calendar.weekly_hours()
        total = sum((closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)
                    for opens, closes in hours.values())
        return _("%(days)d days, %(hours)s h") % {"days": len(hours), "hours": f"{total / 60:g}"}

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        if change:
            calendar = form.instance
            # Issues whose clocks count on it (a customer's own calendar, or its team's), and every issue of a team
            # working on it: the owner's warning before a customer's deadline follows the team's hours.
            self.recompute(request, Issue.objects.filter(Q(customer__calendar=calendar)
                                                         | Q(customer__team__calendar=calendar)))


class BasePolicyForm(forms.ModelForm):
    """A base policy may not become tighter than a tier's policy of its severity: that tier would be looser."""

    def clean(self) -> dict:
        cleaned = super().clean()
        severity = self.instance.severity if self.instance.pk else cleaned.get("severity")
        tiers.check_base_policy(cleaned, SlaPolicy.objects.filter(severity=severity).exclude(tier=None)
                                .select_related("tier"))
        return cleaned


@admin.register(SlaPolicy)
class SlaPolicyAdmin(RecomputesClocks, admin.ModelAdmin):
    """The base policies, one per severity: what every customer without a tier (or whose tier sets no policy
    for the severity) gets. A tier's policies are edited on the tier."""

    form = BasePolicyForm
    list_display = ["severity", "acknowledge", "update", "business_time", "warn_at", "auto_status_email"]
    fieldsets = [
        (None, {"fields": ["severity", "business_time", "warn_at", "auto_status_email"]}),
        (
            _("Windows"),
            {
                "fields": ["acknowledge_within", "update_every"],
                "description": _("Write durations as “4:00:00” for four hours or “1 00:00:00” for one day."),
            },
        ),
        (
            _("Teams without a business calendar"),
            {"fields": ["fallback_acknowledge_within", "fallback_update_every"]},
        ),
    ]

    @admin.display(description=_("acknowledge within"), ordering="acknowledge_within")
    def acknowledge(self, policy: SlaPolicy) -> str:
        return describe_duration(policy.acknowledge_within)

    @admin.display(description=_("update every"), ordering="update_every")
    def update(self, policy: SlaPolicy) -> str:
        return describe_duration(policy.update_every)

    def get_readonly_fields(self, request, obj=None):
        return ["severity"] if obj else []

    def get_queryset(self, request):
        return super().get_queryset(request).filter(tier=None)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change:  # not the issues of customers whose tier sets its own policy for the severity
            self.recompute(request, Issue.objects.filter(severity=obj.severity)
                           .exclude(customer__tier__policies__severity=obj.severity))

    def has_add_permission(self, request) -> bool:
        # One policy per severity, created by a migration: there is nothing to add.
        return SlaPolicy.objects.filter(tier=None).count() < len(SlaPolicy._meta.get_field("severity").choices)

    def has_delete_permission(self, request, obj=None) -> bool:
        # A base policy stays; a tier's policy goes with its tier (or is removed on the tier's page).
        return obj is not None and obj.tier_id is not None


class TierPolicyFormSet(BaseInlineFormSet):
    """A tier's policies, each equal to the base policy of its severity or tighter. Checked once each form has
    built its policy, so the calendar ceilings (``SlaPolicy.clean``) are told too."""

    def clean(self) -> None:
        super().clean()
        base = {policy.severity: policy for policy in SlaPolicy.objects.filter(tier=None)}
        for form in self.forms:
            if not self._should_delete_form(form):
                try:
                    tiers.check_tier_policy(form.instance, base.get(form.instance.severity))
                except ValidationError as error:
                    form.add_error(None, error)


class TierPolicyInline(admin.StackedInline):
    model = SlaPolicy
    formset = TierPolicyFormSet
    extra = 0
    max_num = len(Severity.choices)
    fieldsets = [
        (None, {"fields": ["severity", "business_time", "warn_at", "auto_status_email", "escalate_after"]}),
        (_("Windows"), {"fields": ["acknowledge_within", "update_every"]}),
        (_("Teams without a business calendar"), {"fields": ["fallback_acknowledge_within", "fallback_update_every"]}),
    ]


@admin.register(Tier)
class TierAdmin(RecomputesClocks, admin.ModelAdmin):
    """A tier and its own policies. Editing them, or deleting the tier, moves the due times of the open issues
    of its customers."""

    list_display = ["name", "position", "own_policies", "customer_count"]
    search_fields = ["name"]
    fieldsets = [(None, {"fields": ["name", "position"], "description": _(
        "Each policy of a tier must be equal to the base policy of its severity or tighter. A severity the tier "
        "sets no policy for uses the base policy. Set a customer's tier on the customer.")})]
    inlines = [TierPolicyInline]

    def get_queryset(self, request):
        return (super().get_queryset(request).annotate(customer_total=Count("customers", distinct=True))
                .prefetch_related("policies"))

    @admin.display(description=_("own policies"))
    def own_policies(self, tier: Tier) -> str:
        return ", ".join(str(policy) for policy in tier.policies.all()) or "—"

    @admin.display(description=_("customers"), ordering="customer_total")
    def customer_count(self, tier: Tier) -> int:
        return tier.customer_total

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        if change and any(formset.has_changed() for formset in formsets):
            self.recompute(request, Issue.objects.filter(customer__tier=form.instance))

    def delete_model(self, request, obj: Tier) -> None:
        self.delete_queryset(request, Tier.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset) -> None:
        """The tier's customers fall back to the base policies."""
        issues = list(Issue.objects.filter(customer__tier__in=queryset).open().values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        self.recompute(request, Issue.objects.filter(pk__in=issues))


class EventInline(admin.TabularInline):
    model = IssueEvent
    fields = ["at", "kind", "actor", "public", "old_value", "new_value", "body"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Issue)
class IssueAdmin(ReadOnlyAdmin):
    list_display = ["reference", "title", "customer", "severity", "status", "owner", "ack_due_at", "update_due_at"]
    list_filter = ["severity", "status", "customer__team"]
    search_fields = ["title", "description", "customer__name", "customer__code"]
    list_select_related = ["customer", "owner"]
    date_hierarchy = "created_at"
    inlines = [EventInline]

    @admin.display(description=_("reference"), ordering="id")
    def reference(self, issue: Issue) -> str:
        return issue.reference


@admin.register(Away)
class AwayAdmin(ReadOnlyAdmin):
    """Away periods are set on the preferences page (by the person or their lead); the admin lists them."""

    list_display = ["person", "starts_at", "ends_at", "backup", "set_by"]
    list_select_related = ["person", "backup", "set_by"]
    date_hierarchy = "starts_at"


@admin.register(IssueEvent)
class IssueEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "issue", "kind", "actor", "public"]
    list_filter = ["kind", "public"]
    search_fields = ["body", "issue__title"]
    list_select_related = ["issue__customer", "actor"]


class BreachStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", _("open")), ("cleared", _("cleared"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(cleared_at=None)
        if self.value() == "cleared":
            return queryset.exclude(cleared_at=None)
        return queryset


@admin.register(Breach)
class BreachAdmin(ReadOnlyAdmin):
    list_display = ["issue", "clock", "severity", "due_at", "breached_at", "escalated_at", "repeats", "cleared_at"]
    list_filter = ["clock", "severity", "issue__customer__team", BreachStateFilter]
    search_fields = ["issue__title", "issue__customer__name"]
    list_select_related = ["issue__customer"]
    date_hierarchy = "breached_at"


@admin.register(Undo)
class UndoAdmin(ReadOnlyAdmin):
    """Quick actions held for undo, and whether they were taken back: written only by ``issues.undo``."""

    list_display = ["issue_references", "action", "actor", "at", "expires_at", "undone_at"]
    list_filter = ["action", ("undone_at", admin.EmptyFieldListFilter)]
    list_select_related = ["actor"]
    date_hierarchy = "at"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("issues__customer")

    @admin.display(description=_("issues"))
    def issue_references(self, undo: Undo) -> str:
        return ", ".join(sorted(issue.reference for issue in undo.issues.all()))


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    """What contacts said after a resolution: written only by ``issues.feedback`` (the customer's page)."""

    list_display = ["issue", "contact", "solved", "score", "comment_start", "created_at"]
    list_filter = ["solved", "score", "issue__customer__team"]
    search_fields = ["comment", "issue__title", "contact__name", "contact__email"]
    list_select_related = ["issue__customer", "contact"]
    date_hierarchy = "created_at"

    @admin.display(description=_("comment"))
    def comment_start(self, feedback: Feedback) -> str:
        return Truncator(feedback.comment).chars(80)

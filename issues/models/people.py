"""Who works here and for whom: staff profiles, teams, customers and their contacts."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from issues.models.choices import Language, Severity
from issues.text import validate_name

User = settings.AUTH_USER_MODEL


class Profile(models.Model):
    """A staff member's preferences: the language of their pages and emails, and digests."""

    user = models.OneToOneField(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH)
    receives_digest = models.BooleanField(_("daily digest"), default=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)

    @classmethod
    def language_of(cls, user) -> str:
        """The user's chosen language; English until they choose."""
        profile = getattr(user, "profile", None) if user is not None else None
        return profile.language if profile is not None else Language.ENGLISH


class TeamQuerySet(models.QuerySet):
    def of_person(self, user) -> TeamQuerySet:
        """Teams the user leads or belongs to, as a subquery-friendly queryset of ids."""
        return self.filter(Q(members=user) | Q(lead=user)).values("pk")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True, validators=[validate_name])
    lead = models.ForeignKey(
        User, verbose_name=_("lead"), null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams"
    )
    members = models.ManyToManyField(User, verbose_name=_("members"), blank=True, related_name="teams")
    calendar = models.ForeignKey(
        "issues.BusinessCalendar", verbose_name=_("business calendar"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="teams",
        help_text=_("The team's working hours. Empty: business-time policies count around the clock instead."),
    )
    email = models.EmailField(
        _("team address"), blank=True,
        help_text=_("Where customers write to this team. Email from unknown senders to it waits in the team's "
                    "unmatched list; to no team's address, in the admins'."),
    )
    default_severity = models.CharField(
        _("severity of issues opened by email"), max_length=10, choices=Severity.choices, default=Severity.BLUE,
    )
    escalation_contact = models.ForeignKey(
        User, verbose_name=_("escalation contact"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Who hears when a clock stays breached after the owner and the lead were told. Empty: the "
                    "superusers."),
    )

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name

    def has_person(self, user) -> bool:
        """The lead counts as one of the team's people even when not listed as a member."""
        return user.pk == self.lead_id or self.members.filter(pk=user.pk).exists()


class Away(models.Model):
    """A period a person is away (holiday, sick leave, a conference), and who covers for them meanwhile.
    Past periods stay as history; coming back needs no action (the period ends)."""

    person = models.ForeignKey(User, verbose_name=_("person"), on_delete=models.CASCADE, related_name="aways")
    starts_at = models.DateTimeField(_("away from"))
    ends_at = models.DateTimeField(_("away until"))
    backup = models.ForeignKey(
        User, verbose_name=_("backup"), null=True, blank=True, on_delete=models.SET_NULL, related_name="covers",
        help_text=_("Someone of the same team. Empty: the team lead covers."),
    )
    set_by = models.ForeignKey(User, verbose_name=_("set by"), null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")

    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("away period")
        verbose_name_plural = _("away periods")
        indexes = [models.Index(fields=["person", "ends_at"], name="away_person_ends")]

    def __str__(self) -> str:
        return f"{self.person} {self.starts_at:%Y-%m-%d} – {self.ends_at:%Y-%m-%d}"


class Tier(models.Model):
    """An SLA tier (e.g. Premium): its policies per severity are equal to or tighter than the base policies
    every customer without a tier uses. A tier without a policy for a severity uses the base one."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0, help_text=_("Order in lists."))

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("SLA tier")
        verbose_name_plural = _("SLA tiers")

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200, validators=[validate_name])
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    code = models.CharField(
        _("code"),
        max_length=10,
        unique=True,
        validators=[RegexValidator(r"^[A-Z][A-Z0-9]{1,9}$", _("Use 2-10 capital letters or digits, e.g. ACME."))],
        help_text=_("Short prefix of issue references, e.g. ACME in ACME-42."),
    )
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="customers")
    account_manager = models.ForeignKey(
        User,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_customers",
        help_text=_("The default owner of new issues and the fallback for reminders of unowned ones."),
    )
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH)
    tier = models.ForeignKey(
        Tier, verbose_name=_("SLA tier"), null=True, blank=True, on_delete=models.SET_NULL, related_name="customers",
        help_text=_("Empty: the base SLA policies."),
    )
    calendar = models.ForeignKey(
        "issues.BusinessCalendar", verbose_name=_("business calendar"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="customers",
        help_text=_("Overrides the team's calendar for this customer, e.g. a customer in another time zone."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name


class ContactQuerySet(models.QuerySet):
    def reachable(self) -> ContactQuerySet:
        """Contacts we can still email: their mail has not bounced for good (undeliverable)."""
        return self.filter(undeliverable_at=None)

    def rotate_page_links(self) -> int:
        """Revoke every customer page link these contacts were sent: the links name the generation they were
        signed with, and the page opens only for the current one. Fresh links go out with the next emails."""
        return self.update(page_links_generation=models.F("page_links_generation") + 1)


class Contact(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=200, validators=[validate_name])
    email = models.EmailField(_("email"))
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH)
    receives_updates = models.BooleanField(
        _("receives updates"),
        default=True,
        help_text=_("Off: the contact only hears when an issue is resolved."),
    )
    # Off: the contact hears about the issues they reported or are copied on (Issue.cc); on: about every
    # issue of their company (contacts that existed before recipients were per issue kept getting them all).
    follows_all_issues = models.BooleanField(
        _("follows all issues"),
        default=False,
        help_text=_("On: receives the emails of every issue of their company, not only of those they "
                    "reported or are copied on."),
    )
    # Set when their mail bounced for good: nothing more is sent to them until someone corrects the address.
    undeliverable_at = models.DateTimeField(_("undeliverable since"), null=True, blank=True)
    undeliverable_reason = models.CharField(_("why undeliverable"), max_length=500, blank=True)
    # Signed into each link to the customer's own issue page (``notifications.links``): raising it revokes
    # every link sent so far.
    page_links_generation = models.PositiveIntegerField(
        _("customer page link generation"), default=1, editable=False,
        help_text=_("Raised by \"Rotate customer page links\": every link sent before stops working."),
    )

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [models.UniqueConstraint(fields=["customer", "email"], name="contact_unique_email")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

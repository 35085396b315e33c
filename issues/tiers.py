"""Customer tiers: a tier's policy for a severity promises the same as the base policy or more, never less.

The base policy (no tier) is what every customer without a tier gets; a tier without a policy for a severity
uses the base one. Windows are compared as written — business time with business time, the fallbacks with
the fallbacks — so a tier counts time the way the base policy of its severity does. The calendar ceilings
hold for every policy, base or tier (``SlaPolicy.clean``). Which policy an issue runs on is
``issues.clocks.policy_of``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils.duration import duration_string
from django.utils.translation import gettext as _

from issues.models import SlaPolicy

# Shorter is tighter.
WINDOWS = ("acknowledge_within", "update_every", "fallback_acknowledge_within", "fallback_update_every")
COMPARED = ("business_time", "auto_status_email", "escalate_after", *WINDOWS)


def values_of(policy: SlaPolicy | Mapping) -> Mapping:
    """What the rule compares, from a saved policy or from a form's cleaned data."""
    if isinstance(policy, Mapping):
        return policy
    return {field: getattr(policy, field) for field in COMPARED}


def looser_fields(tier: Mapping, base: Mapping) -> list[str]:
    """The fields in which a tier's policy promises less than the base policy of its severity."""
    looser = []
    if tier.get("business_time") != base.get("business_time"):
        looser.append("business_time")
    if base.get("auto_status_email") and not tier.get("auto_status_email"):
        looser.append("auto_status_email")
    # Empty means the default escalation rule: a tier may keep it only where the base keeps it too.
    if base.get("escalate_after") is not None and not _within(tier.get("escalate_after"), base["escalate_after"]):
        looser.append("escalate_after")
    looser += [field for field in WINDOWS if tier.get(field) is not None and base.get(field) is not None
               and tier[field] > base[field]]
    return looser


def _within(value: timedelta | None, limit: timedelta) -> bool:
    return value is not None and value <= limit


def check_tier_policy(tier: SlaPolicy | Mapping, base: SlaPolicy | None) -> None:
    """A tier's policy may not be looser than the base policy of its severity."""
    if base is None:
        return
    base_values = values_of(base)
    errors = {field: _tier_message(field, base_values) for field in looser_fields(values_of(tier), base_values)}
    if errors:
        raise ValidationError(errors)


def check_base_policy(base: Mapping, tier_policies: Iterable[SlaPolicy]) -> None:
    """A base policy may not become tighter than a tier's policy of its severity: that tier would be looser."""
    errors = {}
    for policy in tier_policies:
        for field in looser_fields(values_of(policy), base):
            errors.setdefault(field, _base_message(field, policy))
    if errors:
        raise ValidationError(errors)


def _tier_message(field: str, base: Mapping) -> str:
    if field == "business_time":
        if base["business_time"]:
            return _("The base policy of this severity counts business time: its tiers must too.")
        return _("The base policy of this severity counts around the clock: its tiers must too.")
    if field == "auto_status_email":
        return _("The base policy of this severity emails the customer when the update clock runs out: its "
                 "tiers must too.")
    return _("A tier may be equal to the base policy or tighter, never looser: the base policy says %(limit)s.") % {
        "limit": duration_string(base[field])}


def _base_message(field: str, policy: SlaPolicy) -> str:
    value = getattr(policy, field)
    if field in WINDOWS and value is not None:
        return _("The %(tier)s tier says %(value)s here, and no tier may be looser than the base policy: change "
                 "the tier's policy first.") % {"tier": policy.tier, "value": duration_string(value)}
    return _("The %(tier)s tier's policy for this severity would be looser than the base policy: change the "
             "tier's policy first.") % {"tier": policy.tier}

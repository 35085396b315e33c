"""The one page a customer reaches without logging in: stopping and restarting status updates.

The link carries a signed token naming the contact and the address the email was sent to. GET only shows
the page (mail scanners follow links); POST changes the setting. Mail providers' one-click unsubscribe
(RFC 8058) POSTs "List-Unsubscribe=One-Click" without a CSRF token, so this view is exempt: the signature
is the proof.
"""

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from issues.models import Contact
from notifications.links import names_address, unsubscribe_target


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        contact_id, tag = unsubscribe_target(token)
        contact = Contact.objects.select_related("customer").get(pk=contact_id)
    except signing.SignatureExpired:
        return render(request, "notifications/unsubscribe_invalid.html", {"expired": True}, status=410)
    except (signing.BadSignature, Contact.DoesNotExist):
        return invalid(request)
    if not names_address(tag, contact.email):
        return invalid(request)  # the contact's address changed since: the link was for someone else's inbox
    changed = False
    if request.method == "POST":
        wants_updates = request.POST.get("receives_updates") == "on"
        if contact.receives_updates != wants_updates:
            Contact.objects.filter(pk=contact.pk).update(receives_updates=wants_updates)
            contact.receives_updates = wants_updates
        changed = True
    with translation.override(contact.language):
        return render(request, "notifications/unsubscribe.html", {"contact": contact, "changed": changed})


def invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "notifications/unsubscribe_invalid.html", {"expired": False}, status=404)

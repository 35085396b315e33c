"""Logging in and choosing a language: the choice is remembered on the person's profile."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.views import i18n

from issues.login import LoginForm
from issues.models import Profile


def is_login_page(url: str) -> bool:
    try:
        return resolve(urlsplit(url).path).url_name == "login"
    except Resolver404:
        return False


def remember_language(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class LoginView(auth_views.LoginView):
    """Django's login, then the person's saved language for every page from here on."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        """Where ?next= asks to go, unless that is this login page: a signed-in person sent there would
        be sent on to it again and again (Django refuses that loop with a server error). Then: home."""
        url = super().get_redirect_url()
        return "" if url and is_login_page(url) else url

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        # A first login keeps the language the login page was read in.
        profile, _created = Profile.objects.get_or_create(
            user=form.get_user(), defaults={"language": translation.get_language() or settings.LANGUAGE_CODE}
        )
        remember_language(response, profile.language)
        return response


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language, and for a logged-in person the choice is saved for their next login."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated and language in dict(settings.LANGUAGES):
        Profile.objects.update_or_create(user=request.user, defaults={"language": language})
    return response

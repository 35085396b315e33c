"""The login forms (the app's and the admin's): Django's, with the username held to its column."""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator


class UsernameFitsItsColumn:
    """Django's login form only tells the browser how long a username may be: a longer one is still tried,
    and the failure is logged (django-axes) in a column too short for it, which PostgreSQL refuses with a
    server error. Here it is the field's own error, and no login is tried."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class LoginForm(UsernameFitsItsColumn, AuthenticationForm):
    pass


class AdminLoginForm(UsernameFitsItsColumn, AdminAuthenticationForm):
    pass

"""python manage.py create_api_token <username> [--read-only] [--name …]: the secret is printed once."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.tokens import create_token


class Command(BaseCommand):
    help = "Make a personal API token for a person and print it. It is shown only this once; store it now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--read-only", action="store_true", help="The token may only read.")
        parser.add_argument("--name", default="Command line", help="Where the token is used (shown in lists).")

    def handle(self, *args, username: str, read_only: bool, name: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No person with the username {username!r}.")
        if not user.is_active:
            raise CommandError(f"{username} cannot sign in (inactive): their token would be refused.")
        try:
            made = create_token(user=user, name=name, read_only=read_only)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        kind = "read-only" if read_only else "read-write"
        self.stderr.write(f"A {kind} token “{made.token.name}” for {username}. It is shown only this once:")
        self.stdout.write(made.secret)

"""Read settings from the environment, with defaults that work on a fresh machine."""

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
# Redis answers in milliseconds; a broker that accepted the connection and then went quiet must cost a
# publish seconds, never a worker or a web process forever (redis-py waits forever by default).
REDIS_SOCKET_CONNECT_TIMEOUT = 2
REDIS_SOCKET_TIMEOUT = 3


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def email_settings(url: str) -> dict[str, object]:
    """Turn EMAIL_URL into Django's EMAIL_* settings.

    console://                 print emails (the local default)
    smtp://user:pass@host:25   plain SMTP; smtp+tls:// uses STARTTLS, smtps:// implicit TLS
    """
    parsed = urlparse(url)
    scheme = parsed.scheme
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme not in {"smtp", "smtp+tls", "smtps"}:
        raise ImproperlyConfigured(f"EMAIL_URL scheme {scheme!r} is not one of console, smtp, smtp+tls, smtps.")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname or "localhost",
        "EMAIL_PORT": parsed.port or (465 if scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_TLS": scheme == "smtp+tls",
        "EMAIL_USE_SSL": scheme == "smtps",
    }


def broker_transport_options(url: str, folder: Path) -> dict[str, object]:
    """Celery's broker_transport_options for CELERY_BROKER_URL.

    filesystem://        one shared folder under `folder` (the local default; needs no server)
    redis://host:6379/0  Redis, with connect and read timeouts on every socket
    """
    if url.startswith("filesystem://"):
        return {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),  # kombu's filesystem transport reads what it writes
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }
    return {
        # Longer than any task's hard time limit, so Redis never redelivers a task that is still running.
        "visibility_timeout": 3600,
        "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
    }


def client_address_settings(behind_proxy: bool) -> dict[str, object]:
    """Where login throttling (django-axes, through django-ipware) finds the client's address.

    Reached directly, the socket's address is the client. Behind one trusted proxy (BEHIND_PROXY), the
    proxy appends the address it saw to X-Forwarded-For, so the right-most entry is the client; whatever
    stands to its left came from the client itself and proves nothing.
    """
    parsing = {
        # ipware 8's default ("modern") parser honours double quotes across commas: a client that sends
        # `X-Forwarded-For: 9.9.9.9, "` makes it swallow the entry our proxy appends, and is then counted
        # as 9.9.9.9, an address of its choosing. The 7.x parser splits on every comma. Not strict:
        # entries a client prepends are skipped instead of discarding the header and its last entry.
        "IPWARE_ALGORITHM": "legacy",
        "IPWARE_STRICT": False,
    }
    if not behind_proxy:
        return {**parsing, "AXES_IPWARE_META_PRECEDENCE_ORDER": ("REMOTE_ADDR",), "AXES_IPWARE_PROXY_COUNT": None}
    return {
        **parsing,
        # Only the proxy's word: REMOTE_ADDR is the proxy itself, the same for every client.
        "AXES_IPWARE_META_PRECEDENCE_ORDER": ("HTTP_X_FORWARDED_FOR",),
        "AXES_IPWARE_PROXY_ORDER": "left-most",
        # ipware counts from the right the proxies listed after the client; ours is REMOTE_ADDR, not listed.
        "AXES_IPWARE_PROXY_COUNT": 0,
    }

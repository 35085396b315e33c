"""Standard Webhooks signatures (HMAC-SHA256 over "id.timestamp.body"), made with the ``standardwebhooks``
package, so a receiver checks them with the same package (or any implementation of the spec)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from webhooks.models import Endpoint

# After a rotation, requests carry a signature with the old secret too for this long: a receiver can switch
# to the new secret at its own pace within a day.
ROTATION_OVERLAP = timedelta(hours=24)


def signed_headers(endpoint: Endpoint, *, message_id: str, body: str, sent_at: datetime) -> dict[str, str]:
    """The three headers of the spec. ``sent_at`` is the real time of sending: receivers reject a timestamp
    more than a few minutes away from their own clock (replays)."""
    stamp = datetime.fromtimestamp(int(sent_at.timestamp()), tz=UTC)
    signatures = [Webhook(secret).sign(message_id, stamp, body) for secret in secrets_of(endpoint, sent_at)]
    return {"webhook-id": message_id, "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": " ".join(signatures)}


def secrets_of(endpoint: Endpoint, moment: datetime) -> list[str]:
    secrets = [endpoint.secret]
    rotated = endpoint.secret_rotated_at
    if endpoint.previous_secret and rotated is not None and moment - rotated < ROTATION_OVERLAP:
        secrets.append(endpoint.previous_secret)
    return secrets

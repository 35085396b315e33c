"""A real receiver, and endpoints pointed at it."""

from __future__ import annotations

import pytest

from tests.factories import EndpointFactory
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def endpoint_at(receiver):
    """An endpoint posting to the receiver at `path`; the receiver learns its secret to verify with."""

    def make(path: str = "hooks", **fields):
        endpoint = EndpointFactory(name=path, url=receiver.url(path), **fields)
        receiver.secrets[path] = endpoint.secret
        return endpoint

    return make

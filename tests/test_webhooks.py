"""Webhook bodies of every shape we cannot read are refused with a 4xx, never a 500, at
every provider's endpoint; a readable body about no order of ours is a 404."""

import json

import pytest
from django.urls import reverse

from orders.providers.handover import webhook_secret
from orders.webhooks import WEBHOOK_MAX_DEPTH

PROVIDERS = ["aihomedesign", "iacrea", "adcreative"]


def nested(depth: int) -> bytes:
    """An object (level 1) holding lists that nest `depth` levels in all."""
    lists = "[" * (depth - 1) + "]" * (depth - 1)
    return f'{{"order_id": "x", "image": {lists}}}'.encode()


BAD = [
    ("deep lists", b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400),
    ("deep objects", b'{"a": ' * 100_000 + b"{}" + b"}" * 100_000, 400),
    ("one level past the limit", nested(WEBHOOK_MAX_DEPTH + 1), 400),
    ("not JSON", b"order done", 400),
    ("empty", b"", 400),
    ("cut short", b'{"order_id": "x", ', 400),
    ("not UTF-8", b'{"order_id": "\xff\xfe"}', 400),
    ("a list", b'[{"order_id": "x"}]', 400),
    ("a string", b'"order_id"', 400),
    ("a number", b"42", 400),
    ("null", b"null", 400),
    ("a 5000-digit number", b'{"order_id": ' + b"9" * 5000 + b"}", 400),
]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("shape", "body", "status"), BAD, ids=[shape for shape, *_ in BAD])
def test_an_unreadable_body_is_refused_with_a_4xx(db, client, provider, shape, body, status):
    path = reverse("orders:webhook", args=[provider, webhook_secret(provider)])

    answer = client.post(path, body, content_type="application/json")

    assert answer.status_code == status, answer.content
    assert "error" in answer.json()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_body_at_the_depth_limit_is_read(db, client, provider):
    path = reverse("orders:webhook", args=[provider, webhook_secret(provider)])

    answer = client.post(path, nested(WEBHOOK_MAX_DEPTH), content_type="application/json")

    assert answer.status_code == 404  # read, and about no order of ours
    assert answer.json() == {"error": "no such order"}


def test_the_depth_helper_counts_levels():
    assert json.loads(nested(2)) == {"order_id": "x", "image": []}
    assert json.loads(nested(3)) == {"order_id": "x", "image": [[]]}

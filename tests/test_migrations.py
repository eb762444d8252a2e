"""Migrations that change data: what was there before keeps working after."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from orders.models import ShareLink


@pytest.mark.django_db(transaction=True)
def test_share_links_sent_before_tokens_were_derived_keep_working(client):
    executor = MigrationExecutor(connection)
    before = [
        ("orders", "0005_order_poll_token"),
        ("projects", "0001_initial"),
        ("accounts", "0003_creditentry_order_creditentry_user"),
    ]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("accounts", "User").objects.create(email="agent@example.com")
    project = old.get_model("projects", "Project").objects.create(owner=user, name="Lilas")
    link = old.get_model("orders", "ShareLink").objects.create(
        owner=user, project=project, token="an-old-random-token-sent-to-a-seller"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    migrated = ShareLink.objects.get(pk=link.pk)
    assert ShareLink.objects.by_token("an-old-random-token-sent-to-a-seller") == migrated
    assert ShareLink.objects.by_token(migrated.token) == migrated  # and its new address
    assert client.get("/s/an-old-random-token-sent-to-a-seller/").status_code == 200

"""The order state machine: charges, refunds and leases, each step safe to run twice."""

import pytest

from orders import lifecycle, services
from orders.models import Order
from orders.tasks import run_order_task

from .factories import make_order

pytestmark = pytest.mark.django_db


def test_claim_happens_once(photo):
    order = make_order(photo)

    assert lifecycle.order_claim(order) is True
    assert lifecycle.order_claim(Order.objects.get(pk=order.pk)) is False
    assert Order.objects.get(pk=order.pk).attempts == 1


def test_a_failure_refunds_once_whatever_repeats(photo, agent):
    before = agent.credits
    order = make_order(photo, service="upscale")
    lifecycle.order_claim(order)

    lifecycle.order_fail(order, message="Broken.", detail="trace")
    lifecycle.order_fail(order, message="Broken again.", detail="trace")
    lifecycle.order_cancel(order)

    agent.refresh_from_db()
    order.refresh_from_db()
    assert agent.credits == before
    assert (order.status, order.message, order.credits_refunded) == ("failed", "Broken.", 1)
    assert agent.credit_entries.filter(kind="refund").count() == 1


def test_only_a_queued_order_can_be_cancelled(photo, agent):
    before = agent.credits
    queued = make_order(photo)
    started = make_order(photo)
    lifecycle.order_claim(started)

    assert lifecycle.order_cancel(queued) is True
    assert lifecycle.order_cancel(started) is False
    agent.refresh_from_db()
    assert agent.credits == before - 1


def test_retry_by_staff_charges_again_and_a_second_failure_refunds_again(photo, agent):
    before = agent.credits
    order = make_order(photo)
    lifecycle.order_claim(order)
    lifecycle.order_fail(order, message="x")

    assert services.order_retry(order) is True
    agent.refresh_from_db()
    assert agent.credits == before - 1
    lifecycle.order_claim(order)
    lifecycle.order_fail(order, message="y")
    agent.refresh_from_db()
    assert agent.credits == before
    assert agent.credit_entries.filter(kind="charge").count() == 2


def test_staff_refund_of_a_succeeded_order(photo, agent):
    before = agent.credits
    order = make_order(photo)
    run_order_task.call(order_id=order.pk)

    assert lifecycle.order_refund(Order.objects.get(pk=order.pk)) is True
    assert lifecycle.order_refund(Order.objects.get(pk=order.pk)) is False
    agent.refresh_from_db()
    assert agent.credits == before

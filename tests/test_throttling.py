"""Login lockouts by account and by address, and rate limits on the mails anyone can ask for."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from .factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
LOCKED = "Logging in is paused for 15 minutes."


def log_in(client, email: str, password: str, address: str = "203.0.113.7"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address)


def is_logged_in(client) -> bool:
    return client.get(reverse("projects:project_list")).status_code == 200


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(client, agent):
    answers = [log_in(client, agent.email, f"wrong {n}") for n in range(5)]

    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert LOCKED in answers[-1].text
    refused = log_in(client, "Agent@Example.com", PASSWORD)
    assert refused.status_code == 429
    assert LOCKED in refused.text
    assert "choose a new password" in refused.text
    assert not is_logged_in(client)


def test_the_lockout_follows_the_account_to_another_address(client, agent):
    for n in range(5):
        log_in(client, agent.email, f"wrong {n}", address="203.0.113.7")

    assert log_in(client, agent.email, PASSWORD, address="198.51.100.2").status_code == 429
    assert not is_logged_in(client)


def test_failures_over_many_accounts_lock_out_the_address(client, agent):
    for n in range(5):
        make_user(f"agent{n}@example.com")
        log_in(client, f"agent{n}@example.com", "guess")

    assert log_in(client, agent.email, PASSWORD).status_code == 429
    assert log_in(client, agent.email, PASSWORD, address="198.51.100.2").status_code == 302
    assert is_logged_in(client)


def test_the_account_opens_again_after_the_cool_off(client, agent):
    for n in range(5):
        log_in(client, agent.email, f"wrong {n}")

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert log_in(client, agent.email, PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_fewer_failures_than_the_limit_leave_the_right_password_working(client, agent):
    for n in range(4):
        log_in(client, agent.email, f"wrong {n}")

    assert log_in(client, agent.email, PASSWORD).status_code == 302


def test_staff_lift_a_lockout_in_the_admin(client, agent):
    for n in range(5):
        log_in(client, agent.email, f"wrong {n}")
    staff = make_user("staff@example.com", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(staff)

    listing = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert "agent@example.com" in listing.text
    attempt = AccessAttempt.objects.get(username="agent@example.com")
    admin.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )

    assert not AccessAttempt.objects.filter(username="agent@example.com").exists()
    assert log_in(client, agent.email, PASSWORD).status_code == 302


def test_the_admin_login_is_locked_out_the_same_way(client):
    staff = make_user("staff@example.com", is_staff=True)
    for n in range(5):
        client.post(
            reverse("admin:login"),
            {"username": staff.email, "password": f"wrong {n}"},
            REMOTE_ADDR="203.0.113.9",
        )

    response = client.post(
        reverse("admin:login"),
        {"username": staff.email, "password": PASSWORD},
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 429


def test_behind_a_proxy_the_address_is_the_one_the_proxy_added(client, agent, settings):
    settings.BEHIND_PROXY = True
    for n in range(5):
        make_user(f"agent{n}@example.com")
        client.post(
            LOGIN,
            {"username": f"agent{n}@example.com", "password": "guess"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.2, 203.0.113.7",
        )

    # Another visitor through the same proxy is not locked out with the attacker...
    other = Client().post(
        LOGIN,
        {"username": agent.email, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.44",
    )
    assert other.status_code == 302
    # ...and the attacker cannot slip out by claiming another address in front.
    again = client.post(
        LOGIN,
        {"username": "agent0@example.com", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7",
    )
    assert again.status_code == 429


def ask_reset(client, email: str, address: str = "203.0.113.7"):
    return client.post(reverse("accounts:password_reset"), {"email": email}, REMOTE_ADDR=address)


def test_password_reset_mails_to_one_address_are_limited_per_hour(client, agent, settings):
    answers = [ask_reset(client, agent.email, address=f"198.51.100.{n}") for n in range(5)]

    assert [a.status_code for a in answers] == [302, 302, 302, 429, 429]
    assert "Too many reset requests" in answers[-1].text
    assert len(mail.outbox) == settings.MAIL_REQUESTS_PER_HOUR_PER_EMAIL == 3


def test_password_reset_requests_from_one_client_are_limited_per_hour(client, db):
    users = [make_user(f"agent{n}@example.com") for n in range(12)]

    answers = [ask_reset(client, user.email) for user in users]

    assert [a.status_code for a in answers].count(302) == 10
    assert answers[-1].status_code == 429
    assert len(mail.outbox) == 10
    assert ask_reset(client, users[-1].email, address="198.51.100.2").status_code == 302


def test_sign_up_mails_are_limited_the_same_way(client, agent):
    signup = reverse("accounts:signup")
    per_email = [
        client.post(signup, {"email": "new@example.com"}, REMOTE_ADDR=f"198.51.100.{n}")
        for n in range(4)
    ]
    per_client = [
        client.post(signup, {"email": f"n{n}@example.com"}, REMOTE_ADDR="203.0.113.7")
        for n in range(11)
    ]

    assert [a.status_code for a in per_email] == [302, 302, 302, 429]
    assert [a.status_code for a in per_client].count(302) == 10
    assert "Too many sign-up requests" in per_client[-1].text
    assert len(mail.outbox) == 13

import base64
import re

from django.core import mail
from django.urls import reverse

from homedesign.accounts.models import User

from .factories import PASSWORD, make_user

NEW_PASSWORD = "blue shutters 1987 garden"


def page_without_csrf(client, url: str) -> str:
    return re.sub(r'"X-CSRFToken": "\w+"', "", client.get(url).text)


def signup_link(email: str) -> str:
    message = mail.outbox[-1]
    assert message.to == [email]
    return re.search(r"http://testserver(/accounts/signup/\S+)", message.body).group(1)


def test_signup_mails_a_link_that_creates_the_account_with_credits_and_logs_in(
    client, db, settings
):
    settings.STARTING_CREDITS = 25
    response = client.post(reverse("accounts:signup"), {"email": "New.Agent@Example.com"})

    assert response.url == reverse("accounts:signup_sent")
    assert not User.objects.exists()  # nothing exists until the address is proven
    assert mail.outbox[0].subject == "Finish creating your homedesign account"
    link = signup_link("new.agent@example.com")
    form_page = client.get(link)
    assert "new.agent@example.com" in form_page.text
    response = client.post(
        link,
        {"name": "Nadia Agent", "agency": "Agence du Parc", "password1": PASSWORD,
         "password2": PASSWORD},
        follow=True,
    )  # fmt: skip

    user = User.objects.get()
    assert (user.email, user.name, user.credits) == ("new.agent@example.com", "Nadia Agent", 25)
    assert response.context["user"] == user
    assert response.redirect_chain[-1][0] == reverse("projects:project_list")
    assert re.search(r'data-testid="credits">25</strong>', response.text)


def test_signup_with_a_taken_address_answers_the_same_and_tells_the_owner_by_mail(client, agent):
    new = client.post(reverse("accounts:signup"), {"email": "someone.new@example.com"})
    taken = client.post(reverse("accounts:signup"), {"email": "AGENT@example.com"})

    assert (taken.status_code, taken.url) == (new.status_code, new.url)
    assert page_without_csrf(client, taken.url) == page_without_csrf(client, new.url)
    reminder = mail.outbox[-1]
    assert reminder.to == ["agent@example.com"]
    assert reminder.subject == "You already have a homedesign account"
    assert "This address already has one" in reminder.body
    assert "http://testserver/accounts/password/reset/" in reminder.body
    assert "/accounts/signup/" not in reminder.body
    assert User.objects.count() == 1


def test_a_signup_link_for_an_address_that_got_an_account_since_goes_to_login(client, db):
    client.post(reverse("accounts:signup"), {"email": "twice@example.com"})
    link = signup_link("twice@example.com")
    fields = {"password1": PASSWORD, "password2": PASSWORD}
    client.post(link, fields)
    client.post(reverse("accounts:logout"))

    again = client.post(link, {**fields, "password1": "another pass 9", "password2": "x"})

    assert again.url == reverse("accounts:login")
    assert User.objects.count() == 1
    assert User.objects.get().check_password(PASSWORD)


def test_a_forged_or_expired_signup_link_is_refused(client, db, settings):
    client.post(reverse("accounts:signup"), {"email": "late@example.com"})
    link = signup_link("late@example.com")

    # Another address with the same timestamp and signature.
    _, timestamp, signature = link.split("/")[-2].split(":")
    other = base64.urlsafe_b64encode(b'"mallory@example.com"').decode().rstrip("=")
    forged = client.get(
        reverse("accounts:signup_complete", args=[f"{other}:{timestamp}:{signature}"])
    )
    settings.SIGNUP_LINK_SECONDS = -1
    expired = client.get(link)

    for response in (forged, expired):
        assert response.status_code == 404
        assert "This link no longer works" in response.text
    assert not User.objects.exists()


def test_signup_link_refuses_a_weak_password(client, db):
    client.post(reverse("accounts:signup"), {"email": "a@example.com"})

    response = client.post(
        signup_link("a@example.com"), {"password1": "12345678", "password2": "12345678"}
    )

    assert "This password is too common." in response.text
    assert not User.objects.exists()


def test_signed_in_agent_visiting_signup_goes_to_projects(agent_client):
    response = agent_client.get(reverse("accounts:signup"))

    assert response.status_code == 302
    assert response.url == reverse("projects:project_list")


def test_login_with_email_in_any_case(client, agent):
    response = client.post(
        reverse("accounts:login"), {"username": "Agent@EXAMPLE.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == reverse("projects:project_list")


def test_login_with_a_wrong_password_says_so(client, agent):
    response = client.post(reverse("accounts:login"), {"username": agent.email, "password": "x"})

    assert response.status_code == 200
    assert "That e-mail address and password do not match an account." in response.text


def test_logout_ends_the_session(agent_client):
    response = agent_client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert agent_client.get(reverse("projects:project_list")).status_code == 302


def test_logged_out_visitor_is_sent_to_login_with_next(client, db):
    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={reverse('accounts:profile')}"


def test_profile_shows_credits_and_saves_details(agent_client, agent):
    page = agent_client.get(reverse("accounts:profile"))
    assert f'data-testid="profile-credits">{agent.credits}<' in page.text

    response = agent_client.post(
        reverse("accounts:profile"), {"name": "Alice M.", "agency": "Lilas Immo"}, follow=True
    )

    agent.refresh_from_db()
    assert (agent.name, agent.agency) == ("Alice M.", "Lilas Immo")
    assert "Your profile was saved." in response.text


def test_profile_cannot_change_credits(agent_client, agent):
    agent_client.post(reverse("accounts:profile"), {"name": "A", "agency": "", "credits": 9999})

    agent.refresh_from_db()
    assert agent.credits != 9999


def test_password_change(agent_client, agent):
    response = agent_client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.url == reverse("accounts:password_change_done")
    agent.refresh_from_db()
    assert agent.check_password(NEW_PASSWORD)


def test_password_reset_by_email_link(client, agent):
    client.post(reverse("accounts:password_reset"), {"email": "agent@example.com"})

    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Reset your homedesign password"
    link = re.search(r"http://testserver(\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.text
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.url == reverse("accounts:password_reset_complete")
    agent.refresh_from_db()
    assert agent.check_password(NEW_PASSWORD)


def test_password_reset_for_an_unknown_address_sends_nothing_and_reveals_nothing(client, db):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})

    assert response.url == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_a_used_reset_link_says_it_no_longer_works(client, agent):
    client.post(reverse("accounts:password_reset"), {"email": agent.email})
    link = re.search(r"http://testserver(\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    response = client.get(link, follow=True)

    assert "This link no longer works" in response.text


def test_signup_credits_open_the_ledger(client, db):
    client.post(reverse("accounts:signup"), {"email": "l@example.com"})
    client.post(signup_link("l@example.com"), {"password1": PASSWORD, "password2": PASSWORD})

    user = User.objects.get()
    entry = user.credit_entries.get()
    assert (entry.kind, entry.amount, entry.balance_after) == ("signup", user.credits, user.credits)


def test_new_users_get_the_configured_starting_credits(db, settings):
    settings.STARTING_CREDITS = 7
    assert make_user("x@example.com").credits == 7

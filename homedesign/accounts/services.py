"""Sign-up by e-mail: the page never says whether an address has an account; the mail does,
to the address's owner. The account is made only from the link in that mail, so nobody can
open an account on someone else's address, nor learn who has one. And the agent's profile,
with the logo share pages show."""

import uuid

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from .credits import credits_welcome
from .forms import ProfileForm, SignupCompleteForm
from .models import User

SIGNUP_SALT = "homedesign.accounts.signup"


def signup_mail_send(*, request: HttpRequest, email: str) -> None:
    """A link to finish signing up, or, to an address with an account, a reminder of it."""
    context = {
        "email": email,
        "login_url": request.build_absolute_uri(reverse("accounts:login")),
        "reset_url": request.build_absolute_uri(reverse("accounts:password_reset")),
        "hours": settings.SIGNUP_LINK_SECONDS // 3600,
    }
    if User.objects.filter(email__iexact=email).exists():
        subject = "You already have a homedesign account"
        template = "accounts/signup_exists_email.txt"
    else:
        token = signing.dumps(email, salt=SIGNUP_SALT)
        context["link"] = request.build_absolute_uri(
            reverse("accounts:signup_complete", args=[token])
        )
        subject = "Finish creating your homedesign account"
        template = "accounts/signup_email.txt"
    send_mail(subject, render_to_string(template, context), None, [email])


def signup_email_from_token(token: str) -> str | None:
    """The address a sign-up link was sent to, or None if the link is forged or expired."""
    try:
        return signing.loads(token, salt=SIGNUP_SALT, max_age=settings.SIGNUP_LINK_SECONDS)
    except signing.BadSignature:  # SignatureExpired is one too
        return None


def signup_complete(*, form: SignupCompleteForm) -> User | None:
    """The account, with its welcome credits; None if the address got one meanwhile."""
    try:
        with transaction.atomic():
            user = form.save()
            credits_welcome(user=user)
    except IntegrityError:
        return None
    return user


def profile_update(*, form: ProfileForm) -> User:
    """Save the agent's details and their logo: a new one replaces the old (under a new
    name, so no browser keeps showing the old), or it is removed."""
    user = form.save()
    logo, remove = form.cleaned_data.get("logo"), form.cleaned_data.get("remove_logo")
    if logo or remove:
        user_logo_set(user=user, data=logo)
    return user


def user_logo_set(*, user: User, data: bytes | None) -> None:
    """Store the checked PNG of the agent's logo (None removes it), and delete the old file
    once the change is committed."""
    old = user.logo.name
    if data:
        user.logo.save(f"{uuid.uuid4().hex}.png", ContentFile(data), save=False)
    else:
        user.logo.name = ""
    user.save(update_fields=["logo"])
    if old:
        transaction.on_commit(lambda: default_storage.delete(old))

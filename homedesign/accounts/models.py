from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.contrib.auth.models import UserManager as BaseUserManager
from django.db import models
from django.db.models.functions import Lower


def starting_credits() -> int:
    return settings.STARTING_CREDITS


def logo_file_path(user: "User", filename: str) -> str:
    return f"logos/{user.pk}/{filename}"


class UserManager(BaseUserManager["User"]):
    """Users sign in with their e-mail address, matched without regard to case."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields: Any) -> "User":
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    # Django's signatures start with a username; ours is the e-mail address.
    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email__iexact=username)


class User(AbstractUser):
    # AbstractUser's name fields are not used: people sign in with their e-mail address.
    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True)
    name = models.CharField("full name", max_length=150, blank=True)
    agency = models.CharField(max_length=150, blank=True)
    # Shown to sellers on share pages, when filled in.
    phone = models.CharField("phone for sellers", max_length=40, blank=True)
    contact_email = models.EmailField(
        "e-mail for sellers", blank=True, help_text="Leave empty to show no e-mail address."
    )
    # Checked and re-encoded from pixels on upload (accounts.forms.ProfileForm).
    logo = models.FileField(upload_to=logo_file_path, max_length=300, blank=True)
    credits = models.PositiveIntegerField(
        default=starting_credits, help_text="Credits left to spend on orders."
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


class CreditEntry(models.Model):
    """The credit ledger: every change to a balance, with why. The balance on the user is
    the sum of these, kept alongside for cheap reads."""

    class Kind(models.TextChoices):
        SIGNUP = "signup", "Welcome credits"
        CHARGE = "charge", "Order"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment by staff"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_entries"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.IntegerField(help_text="Positive adds credits, negative spends them.")
    balance_after = models.IntegerField()
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="credit_entries",
    )
    note = models.CharField(max_length=200, blank=True)
    # Charges and refunds carry a key so a repeated step cannot book them twice.
    idempotency_key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "credit entries"

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.get_kind_display()} for {self.user}"


class Throttle(models.Model):
    """Requests counted per key and fixed time window, for rate limits that hold across web
    processes and machines (they share the database). The key is a hash: e-mail addresses
    of people without an account are not kept."""

    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="throttle_key_window")
        ]

    def __str__(self) -> str:
        return f"{self.key[:12]}… {self.hits} since {self.window_start:%Y-%m-%d %H:%M}"


# Who a request belongs to: a signed-in user or a visitor.
AnyUser = User | AnonymousUser

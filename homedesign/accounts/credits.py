"""Every change to a credit balance goes through here, with a line in the ledger.

Balances change with a conditional UPDATE, so two orders placed at once cannot both spend
the last credits, and a ledger line with an idempotency key cannot be booked twice.
"""

from django.db import IntegrityError, transaction
from django.db.models import F

from orders.models import Order

from .models import CreditEntry, User


class NotEnoughCredits(Exception):
    def __init__(self, needed: int, balance: int, *, what: str = "This edit"):
        self.needed, self.balance = needed, balance
        super().__init__(
            f"{what} costs {needed} credit{'s' if needed != 1 else ''} and you have "
            f"{balance}. Ask your homedesign contact to top up your credits."
        )


def _book(
    *,
    user: User,
    amount: int,
    kind: str,
    order: Order | None = None,
    key: str | None = None,
    note: str = "",
) -> CreditEntry | None:
    """Apply one ledger line; None if its key was booked before (a repeated step)."""
    try:
        with transaction.atomic():
            entry = CreditEntry.objects.create(
                user=user,
                kind=kind,
                amount=amount,
                balance_after=0,
                order=order,
                idempotency_key=key,
                note=note,
            )
            rows = User.objects.filter(pk=user.pk, credits__gte=max(0, -amount)).update(
                credits=F("credits") + amount
            )
            if not rows:
                raise NotEnoughCredits(-amount, User.objects.get(pk=user.pk).credits)
            user.refresh_from_db(fields=["credits"])
            entry.balance_after = user.credits
            entry.save(update_fields=["balance_after"])
            return entry
    except IntegrityError:
        if key and CreditEntry.objects.filter(idempotency_key=key).exists():
            return None
        raise


def credits_charge(*, user: User, amount: int, order: Order, key: str) -> CreditEntry | None:
    """Spend credits on an order. Raises NotEnoughCredits."""
    return _book(user=user, amount=-amount, kind=CreditEntry.Kind.CHARGE, order=order, key=key)


def credits_refund(*, user: User, amount: int, order: Order, key: str) -> CreditEntry | None:
    return _book(user=user, amount=amount, kind=CreditEntry.Kind.REFUND, order=order, key=key)


def credits_welcome(*, user: User) -> None:
    """Record the starting balance a new account was given."""
    CreditEntry.objects.get_or_create(
        idempotency_key=f"signup:{user.pk}",
        defaults={
            "user": user,
            "kind": CreditEntry.Kind.SIGNUP,
            "amount": user.credits,
            "balance_after": user.credits,
        },
    )


def credits_adjust(*, user: User, new_balance: int, note: str = "") -> None:
    """Staff set a balance in the admin; the difference goes into the ledger."""
    current = User.objects.get(pk=user.pk).credits
    if new_balance != current:
        _book(user=user, amount=new_balance - current, kind=CreditEntry.Kind.ADJUSTMENT, note=note)

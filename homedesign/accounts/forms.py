from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm, PasswordResetForm
from django.template.defaultfilters import filesizeformat

from homedesign.projects.images import LOGO_LABEL, PhotoRejected, prepare_logo

from .models import User


class SignupForm(forms.Form):
    """The first step: only the address. Whether it has an account is told by e-mail, to its
    owner, never on the page."""

    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class SignupCompleteForm(BaseUserCreationForm):
    """The second step, from the link in the mail: the address is proven, the rest is chosen."""

    class Meta:
        model = User
        fields = ("name", "agency")
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name", "autofocus": True}),
            "agency": forms.TextInput(attrs={"autocomplete": "organization"}),
        }

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Set before validation: the password may not resemble the address.
        self.instance.email = email
        self.fields["password1"].widget.attrs["autocomplete"] = "new-password"


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That e-mail address and password do not match an account.",
    }


class ProfileForm(forms.ModelForm):
    """The agent's details; the logo is checked here and stored by accounts.services."""

    logo = forms.FileField(
        label="Logo",
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    remove_logo = forms.BooleanField(label="Remove my logo", required=False)

    class Meta:
        model = User
        fields = ("name", "agency", "phone", "contact_email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["logo"].help_text = (
            f"Shown beside your name on share pages. {LOGO_LABEL}, up to "
            f"{filesizeformat(settings.LOGO_MAX_BYTES)}; a PNG with a transparent "
            "background looks best."
        )

    def clean_logo(self) -> bytes | None:
        """The logo re-encoded from its pixels, or None when none was chosen."""
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        try:
            return prepare_logo(
                upload,
                name=upload.name or "The logo",
                byte_size=upload.size or 0,
                max_bytes=settings.LOGO_MAX_BYTES,
                max_pixels=settings.LOGO_MAX_PIXELS,
                box=settings.LOGO_SIZE,
            )
        except PhotoRejected as rejected:
            raise forms.ValidationError(str(rejected)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("logo") and self.errors:
            # A browser never fills a file field in again: say so, rather than lose it quietly.
            self.add_error("logo", "Your logo was fine: choose it again once the rest is right.")
        return data


class ResetForm(PasswordResetForm):
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm, PasswordResetForm

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
    class Meta:
        model = User
        fields = ("name", "agency", "phone", "contact_email")


class ResetForm(PasswordResetForm):
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

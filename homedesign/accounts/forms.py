from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm, PasswordResetForm

from .models import User


class SignupForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "agency")
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "agency": forms.TextInput(attrs={"autocomplete": "organization"}),
        }

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this e-mail address already exists. Log in instead, or reset "
                "your password if you forgot it."
            )
        return email


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

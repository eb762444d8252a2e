from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from homedesign.http import AuthedRequest

from .credits import credits_welcome
from .forms import ProfileForm, SignupForm


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("projects:project_list")
    if request.method == "POST":
        form = SignupForm(request.POST)
        if form.is_valid():
            user = form.save()
            credits_welcome(user=user)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                f"Welcome to homedesign! You have {user.credits} credits to start with. "
                "Create a project for your first listing.",
            )
            return redirect("projects:project_list")
    else:
        form = SignupForm()
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def profile(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=request.user)
        if form.is_valid():
            form.save()
            messages.success(request, "Your profile was saved.")
            return redirect("accounts:profile")
    else:
        form = ProfileForm(instance=request.user)
    entries = request.user.credit_entries.select_related("order")[:50]
    return render(request, "accounts/profile.html", {"form": form, "entries": entries})

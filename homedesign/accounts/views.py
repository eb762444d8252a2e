from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_GET, require_http_methods

from homedesign.http import AuthedRequest
from homedesign.projects.serving import serve_file

from . import services
from .forms import LoginForm, ProfileForm, ResetForm, SignupCompleteForm, SignupForm
from .models import User
from .throttle import login_username, mail_request_refused


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("projects:project_list")
    form = SignupForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "starting_credits": settings.STARTING_CREDITS}
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if mail_request_refused(request, scope="signup", email=email):
            context["throttled"] = True
            return render(request, "accounts/signup.html", context, status=429)
        services.signup_mail_send(request=request, email=email)
        return redirect("accounts:signup_sent")
    return render(request, "accounts/signup.html", context)


@login_not_required
@require_GET
def signup_sent(request: HttpRequest) -> HttpResponse:
    hours = settings.SIGNUP_LINK_SECONDS // 3600
    return render(request, "accounts/signup_sent.html", {"hours": hours})


@login_not_required
@require_http_methods(["GET", "POST"])
def signup_complete(request: HttpRequest, token: str) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("projects:project_list")
    email = services.signup_email_from_token(token)
    if email is None:
        return render(request, "accounts/signup_link_invalid.html", status=404)
    already = "An account with this e-mail address exists already. Log in with it."
    if User.objects.filter(email__iexact=email).exists():
        messages.info(request, already)
        return redirect("accounts:login")
    data = request.POST if request.method == "POST" else None
    form = SignupCompleteForm(data, email=email)
    if request.method == "POST" and form.is_valid():
        user = services.signup_complete(form=form)
        if user is None:
            messages.info(request, already)
            return redirect("accounts:login")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            f"Welcome to homedesign! You have {user.credits} credits to start with. "
            "Create a project for your first listing.",
        )
        return redirect("projects:project_list")
    return render(request, "accounts/signup_complete.html", {"form": form, "email": email})


password_reset_form_view = auth_views.PasswordResetView.as_view(
    template_name="accounts/password_reset.html",
    form_class=ResetForm,
    email_template_name="accounts/password_reset_email.txt",
    subject_template_name="accounts/password_reset_subject.txt",
    success_url=reverse_lazy("accounts:password_reset_done"),
)


@login_not_required
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponseBase:
    """Django's reset view, behind the same limits as sign-up mails."""
    email = request.POST.get("email", "") if request.method == "POST" else ""
    if email and mail_request_refused(request, scope="password-reset", email=email):
        context = {"form": ResetForm(request.POST), "throttled": True}
        return render(request, "accounts/password_reset.html", context, status=429)
    return password_reset_form_view(request)


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """What django-axes answers to a login while the account or the address is locked out.
    The form stays, empty: filling it in again is refused until the pause is over."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {
        "form": LoginForm(request, initial={"username": login_username(request, credentials)}),
        "locked_out_minutes": minutes,
        "next": request.POST.get("next", ""),
    }
    return render(request, "accounts/login.html", context, status=429)


@require_http_methods(["GET", "POST"])
def profile(request: AuthedRequest) -> HttpResponse:
    user = User.objects.get(pk=request.user.pk)  # the form may change it, request.user not
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES, instance=user)
        if form.is_valid():
            services.profile_update(form=form)
            messages.success(request, "Your profile was saved.")
            return redirect("accounts:profile")
    else:
        form = ProfileForm(instance=user)
    entries = request.user.credit_entries.select_related("order")[:50]
    context = {"form": form, "entries": entries, "has_logo": bool(request.user.logo)}
    return render(request, "accounts/profile.html", context, status=400 if form.errors else 200)


@require_GET
def profile_logo(request: AuthedRequest) -> HttpResponseBase:
    """The agent's own logo, for their profile page."""
    if not request.user.logo:
        raise Http404
    return serve_file(request, request.user.logo, etag=f"logo-{request.user.logo.name}")

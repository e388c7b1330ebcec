from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from reviews import public_views as brief_views

from . import views

admin.site.site_header = _("Evidence portal: review")
admin.site.site_title = _("Evidence portal review")
admin.site.index_title = _("Review workspace")

# The auth pages are public by nature; LoginRequiredMiddleware would otherwise loop.
public_auth = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
for pattern in public_auth:
    pattern.callback = login_not_required(pattern.callback)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/welcome/", views.after_sign_in, name="after-sign-in"),
    # Public: how a ministry checks a brief without the portal (keys ever used, the verifier).
    path("keys/", brief_views.keys_page, name="brief-signing-keys"),
    path("keys.json", brief_views.keys_json, name="brief-signing-keys-json"),
    path("keys/certificate.pem", brief_views.certificate, name="brief-signing-certificate"),
    path("verify.py", brief_views.verifier, {"name": "verify.py"}, name="brief-verifier"),
    path(
        "requirements-verify.txt",
        brief_views.verifier,
        {"name": "requirements-verify.txt"},
        name="brief-verifier-requirements",
    ),
    # The language switcher: public, as people choose a language before they sign in.
    path("language/", views.set_language, name="set_language"),
    path("accounts/", include(public_auth)),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("organisation/", views.organisation, name="organisation"),
    path(
        "organisation/<slug:slug>/invite/",
        views.organisation_invite,
        name="organisation-invite",
    ),
    path(
        "organisation/<slug:slug>/members/<int:pk>/remove/",
        views.organisation_member_remove,
        name="organisation-member-remove",
    ),
    path(
        "organisation/<slug:slug>/invitations/<int:pk>/revoke/",
        views.organisation_invitation_revoke,
        name="organisation-invitation-revoke",
    ),
    # Public: the invited person may not have an account yet (the view is @login_not_required).
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("dossiers/", include("submissions.urls")),
    path("accounts/two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path(
        "accounts/two-factor/recovery-codes/",
        views.recovery_codes_reset,
        name="two_factor_recovery_codes",
    ),
    path("api/", include("api.urls")),
    # The anonymous intake for victims and witnesses (/report/) and its queue (/intakes/).
    path("", include("intake.urls")),
    # transparency/ (public) and the organisation impact page.
    path("", include("transparency.urls")),
    path("admin/", admin.site.urls),
]

# The benchmarks' floor (bench/bench_load.py): a page of nothing but the base template.
if settings.DEBUG or settings.PORTAL_BENCH_FLOOR:
    urlpatterns.append(path("bench/floor/", views.floor, name="bench-floor"))

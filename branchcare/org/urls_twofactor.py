"""Two-factor login pages, under ``accounts/2fa/`` (see ``branchcare.org.twofactor``)."""

from django.urls import path

from . import twofactor

app_name = "twofactor"
urlpatterns = [
    path("setup/", twofactor.enroll_view, name="enroll"),
    path("verify/", twofactor.verify_view, name="verify"),
    path("recovery-codes/", twofactor.recovery_codes_view, name="recovery_codes"),
    path("recovery-codes/new/", twofactor.regenerate_codes_view, name="regenerate_codes"),
    path("", twofactor.security_view, name="security"),
]

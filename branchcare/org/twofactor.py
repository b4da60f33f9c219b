"""Two-factor login for staff: a TOTP authenticator app plus ten single-use recovery codes (django-otp).

Who: with ``BRANCHCARE_2FA_REQUIRED`` on (production's default), every account that can see unmasked
personal data or change configuration (``TWO_FACTOR_CAPABILITIES``), and Django staff/superusers.

Flow: the password login stays as it is. Then :class:`TwoFactorMiddleware` sends such a user, until the
session is verified, to enrollment (no confirmed authenticator yet: QR code + manual key, confirmed with a
6-digit code; the recovery codes are shown once) or to verification (a 6-digit code or a recovery code).
Success calls ``django_otp.login()``, which marks the session verified.

Until then the user reaches only the two 2FA pages, logout, the language switch and static files: other
pages redirect (HTMX requests get ``HX-Redirect``) and ``/api/`` requests made with the session get a 403
JSON answer. API calls that send ``Authorization: Token …`` are not affected: DRF authenticates them by
the token alone (token clients are service clients; see the notes on ``/api/v1/auth/token/`` in the report).

Wrong codes: each one is counted on the device by django-otp's throttling (which also enforces its own
short exponential back-off); ``LOCK_AFTER_FAILURES`` failures in a row lock the user's codes for
``LOCK_DURATION``. Enrollment, verification, failures, locks and new recovery codes are audited
(``security.2fa_*``), never with a code or secret.
"""

from __future__ import annotations

import re
import secrets
from base64 import b32encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from branchcare.core.audit import audit_log
from branchcare.core.errors import DomainError

from .capabilities import Cap
from .typing import AuthedRequest

#: Holding any of these capabilities makes two-factor login compulsory.
TWO_FACTOR_CAPABILITIES = (Cap.PERSONAL_DATA_VIEW, Cap.ORG_CONFIGURE, Cap.STAFF_MANAGE)
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 10
RECOVERY_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: easy to copy by hand
LOCK_AFTER_FAILURES = 5
LOCK_DURATION = timedelta(minutes=15)
AUTHENTICATOR_NAME = "authenticator"
RECOVERY_NAME = "recovery"
# The recovery codes just generated, shown once on the next page and then dropped from the session.
SESSION_NEW_CODES = "branchcare_2fa_new_codes"
# Views an unverified user may reach (besides static files).
EXEMPT_VIEWS = frozenset({"twofactor:enroll", "twofactor:verify", "logout", "set_language"})

_TOTP_CODE = re.compile(r"\d{6}")
_RECOVERY_CODE = re.compile(rf"[{RECOVERY_CODE_ALPHABET}]{{{RECOVERY_CODE_LENGTH}}}")


# ---------------------------------------------------------------------------------------------------------
# Who needs it, and where they stand
# ---------------------------------------------------------------------------------------------------------


def two_factor_required(user: Any) -> bool:
    """Whether ``user`` must log in with a second factor (always False while the setting is off)."""
    if not getattr(settings, "BRANCHCARE_2FA_REQUIRED", False):
        return False
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.is_staff:  # the Django admin sees everything
        return True
    return any(user.has_cap(cap) for cap in TWO_FACTOR_CAPABILITIES)


def session_verified(user: Any) -> bool:
    """Whether this session passed the second factor (set by django-otp's middleware)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def two_factor_pending(user: Any) -> bool:
    return two_factor_required(user) and not session_verified(user)


def authenticator_for(user: Any) -> TOTPDevice | None:
    """The user's confirmed authenticator, if enrolled."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def format_recovery_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def secret_groups(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The ``otpauth://`` URI as an inline SVG QR code (no style attributes, so the CSP holds)."""
    qr = segno.make(device.config_url, error="m")
    svg = qr.svg_inline(scale=4, border=4, dark="#000", light="#fff", svgclass="twofactor-qr", lineclass=None)
    return mark_safe(svg)  # generated here from the device's own URI: no user-supplied markup


# ---------------------------------------------------------------------------------------------------------
# Services: checking codes, enrolling, recovery codes
# ---------------------------------------------------------------------------------------------------------


@dataclass
class CodeCheck:
    """The outcome of one code entry."""

    ok: bool
    method: str = ""  # "totp" or "recovery"
    device: TOTPDevice | StaticDevice | None = None
    locked_until: datetime | None = None  # codes refused until then (lock, or django-otp's back-off)
    malformed: bool = False  # not a code at all: refused without counting an attempt
    recovery_allowed: bool = False


def _normalise_code(raw: str) -> str:
    return re.sub(r"[\s\-]", "", raw or "").lower()


def _lock_of(devices: list[Any]) -> datetime | None:
    """When the user's codes unlock again, if they are locked: ``LOCK_AFTER_FAILURES`` failures in a
    row (summed over the user's devices) within ``LOCK_DURATION``, or django-otp's own back-off."""
    now = timezone.now()
    recent = [
        d
        for d in devices
        if d.throttling_failure_timestamp and now - d.throttling_failure_timestamp < LOCK_DURATION
    ]
    until: datetime | None = None
    if sum(d.throttling_failure_count for d in recent) >= LOCK_AFTER_FAILURES:
        until = max(d.throttling_failure_timestamp for d in recent) + LOCK_DURATION
    for device in devices:
        allowed, data = device.verify_is_allowed()
        if not allowed and (data or {}).get("locked_until"):
            until = max(until or now, data["locked_until"])
    return until


def _audit(user: Any, action: str, **changes: Any) -> None:
    audit_log(
        actor=user,
        action=f"security.2fa_{action}",
        object_type="security",
        object_repr=user.username,
        branch_id=getattr(user, "branch_id", None),
        changes={key: [None, value] for key, value in changes.items()},
    )


def _check_code(
    *, user: Any, code: str, authenticator: TOTPDevice, allow_recovery: bool, stage: str
) -> CodeCheck:
    """Check ``code`` against ``authenticator`` (six digits) or, if allowed, the recovery codes. Call
    inside a transaction: the user's devices are locked so that parallel guesses queue."""
    totp = list(TOTPDevice.objects.select_for_update().filter(user=user).order_by("pk"))
    static = list(StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk"))
    devices: list[Any] = totp + static
    device: Any = next((d for d in totp if d.pk == authenticator.pk), None)
    code = _normalise_code(code)
    if _TOTP_CODE.fullmatch(code):
        method = "totp"
    elif allow_recovery and _RECOVERY_CODE.fullmatch(code):
        method = "recovery"
        device = static[0] if static else device  # no recovery codes left: counts against the app
    else:
        return CodeCheck(ok=False, malformed=True, recovery_allowed=allow_recovery)
    locked_until = _lock_of(devices)
    if locked_until is not None:
        _audit(user, "failed", stage=stage, method=method, reason="locked")
        return CodeCheck(ok=False, method=method, locked_until=locked_until)
    # verify_token counts a failure on the device (django-otp's throttling), or resets it on success.
    if device.verify_token(code):
        for other in devices:
            if other is not device and other.throttling_failure_count:
                other.throttle_reset()
        return CodeCheck(ok=True, method=method, device=device)
    failures = sum(d.throttling_failure_count for d in devices)
    _audit(user, "failed", stage=stage, method=method, failures=failures)
    if failures < LOCK_AFTER_FAILURES:
        return CodeCheck(ok=False, method=method)
    locked_until = _lock_of(devices)
    if locked_until is not None and locked_until - timezone.now() > timedelta(minutes=1):
        _audit(user, "locked", stage=stage, until=locked_until.isoformat(timespec="seconds"))
    return CodeCheck(ok=False, method=method, locked_until=locked_until)


def _new_recovery_codes(user: Any) -> list[str]:
    """Replace the user's recovery codes with ``RECOVERY_CODE_COUNT`` new ones; returns them (the only
    time they are readable outside the database)."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    if not device.confirmed or device.throttling_failure_count:
        device.confirmed = True
        device.throttle_reset(commit=False)
        device.save()
    device.token_set.all().delete()
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        codes.add("".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH)))
    ordered = sorted(codes)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in ordered])
    return ordered


@transaction.atomic
def twofactor_enroll_begin(*, user: Any) -> TOTPDevice:
    """The authenticator being set up: the unconfirmed one from an earlier visit (so a reload keeps the
    key the user may already have scanned), or a new one with a fresh random key."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise DomainError(_("两步验证已启用。"))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


@transaction.atomic
def twofactor_enroll_confirm(*, user: Any, code: str) -> tuple[CodeCheck, list[str]]:
    """Confirm the pending authenticator with a code from the app. On success the authenticator is
    active and the returned recovery codes replace any earlier ones."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise DomainError(_("两步验证已启用。"))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        raise DomainError(_("请重新开始设置两步验证。"))
    check = _check_code(user=user, code=code, authenticator=device, allow_recovery=False, stage="enroll")
    if not check.ok:
        return check, []
    device = check.device
    assert isinstance(device, TOTPDevice)
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    codes = _new_recovery_codes(user)
    _audit(user, "enrolled", device="totp", recovery_codes=len(codes))
    return check, codes


@transaction.atomic
def twofactor_verify(*, user: Any, code: str) -> CodeCheck:
    """Check a login's second factor: a code from the authenticator or one recovery code (used up)."""
    authenticator = authenticator_for(user)
    if authenticator is None:
        raise DomainError(_("尚未设置两步验证。"))
    check = _check_code(
        user=user, code=code, authenticator=authenticator, allow_recovery=True, stage="verify"
    )
    if check.ok:
        extra = {"recovery_codes_left": recovery_codes_left(user)} if check.method == "recovery" else {}
        _audit(user, "verified", method=check.method, **extra)
    return check


@transaction.atomic
def recovery_codes_regenerate(*, user: Any, code: str) -> tuple[CodeCheck, list[str]]:
    """New recovery codes (the old ones stop working), confirmed with a current authenticator code."""
    authenticator = authenticator_for(user)
    if authenticator is None:
        raise DomainError(_("尚未设置两步验证。"))
    check = _check_code(
        user=user, code=code, authenticator=authenticator, allow_recovery=False, stage="regenerate"
    )
    if not check.ok:
        return check, []
    codes = _new_recovery_codes(user)
    _audit(user, "recovery_regenerated", recovery_codes=len(codes))
    return check, codes


@transaction.atomic
def twofactor_reset(*, actor: Any, user: Any) -> None:
    """Remove a user's authenticator and recovery codes (lost phone): they enroll again at next login.
    For administrators; the caller checks that ``actor`` may manage ``user``."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_log(
        actor=actor,
        action="security.2fa_reset",
        object_type="security",
        object_repr=user.username,
        branch_id=getattr(user, "branch_id", None),
    )


# ---------------------------------------------------------------------------------------------------------
# Middleware
# ---------------------------------------------------------------------------------------------------------


class TwoFactorMiddleware:
    """Confine a user who needs two-factor login and has not passed it to the 2FA pages.

    Install after ``django_otp.middleware.OTPMiddleware``. Costs nothing while the setting is off; while
    on, the check uses the capability lookup the navigation makes anyway."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if getattr(settings, "BRANCHCARE_2FA_REQUIRED", False):
            response = self._refuse(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _refuse(self, request: HttpRequest) -> HttpResponse | None:
        path = request.path_info
        if path.startswith(settings.STATIC_URL):
            return None
        if path.startswith("/api/") and request.headers.get("Authorization", "").startswith("Token "):
            return None  # DRF authenticates by the token only (TokenAuthentication is tried first)
        user = getattr(request, "user", None)
        if not two_factor_pending(user):
            return None
        try:
            if resolve(path).view_name in EXEMPT_VIEWS:
                return None
        except Resolver404:
            pass
        if path.startswith("/api/"):
            return JsonResponse(
                {"detail": _("请先在浏览器中完成两步验证。"), "code": "two_factor_required"}, status=403
            )
        target = reverse("twofactor:verify" if authenticator_for(user) else "twofactor:enroll")
        if request.method == "GET" and not request.headers.get("HX-Request"):
            target = f"{target}?{urlencode({'next': request.get_full_path()})}"
        if request.headers.get("HX-Request"):
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return redirect(target)


# ---------------------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------------------


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _code_error(check: CodeCheck) -> str:
    if check.locked_until is not None:
        if check.locked_until - timezone.now() < timedelta(minutes=1):  # django-otp's short back-off
            return _("尝试过于频繁，请稍等几秒再输入。")
        local = timezone.localtime(check.locked_until)
        return _("验证码错误次数过多，已暂时锁定，请于 %(time)s 之后再试。") % {
            "time": date_format(local, "H:i:s")
        }
    if check.malformed:
        if check.recovery_allowed:
            return _("请输入验证器显示的 6 位数字，或一个恢复码。")
        return _("请输入验证器显示的 6 位数字。")
    return _("验证码不正确，请重新输入。")


def _login_verified(request: HttpRequest, device: Any) -> None:
    request.session.cycle_key()  # a new session id for the now stronger session
    django_otp.login(request, device)


@never_cache
@login_required
def enroll_view(request: AuthedRequest) -> HttpResponse:
    """Set up the authenticator: QR code and key, confirmed with one code; then the recovery codes."""
    user = request.user
    next_url = _next_url(request)
    if not two_factor_required(user):
        messages.info(request, _("您的账号无需两步验证。"))
        return redirect("twofactor:security")
    if authenticator_for(user) is not None:
        return redirect(f"{reverse('twofactor:verify')}?{urlencode({'next': next_url})}")
    error = ""
    if request.method == "POST":
        try:
            check, codes = twofactor_enroll_confirm(user=user, code=request.POST.get("code", ""))
        except DomainError as exc:
            error = exc.message
        else:
            if check.ok:
                _login_verified(request, check.device)
                request.session[SESSION_NEW_CODES] = codes
                return redirect(f"{reverse('twofactor:recovery_codes')}?{urlencode({'next': next_url})}")
            error = _code_error(check)
    device = twofactor_enroll_begin(user=user)
    return render(
        request,
        "org/twofactor/enroll.html",
        {
            "twofactor_pending": True,
            "qr_svg": qr_svg(device),
            "secret": secret_groups(device),
            "error": error,
            "next": next_url,
        },
        status=400 if error else 200,
    )


@never_cache
@login_required
def verify_view(request: AuthedRequest) -> HttpResponse:
    """The second step of a login: a code from the authenticator, or a recovery code."""
    user = request.user
    next_url = _next_url(request)
    if not two_factor_pending(user):
        return redirect(next_url)
    if authenticator_for(user) is None:
        return redirect(f"{reverse('twofactor:enroll')}?{urlencode({'next': next_url})}")
    error = ""
    if request.method == "POST":
        check = twofactor_verify(user=user, code=request.POST.get("code", ""))
        if check.ok:
            _login_verified(request, check.device)
            if check.method == "recovery":
                left = recovery_codes_left(user)
                messages.warning(
                    request,
                    _("已使用一个恢复码，还剩 %(n)s 个。用完前请在“账号安全”中重新生成。") % {"n": left},
                )
            return redirect(next_url)
        error = _code_error(check)
    return render(
        request,
        "org/twofactor/verify.html",
        {"twofactor_pending": True, "error": error, "next": next_url},
        status=400 if error else 200,
    )


@never_cache
@login_required
def recovery_codes_view(request: AuthedRequest) -> HttpResponse:
    """Show the recovery codes just generated, once."""
    codes = request.session.pop(SESSION_NEW_CODES, None)
    if not codes:
        return redirect("twofactor:security")
    return render(
        request,
        "org/twofactor/recovery_codes.html",
        {"codes": [format_recovery_code(c) for c in codes], "next": _next_url(request)},
    )


@never_cache
@login_required
def security_view(request: AuthedRequest) -> HttpResponse:
    """账号安全: the state of two-factor login and new recovery codes."""
    user = request.user
    authenticator = authenticator_for(user)
    return render(
        request,
        "org/twofactor/security.html",
        {
            "required": two_factor_required(user),
            "setting_on": getattr(settings, "BRANCHCARE_2FA_REQUIRED", False),
            "authenticator": authenticator,
            "codes_left": recovery_codes_left(user) if authenticator else 0,
        },
    )


@require_POST
@login_required
def regenerate_codes_view(request: AuthedRequest) -> HttpResponse:
    """Replace the recovery codes; needs a current code from the authenticator."""
    try:
        check, codes = recovery_codes_regenerate(user=request.user, code=request.POST.get("code", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("twofactor:security")
    if not check.ok:
        messages.error(request, _code_error(check))
        return redirect("twofactor:security")
    request.session[SESSION_NEW_CODES] = codes
    return redirect(
        f"{reverse('twofactor:recovery_codes')}?{urlencode({'next': reverse('twofactor:security')})}"
    )

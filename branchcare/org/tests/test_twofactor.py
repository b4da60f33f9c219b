"""Two-factor login: who must use it, enrollment, verification, recovery codes, the lock, and what an
unverified session can reach."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from branchcare.api.testing import api_client
from branchcare.core.audit import audit_chain_verify
from branchcare.core.models import AuditLog
from branchcare.org import twofactor
from conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("two_factor_on")


@pytest.fixture
def two_factor_on():
    with override_settings(BRANCHCARE_2FA_REQUIRED=True):
        yield


def password_login(client, username: str, next_url: str = ""):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(reverse("login"), data)
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The app's current code (or the one ``steps_ahead`` periods later: a code is accepted only once)."""
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead):06d}"


def let_backoff_pass(user, seconds: int = 20) -> None:
    """Pretend the last failure was ``seconds`` ago (django-otp's back-off after a wrong code is 1, 2, 4 … s)."""
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user, throttling_failure_timestamp__isnull=False).update(
            throttling_failure_timestamp=timezone.now() - timedelta(seconds=seconds)
        )


def actions(user) -> list[str]:
    return list(
        AuditLog.objects.filter(actor=user, action__startswith="security.2fa")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def enroll(client, user) -> tuple[TOTPDevice, list[str]]:
    """Password login + enrollment for ``user``; returns the device and the recovery codes shown."""
    password_login(client, user.username)
    client.get(reverse("twofactor:enroll"))
    device = TOTPDevice.objects.get(user=user)
    response = client.post(reverse("twofactor:enroll"), {"code": code_for(device), "next": "/"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", page)
    return device, codes


# --- who is asked ------------------------------------------------------------------------------------------


def test_director_is_sent_to_enrollment_after_password_login(world, client):
    response = password_login(client, "director", next_url="/clients/")
    assert response["Location"] == "/clients/"
    response = client.get("/clients/")
    assert response.status_code == 302
    assert response["Location"] == reverse("twofactor:enroll") + "?next=%2Fclients%2F"


@pytest.mark.parametrize(
    "username", ["director", "admin", "manager1", "broker1", "compliance1", "b2director"]
)
def test_roles_with_personal_data_or_configuration_rights_are_asked(world, client, username):
    password_login(client, username)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("username", ["researcher1", "consultant1", "agent1"])
def test_roles_without_those_rights_are_not_asked(world, client, username):
    password_login(client, username)
    assert client.get("/").status_code == 200
    assert client.get(reverse("twofactor:enroll")).status_code == 302  # nothing to set up
    assert not TOTPDevice.objects.filter(user=world[username]).exists()


@override_settings(BRANCHCARE_2FA_REQUIRED=False)
def test_nobody_is_asked_while_the_setting_is_off(world, client):
    password_login(client, "director")
    assert client.get("/").status_code == 200


# --- enrollment ---------------------------------------------------------------------------------------------


def test_enrollment_page_shows_an_inline_qr_code_and_the_key_in_groups(world, client):
    password_login(client, "director")
    response = client.get(reverse("twofactor:enroll"))
    assert response.status_code == 200
    html = response.content.decode()
    device = TOTPDevice.objects.get(user=world["director"], confirmed=False)
    assert '<svg width="' in html and 'class="twofactor-qr"' in html
    assert "style=" not in html and "<script>" not in html
    assert twofactor.secret_groups(device) in html
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", twofactor.secret_groups(device))
    assert "<nav" not in html and "<aside" not in html  # the minimal page: no navigation yet
    # A reload keeps the key the user may already have scanned.
    client.get(reverse("twofactor:enroll"))
    assert TOTPDevice.objects.get(user=world["director"]).key == device.key


def test_enrollment_with_a_wrong_code_is_refused(world, client):
    password_login(client, "director")
    client.get(reverse("twofactor:enroll"))
    device = TOTPDevice.objects.get(user=world["director"])
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("twofactor:enroll"), {"code": wrong})
    assert response.status_code == 400
    assert "验证码不正确" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticToken.objects.filter(device__user=world["director"]).exists()
    assert client.get("/").status_code == 302
    assert actions(world["director"]) == ["security.2fa_failed"]


def test_malformed_input_is_refused_without_counting_an_attempt(world, client):
    password_login(client, "director")
    client.get(reverse("twofactor:enroll"))
    response = client.post(reverse("twofactor:enroll"), {"code": "12ab"})
    assert response.status_code == 400
    assert TOTPDevice.objects.get(user=world["director"]).throttling_failure_count == 0
    assert actions(world["director"]) == []


def test_enrollment_with_the_right_code_shows_recovery_codes_once_and_grants_access(world, client):
    director = world["director"]
    device, codes = enroll(client, director)
    device.refresh_from_db()
    assert device.confirmed
    assert len(codes) == 10 and len(set(codes)) == 10
    assert StaticToken.objects.filter(device__user=director).count() == 10
    assert client.get("/").status_code == 200
    assert client.get("/clients/").status_code == 200
    # Shown once: the page does not show them again.
    assert client.get(reverse("twofactor:recovery_codes")).status_code == 302
    assert actions(director) == ["security.2fa_enrolled"]


def test_enrolling_again_is_not_possible_once_enrolled(world, client):
    director = world["director"]
    device, _codes = enroll(client, director)
    client.post(reverse("logout"))
    password_login(client, "director")
    response = client.get(reverse("twofactor:enroll"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("twofactor:verify"))
    client.post(reverse("twofactor:enroll"), {"code": "123456"})
    assert list(TOTPDevice.objects.filter(user=director).values_list("key", flat=True)) == [device.key]


# --- verification -------------------------------------------------------------------------------------------


def test_next_login_asks_for_the_code(world, client):
    director = world["director"]
    device, _codes = enroll(client, director)
    client.post(reverse("logout"))
    password_login(client, "director", next_url="/clients/")
    response = client.get("/clients/")
    assert response["Location"] == reverse("twofactor:verify") + "?next=%2Fclients%2F"
    page = client.get(response["Location"])
    assert page.status_code == 200 and "<aside" not in page.content.decode()
    session_before = client.session.session_key
    response = client.post(reverse("twofactor:verify"), {"code": code_for(device, 1), "next": "/clients/"})
    assert response.status_code == 302 and response["Location"] == "/clients/"
    assert client.session.session_key != session_before  # new session id once verified
    assert client.get("/clients/").status_code == 200
    assert actions(director)[-1] == "security.2fa_verified"


def test_a_code_is_accepted_only_once(world, client):
    director = world["director"]
    device, _codes = enroll(client, director)
    used = code_for(device)  # the enrollment code
    client.post(reverse("logout"))
    password_login(client, "director")
    response = client.post(reverse("twofactor:verify"), {"code": used})
    assert response.status_code == 400


def test_a_recovery_code_works_once_and_not_twice(world, client):
    director = world["director"]
    _device, codes = enroll(client, director)
    client.post(reverse("logout"))
    password_login(client, "director")
    response = client.post(reverse("twofactor:verify"), {"code": codes[0].upper()})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert StaticToken.objects.filter(device__user=director).count() == 9
    client.post(reverse("logout"))
    password_login(client, "director")
    response = client.post(reverse("twofactor:verify"), {"code": codes[0]})
    assert response.status_code == 400
    assert client.get("/").status_code == 302
    assert actions(director)[-2:] == ["security.2fa_verified", "security.2fa_failed"]


def test_the_next_parameter_cannot_leave_the_site(world, client):
    device, _codes = enroll(client, world["director"])
    client.post(reverse("logout"))
    password_login(client, "director")
    response = client.post(
        reverse("twofactor:verify"), {"code": code_for(device, 1), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_five_wrong_codes_lock_for_fifteen_minutes(world, client):
    director = world["director"]
    device, _codes = enroll(client, director)
    client.post(reverse("logout"))
    password_login(client, "director")
    wrong = f"{(int(code_for(device, 1)) + 500_000) % 1_000_000:06d}"
    for _ in range(twofactor.LOCK_AFTER_FAILURES):
        let_backoff_pass(director)
        assert client.post(reverse("twofactor:verify"), {"code": wrong}).status_code == 400
    let_backoff_pass(director)
    response = client.post(reverse("twofactor:verify"), {"code": code_for(device, 1)})
    assert response.status_code == 400
    assert "已暂时锁定" in response.content.decode()
    assert client.get("/").status_code == 302
    assert "security.2fa_locked" in actions(director)
    # Recovery codes are locked too.
    assert client.post(reverse("twofactor:verify"), {"code": _codes[0]}).status_code == 400
    # After the lock (15 minutes) the right code works again.
    let_backoff_pass(director, seconds=16 * 60)
    response = client.post(reverse("twofactor:verify"), {"code": code_for(device, 1)})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 0


def test_audit_records_hold_no_code_or_secret(world, client):
    director = world["director"]
    device, codes = enroll(client, director)
    client.post(reverse("logout"))
    password_login(client, "director")
    client.post(reverse("twofactor:verify"), {"code": "000000"})
    let_backoff_pass(director)
    client.post(reverse("twofactor:verify"), {"code": codes[1]})
    text = " ".join(
        str(row) for row in AuditLog.objects.filter(action__startswith="security.2fa").values_list()
    )
    assert device.key not in text and twofactor.secret_groups(device).replace(" ", "") not in text
    assert not any(c.replace("-", "") in text or c in text for c in codes)
    assert "000000" not in text
    assert audit_chain_verify().ok


# --- what an unverified session reaches --------------------------------------------------------------------


def test_unverified_user_reaches_only_the_2fa_pages_and_logout(world, client):
    password_login(client, "director")
    for url in ["/", "/clients/", reverse("password_change"), reverse("twofactor:security"), "/admin/"]:
        assert client.get(url).status_code == 302, url
    assert client.get(reverse("twofactor:enroll")).status_code == 200
    assert client.get("/static/branchcare/app.css").status_code == 200
    response = client.post(reverse("twofactor:regenerate_codes"), {"code": "123456"})
    assert response.status_code == 302 and reverse("twofactor:enroll") in response["Location"]
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_htmx_requests_get_a_client_side_redirect(world, client):
    password_login(client, "director")
    response = client.get("/clients/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("twofactor:enroll")


def test_api_with_the_unverified_session_is_refused_as_json(world, client):
    password_login(client, "director")
    response = client.get("/api/v1/me/")
    assert response.status_code == 403
    assert response.json()["code"] == "two_factor_required"


def test_api_token_authentication_is_unaffected(world):
    response = api_client(world["director"]).get("/api/v1/me/")
    assert response.status_code == 200


def test_a_token_header_does_not_open_the_html_pages(world, client):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=world["director"])
    password_login(client, "director")
    assert client.get("/clients/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 302


@pytest.mark.parametrize("name", ["enroll", "verify", "recovery_codes", "security"])
def test_2fa_pages_need_login(world, client, name):
    response = client.get(reverse(f"twofactor:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_regenerating_needs_login(world, client):
    response = client.post(reverse("twofactor:regenerate_codes"), {"code": "123456"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- account security page -----------------------------------------------------------------------------------


def test_security_page_regenerates_recovery_codes_with_a_current_code(world, client):
    director = world["director"]
    device, old_codes = enroll(client, director)
    page = client.get(reverse("twofactor:security")).content.decode()
    assert "已启用" in page and "剩余恢复码 10 个" in page
    # A wrong code changes nothing.
    response = client.post(reverse("twofactor:regenerate_codes"), {"code": "000000"}, follow=True)
    assert "验证码不正确" in response.content.decode()
    assert set(StaticToken.objects.filter(device__user=director).values_list("token", flat=True)) == {
        c.replace("-", "") for c in old_codes
    }
    let_backoff_pass(director)
    response = client.post(reverse("twofactor:regenerate_codes"), {"code": code_for(device, 1)})
    assert response.status_code == 302
    new_codes = re.findall(
        r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", client.get(response["Location"]).content.decode()
    )
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert set(StaticToken.objects.filter(device__user=director).values_list("token", flat=True)) == {
        c.replace("-", "") for c in new_codes
    }
    assert actions(director)[-1] == "security.2fa_recovery_regenerated"


def test_security_page_for_a_role_without_2fa(world, client):
    password_login(client, "researcher1")
    page = client.get(reverse("twofactor:security")).content.decode()
    assert "您的角色无需两步验证" in page


def test_top_bar_links_to_account_security(world, login):
    with override_settings(BRANCHCARE_2FA_REQUIRED=False):
        html = login("manager1").get("/").content.decode()
    assert reverse("twofactor:security") in html


def test_reset_removes_the_devices_and_is_audited(world, client):
    director = world["director"]
    enroll(client, director)
    twofactor.twofactor_reset(actor=world["admin"], user=director)
    assert not TOTPDevice.objects.filter(user=director).exists()
    assert not StaticDevice.objects.filter(user=director).exists()
    assert AuditLog.objects.filter(action="security.2fa_reset", actor=world["admin"]).exists()

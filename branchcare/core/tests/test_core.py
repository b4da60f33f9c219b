from __future__ import annotations

import logging
from unittest import mock

import pytest
from django.urls import reverse

from branchcare.core.masking import MaskingLogFilter, mask_id_number, mask_phone, mask_text


def test_healthz_ok(client, db):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_database_error(client, db):
    with mock.patch("branchcare.core.views.connection") as conn:
        conn.cursor.side_effect = Exception("db down")
        r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["database"] == "error"


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("13812345678", "138****5678"),
        ("", ""),
        (None, ""),
        ("12345", "***45"),
        ("+8613812345678", "+86*******5678"),
    ],
)
def test_mask_phone(raw, expected):
    assert mask_phone(raw) == expected


def test_mask_id_number():
    assert mask_id_number("310101199001011234") == "3101**********1234"
    assert mask_id_number("31010119900101123X") == "3101**********123X"


def test_mask_text_and_log_filter():
    assert mask_text("客户 13812345678 证件 310101199001011234") == "客户 138****5678 证件 3101**********1234"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "phone %s", ("13812345678",), None)
    MaskingLogFilter().filter(record)
    assert record.getMessage() == "phone 138****5678"


def test_login_page_is_chinese(client, db):
    body = client.get(reverse("login")).content.decode()
    assert '<html lang="zh-hans">' in body
    assert "营业部客户服务系统" in body and "密码" in body


def test_english_is_switchable(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in body


def test_login_logout_and_lockout(client, world):
    from conftest import PASSWORD

    r = client.post(reverse("login"), {"username": "manager1", "password": PASSWORD})
    assert r.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302
    for _ in range(5):
        client.post(reverse("login"), {"username": "manager1", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    r = client.post(reverse("login"), {"username": "manager1", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert r.status_code == 429
    assert "锁定" in r.content.decode()


def test_session_idle_timeout_is_configured(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_password_change(client, world):
    from conftest import PASSWORD

    client.force_login(world["manager1"])
    r = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Xin-Mima-2026!", "new_password2": "Xin-Mima-2026!"},
    )
    assert r.status_code == 302
    world["manager1"].refresh_from_db()
    assert world["manager1"].check_password("Xin-Mima-2026!")


def test_security_headers_and_csp(client, db):
    r = client.get(reverse("login"))
    csp = r["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r["X-Frame-Options"] == "DENY"
    assert r["X-Content-Type-Options"] == "nosniff"


def test_templates_have_no_inline_scripts_or_handlers():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.rglob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        if (
            re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text)
            or re.search(r"\son[a-z]+=\"", text)
            or ' style="' in text
        ):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_absolute_session_lifetime(client, world, settings):
    import time

    from branchcare.core.middleware import SESSION_LOGIN_KEY

    client.force_login(world["manager1"])
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    session[SESSION_LOGIN_KEY] = int(time.time()) - settings.SESSION_ABSOLUTE_SECONDS - 5
    session.save()
    r = client.get(reverse("home"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))


def test_security_events_are_audited_without_passwords(client, world):
    from branchcare.core.models import AuditLog
    from conftest import PASSWORD

    client.post(reverse("login"), {"username": "manager1", "password": "nope"})
    client.post(reverse("login"), {"username": "manager1", "password": PASSWORD})
    client.get(reverse("org:audit_list"))  # manager1 may not: denied
    client.post(reverse("logout"))
    actions = list(AuditLog.objects.filter(action__startswith="security.").values_list("action", flat=True))
    assert set(actions) == {"security.login_failed", "security.login", "security.denied", "security.logout"}
    assert "nope" not in str(list(AuditLog.objects.values_list("changes", flat=True)))

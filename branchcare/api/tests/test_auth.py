"""Token authentication: obtaining a token, using it, and what anonymous or locked-out callers get."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from branchcare.api.testing import api_client
from branchcare.core.models import AuditLog
from conftest import PASSWORD

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/me/"


def test_obtain_token_returns_a_token_and_audits_it(world):
    # when
    response = api_client().post(TOKEN_URL, {"username": "manager1", "password": PASSWORD}, format="json")

    # then
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=world["manager1"]).key}
    assert AuditLog.objects.filter(action="auth.api_token", object_id=str(world["manager1"].pk)).count() == 1


def test_obtaining_twice_returns_the_same_token(world):
    first = api_client().post(TOKEN_URL, {"username": "manager1", "password": PASSWORD}, format="json")
    second = api_client().post(TOKEN_URL, {"username": "manager1", "password": PASSWORD}, format="json")

    assert first.json()["token"] == second.json()["token"]


def test_token_accepts_form_encoded_credentials(world):
    response = api_client().post(TOKEN_URL, {"username": "manager1", "password": PASSWORD})

    assert response.status_code == 200


def test_wrong_password_is_400_in_chinese_and_issues_no_token(world):
    response = api_client().post(
        TOKEN_URL, {"username": "manager1", "password": "wrong-password"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["用户名或密码错误。"]}
    assert not Token.objects.exists()


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(world):
    response = api_client().post(TOKEN_URL, {"username": "nobody", "password": "x"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["用户名或密码错误。"]}


def test_inactive_user_gets_no_token(world):
    world["manager1"].is_active = False
    world["manager1"].save()

    response = api_client().post(TOKEN_URL, {"username": "manager1", "password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert not Token.objects.exists()


def test_missing_fields_are_named_in_chinese(world):
    response = api_client().post(TOKEN_URL, {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"username": ["请输入用户名。"], "password": ["请输入密码。"]}


def test_repeated_failures_lock_the_account_out_with_429(world):
    # given: as many failures as axes allows
    client = api_client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert (
            client.post(TOKEN_URL, {"username": "manager1", "password": "bad"}, format="json").status_code
            == 400
        )
    last = client.post(TOKEN_URL, {"username": "manager1", "password": "bad"}, format="json")
    assert last.status_code == 429

    # when: even the right password is refused during the cool-off
    response = client.post(TOKEN_URL, {"username": "manager1", "password": PASSWORD}, format="json")

    # then
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"].startswith("登录失败次数过多")
    assert int(response["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert not Token.objects.exists()


def test_token_authenticates_me(world):
    token = (
        api_client()
        .post(TOKEN_URL, {"username": "manager1", "password": PASSWORD}, format="json")
        .json()["token"]
    )
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["username"] == "manager1"


def test_no_token_is_401_with_a_token_challenge(world):
    response = api_client().get(ME_URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "身份认证信息未提供。"}


def test_invalid_token_is_401(world):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert client.get(ME_URL).status_code == 401


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_token_endpoint_only_accepts_post(world, method):
    assert getattr(api_client(), method)(TOKEN_URL).status_code == 405


def test_session_authentication_also_works(world, client):
    client.force_login(world["manager1"])

    assert client.get(ME_URL).status_code == 200


def test_token_refused_for_accounts_that_need_two_factor(world, client, settings):
    from conftest import PASSWORD

    settings.BRANCHCARE_2FA_REQUIRED = True
    r = client.post(
        "/api/v1/auth/token/", {"username": "director", "password": PASSWORD}, content_type="application/json"
    )
    assert r.status_code == 403
    assert "两步验证" in r.json()["detail"]
    r = client.post(
        "/api/v1/auth/token/",
        {"username": "researcher1", "password": PASSWORD},
        content_type="application/json",
    )
    assert r.status_code == 200

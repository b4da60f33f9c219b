"""The password rules: BranchcarePasswordValidator and the validator settings per environment."""

from __future__ import annotations

import importlib
import sys
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import get_password_validators, validate_password
from django.core.exceptions import ValidationError

from branchcare.core.passwords import BranchcarePasswordValidator
from branchcare.org.models import User

USER = SimpleNamespace(username="chenjing07", name="陈静")


def _validators(module: Any) -> list[dict[str, Any]]:
    return list(module.AUTH_PASSWORD_VALIDATORS)


def messages(password: str, user=USER) -> list[str]:
    try:
        BranchcarePasswordValidator().validate(password, user)
    except ValidationError as exc:
        return exc.messages
    return []


@pytest.mark.parametrize(
    "password",
    [
        "BranchCare#2026",  # the demo password
        "Kehu-Jingli-2026",
        "Tougu-2026-abc",
        "Xin-Mima-2026!",
        "Hk#7pLm2-Vw9",
        "Liberty#2026",
        "Property#99x",
        "Chang'e-5-Yue",
    ],
)
def test_reasonable_passwords_pass(password):
    assert messages(password) == []


@pytest.mark.parametrize(
    "password,fragment",
    [
        ("Chenjing07#x", "用户名或姓名"),  # the username
        ("xx70gnijnehc!", "用户名或姓名"),  # reversed
        ("Chenjing#2026", "用户名或姓名"),  # the name in pinyin / the username's stem
        ("我是陈静#2026", "用户名或姓名"),  # the name itself
        ("Qwerty#2026x", "键盘"),
        ("Asdfg!2026x", "键盘"),
        ("1qaz2wsx!!", "键盘"),
        ("Zxcv#Zxcv2026", "键盘"),
        ("!@#$%Xinmm", "键盘"),
        ("Abcd#2026xx", "连续"),
        ("Xk#98765zz", "连续"),
        ("Xyz#1234vv", "连续"),
        ("Xq9#aaaa2026", "重复"),
        ("Ab#8888Zy", "重复"),
        ("Hey#ababab", "重复"),
        ("Woaini#2026x", "弱密码"),
        ("Xy#5201314", "弱密码"),
        ("A123456#xyz", "弱密码"),
        ("P@ssw0rd2026", "弱密码"),
        ("zhangsan#88", "弱密码"),
        ("Wo#13812345678", "手机号码或出生日期"),
        ("Ab#19900101", "手机号码或出生日期"),
    ],
)
def test_weak_passwords_are_refused_in_chinese(password, fragment):
    found = messages(password)
    assert any(fragment in m for m in found), found


def test_messages_never_repeat_the_password():
    found = " ".join(messages("Hx#rtyui-zzzz-5211314"))
    assert "键盘" in found and "重复" in found and "弱密码" in found
    assert "rtyui" not in found and "zzzz" not in found and "5211314" not in found


def test_no_user_skips_only_the_name_check():
    assert messages("Chenjing07#x", user=None) == []
    assert messages("Qwerty#2026x", user=None)


def test_help_text_is_chinese():
    assert "键盘" in BranchcarePasswordValidator().get_help_text()


def test_validator_is_installed_next_to_djangos_breached_password_list():
    names = [v["NAME"].rsplit(".", 1)[1] for v in _validators(settings)]
    assert "BranchcarePasswordValidator" in names
    assert "CommonPasswordValidator" in names
    user = User(username="someone")
    with pytest.raises(ValidationError):
        validate_password("iloveyou1", user)  # in Django's list of breached passwords


@pytest.fixture
def production_settings(monkeypatch):
    """The production settings module, imported on its own (it does not replace the test settings)."""
    monkeypatch.setenv("SECRET_KEY", "test-" + "x" * 50)
    monkeypatch.delenv("TWO_FACTOR_REQUIRED", raising=False)
    monkeypatch.delenv("PASSWORD_MIN_LENGTH", raising=False)
    sys.modules.pop("config.settings.production", None)
    try:
        yield importlib.import_module("config.settings.production")
    finally:
        sys.modules.pop("config.settings.production", None)


def test_production_requires_ten_characters_and_two_factor(production_settings):
    assert production_settings.BRANCHCARE_2FA_REQUIRED is True
    lengths = [
        v["OPTIONS"]["min_length"]
        for v in _validators(production_settings)
        if v["NAME"].endswith("MinimumLengthValidator")
    ]
    assert lengths == [10]
    validators = get_password_validators(production_settings.AUTH_PASSWORD_VALIDATORS)
    user = User(username="director")
    validate_password(settings.BRANCHCARE["DEMO_PASSWORD"], user, password_validators=validators)
    with pytest.raises(ValidationError) as exc:
        validate_password("Hk#7pLm2v", user, password_validators=validators)
    assert exc.value.error_list[0].code == "password_too_short"


def test_elsewhere_eight_characters_and_no_two_factor():
    assert settings.BRANCHCARE_2FA_REQUIRED is False
    lengths = [
        v["OPTIONS"]["min_length"]
        for v in _validators(settings)
        if v["NAME"].endswith("MinimumLengthValidator")
    ]
    assert lengths == [8]


def test_staff_create_refuses_a_keyboard_walk(world):
    from branchcare.core.errors import DomainError
    from branchcare.org import services
    from branchcare.org.models import Role, User

    with pytest.raises(DomainError) as exc:
        services.staff_create(
            actor=world["admin"],
            username="newbie",
            password="Qwerty#2026x",
            data={"name": "新员工", "branch": world.b1, "is_active": True},
            roles=[Role.objects.get(code="agent")],
        )
    assert "键盘" in exc.value.message
    assert not User.objects.filter(username="newbie").exists()

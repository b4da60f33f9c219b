"""Password rules beyond Django's validators: no username or name, no keyboard walks or sequences, no
long runs of one character, and none of the weak passwords common in Chinese-speaking contexts.

Django's ``CommonPasswordValidator`` (20 000 breached passwords) stays in ``AUTH_PASSWORD_VALIDATORS``;
this validator adds the patterns that list does not catch inside longer passwords (``Qwerty#2026``).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Keyboard rows and the usual diagonal walks (US layout, as Chinese keyboards are), lower case.
KEYBOARD_WALKS = (
    "`1234567890-=",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "~!@#$%^&*()_+",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7",
    "qazwsxedcrfvtgbyhnujmikolp",
    "!qaz@wsx#edc$rfv",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
)
# A run of this many keys along a walk is refused ("qwert", "asdfg", "1qaz2").
WALK_LENGTH = 5
# Four-key starts that are weak on their own ("Qwer#2026" is as weak as "qwerty").
SHORT_WALKS = ("qwer", "asdf", "zxcv", "1qaz", "2wsx", "3edc", "zaq1", "xsw2", "!qaz", "@wsx", "1q2w", "q1w2")
# Ascending or descending letters or digits, this long, are refused ("1234", "abcd", "9876").
SEQUENCE_LENGTH = 4
# One character this many times in a row is refused ("aaaa", "8888").
REPEAT_LENGTH = 4

# Weak passwords and fragments common in Chinese-speaking contexts (pinyin, lucky and romantic numbers).
CHINESE_WEAK = (
    "woaini", "iloveyou", "5201314", "1314520", "520520", "521521", "5211314", "woaini1314",
    "88888888", "666666", "168168", "518518", "147258", "159357", "159753", "123123", "321321",
    "a123456", "aa123456", "abc123", "123abc", "qq123456", "123qwe", "qwe123", "asd123", "zxc123",
    "password", "passwd", "admin", "test123", "welcome",
    "wodemima", "mimamima", "nihao", "zhongguo", "woshishui",
    "zhangsan", "lisi", "wangwu", "zhaoliu", "zhangwei", "wangwei", "wangfang", "liwei", "wangjing",
    "liuyang", "zhangmin", "lijing", "wangli", "zhangli",
)  # fmt: skip

# Common "leet" spellings, undone before matching words ("P@ssw0rd" is "password").
_LEET = str.maketrans(
    {"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t"}
)
# A Chinese mobile number or a birthday (YYYYMMDD, 1930–2039) as the core of a password.
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_BIRTHDAY = re.compile(r"(?<!\d)(?:19[3-9]\d|20[0-3]\d)(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)")
_REPEATED_CHAR = re.compile(rf"(.)\1{{{REPEAT_LENGTH - 1},}}")
# A block of 2–3 characters repeated three times or more ("ababab", "abcabcabc").
_REPEATED_BLOCK = re.compile(r"(.{2,3})\1{2,}")


def _walk_fragments() -> frozenset[str]:
    fragments = set(SHORT_WALKS)
    for walk in KEYBOARD_WALKS:
        for text in (walk, walk[::-1]):
            fragments.update(text[i : i + WALK_LENGTH] for i in range(len(text) - WALK_LENGTH + 1))
    return frozenset(fragments)


_WALK_FRAGMENTS = _walk_fragments()


def _has_sequence(text: str, length: int) -> str | None:
    """The first run of ``length`` letters or digits that go up or down by one ("abcd", "4321")."""
    run = 1
    step = 0
    for i in range(1, len(text)):
        a, b = text[i - 1], text[i]
        same_kind = (a.isdigit() and b.isdigit()) or (
            a.isascii() and a.isalpha() and b.isascii() and b.isalpha()
        )
        d = ord(b) - ord(a) if same_kind else 0
        if d in (1, -1) and (run == 1 or d == step):
            run += 1
            step = d
        elif d in (1, -1):
            run, step = 2, d
        else:
            run, step = 1, 0
        if run >= length:
            return text[i - length + 1 : i + 1]
    return None


def _name_fragments(user: Any) -> list[str]:
    """The username and the full pinyin of the person's name (``zhangsan`` for 张三), lower case."""
    fragments = []
    username = str(getattr(user, "username", "") or "").lower()
    if len(username) >= 3:
        fragments.append(username)
        # "director01" -> "director": numbers appended to a username don't make it a new word.
        stem = username.rstrip("0123456789_.-")
        if len(stem) >= 4 and stem != username:
            fragments.append(stem)
    name = str(getattr(user, "name", "") or "").strip()
    if name:
        if len(name) >= 2:
            fragments.append(name.lower())
        try:
            from pypinyin import lazy_pinyin

            full = "".join(lazy_pinyin(name)).lower()
        except ImportError:  # pragma: no cover - pypinyin is a runtime dependency
            full = ""
        if len(full) >= 4 and full.isascii():
            fragments.append(full)
    return fragments


class BranchcarePasswordValidator:
    """Refuse passwords built from the username or name, keyboard walks, letter or digit sequences,
    repeated characters, a mobile number or birthday, or a weak password common in China."""

    def validate(self, password: str, user: Any = None) -> None:
        lowered = password.lower()
        unleet = lowered.translate(_LEET)
        errors: list[ValidationError] = []
        if user is not None:
            for fragment in _name_fragments(user):
                if fragment in lowered or fragment[::-1] in lowered or fragment in unleet:
                    errors.append(
                        ValidationError(_("密码不能包含用户名或姓名。"), code="password_contains_name")
                    )
                    break
        # The messages name examples, never the part of the password that matched: error texts end up
        # on screens and in form re-renders, and must not repeat a password.
        if any(f in lowered for f in _WALK_FRAGMENTS):
            errors.append(
                ValidationError(
                    _("密码不能包含键盘上连续的按键（如 qwert、asdf、1qaz2wsx）。"),
                    code="password_keyboard_walk",
                )
            )
        if _has_sequence(lowered, SEQUENCE_LENGTH):
            errors.append(
                ValidationError(
                    _("密码不能包含连续的字母或数字（如 1234、abcd、4321）。"), code="password_sequence"
                )
            )
        if _REPEATED_CHAR.search(lowered) or _REPEATED_BLOCK.search(lowered):
            errors.append(
                ValidationError(
                    _("密码不能包含重复的字符（如 aaaa、8888、ababab）。"), code="password_repeated"
                )
            )
        if any(w in lowered or w in unleet for w in CHINESE_WEAK):
            errors.append(
                ValidationError(
                    _("密码包含常见的弱密码（如 woaini、5201314、a123456），容易被猜中。"),
                    code="password_common_weak",
                )
            )
        if _MOBILE.search(password) or _BIRTHDAY.search(password):
            errors.append(
                ValidationError(_("密码不能使用手机号码或出生日期。"), code="password_personal_number")
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return _(
            "密码不能包含用户名或姓名、键盘上连续的按键（如 qwert）、连续的字母或数字（如 1234、abcd）、"
            "重复的字符（如 aaaa）、手机号码、出生日期或常见弱密码（如 woaini、5201314）。"
        )

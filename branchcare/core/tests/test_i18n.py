"""The English translation: the language switch works end to end and the catalogue is complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

PO_PATH = Path(settings.BASE_DIR) / "branchcare" / "locale" / "en" / "LC_MESSAGES" / "django.po"
# Apps built independently keep their own catalogue next to their code (branchcare/<app>/locale).
APP_PO_PATHS = sorted(
    p
    for p in (Path(settings.BASE_DIR) / "branchcare").glob("**/locale/en/LC_MESSAGES/django.po")
    if p != PO_PATH
)
CJK = re.compile(r"[\u4e00-\u9fff]")


def switch_to_english(client):
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert r.status_code == 302
    return client


def sidebar(html: str) -> str:
    m = re.search(r"<aside\b.*?</aside>", html, re.S)
    assert m, "no sidebar in page"
    return m.group(0)


# --- pages ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_in_english(client):
    switch_to_english(client)
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="en">' in html
    for text in ("Log in", "Username", "Password", "Branch Client Service System"):
        assert text in html
    for text in ("登录", "用户名", "密码", "营业部客户服务系统"):
        assert text not in html


@pytest.mark.django_db
def test_login_page_defaults_to_chinese(client):
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "用户名" in html and "密码" in html


def test_logged_in_page_in_english(world, login):
    client = switch_to_english(login("director"))
    r = client.get("/clients/")
    assert r.status_code == 200
    html = r.content.decode()
    assert '<html lang="en">' in html
    nav = sidebar(html)
    for text in (
        "My workbench",
        "Clients",
        "Client list",
        "Data import",
        "Settings",
        "Staff and roles",
        "Audit log",
    ):
        assert text in nav, text
    assert not CJK.findall(nav), f"Chinese left in the navigation: {CJK.findall(nav)}"
    for text in ("Change password", "Log out", "Client No.", "Customer manager"):
        assert text in html, text
    for text in ("客户列表", "我的工作台", "数据导入", "审计记录", "修改密码", "退出", "客户经理"):
        assert text not in html, text


def test_logged_in_page_defaults_to_chinese(world, login):
    html = login("director").get("/clients/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "客户列表" in html and "我的工作台" in html
    assert "Client list" not in html


def test_switching_back_to_chinese(world, login):
    client = switch_to_english(login("director"))
    assert "Client list" in client.get("/clients/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "客户列表" in client.get("/clients/").content.decode()


# --- catalogue ----------------------------------------------------------------------------------------


def _unquote(s: str) -> str:
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), s[1:-1])


def parse_po(text: str) -> list[dict]:
    """A tiny .po parser: one dict per entry with ``flags``, ``msgid``, ``msgid_plural`` and ``msgstr``
    (a list: one item, or one per plural form). Obsolete (``#~``) entries are skipped."""
    entries: list[dict] = []
    for block in re.split(r"\n\s*\n", text):
        entry: dict = {"flags": set(), "msgid": None, "msgid_plural": None, "msgstr": []}
        field: str | None = None
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#,"):
                entry["flags"] |= {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#") or not line:
                continue
            elif m := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$', line):
                key, value = m.group(1), _unquote(m.group(2))
                if key.startswith("msgstr"):
                    entry["msgstr"].append(value)
                    field = "msgstr"
                else:
                    entry[key] = value
                    field = key
            elif line.startswith('"') and field:
                if field == "msgstr":
                    entry["msgstr"][-1] += _unquote(line)
                else:
                    entry[field] += _unquote(line)
        if entry["msgid"] is not None:
            entries.append(entry)
    return entries


PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdif]|%[sdif]|\{\{.*?\}\}")


@pytest.mark.parametrize(
    "po_path", [PO_PATH, *APP_PO_PATHS], ids=lambda p: str(p.relative_to(settings.BASE_DIR))
)
def test_po_file_is_complete(po_path):
    entries = parse_po(po_path.read_text(encoding="utf-8"))
    header, messages = entries[0], entries[1:]
    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"]
    assert len(messages) > (400 if po_path == PO_PATH else 0)
    empty = [e["msgid"] for e in messages if not all(s.strip() for s in e["msgstr"])]
    fuzzy = [e["msgid"] for e in messages if "fuzzy" in e["flags"]]
    assert not empty, f"untranslated: {empty}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    plural = [e for e in messages if e["msgid_plural"] is not None]
    assert all(len(e["msgstr"]) == 2 for e in plural)
    for e in messages:
        for s in e["msgstr"]:
            assert sorted(PLACEHOLDER.findall(s)) == sorted(PLACEHOLDER.findall(e["msgid"])), e["msgid"]


@pytest.mark.parametrize("po_path", APP_PO_PATHS, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_app_mo_file_is_compiled_and_current(po_path):
    mo = po_path.with_suffix(".mo")
    assert mo.exists(), "run compilemessages"
    assert mo.stat().st_mtime >= po_path.stat().st_mtime - 1, (
        f"{mo} is older than its .po: run compilemessages"
    )


def test_mo_file_is_compiled():
    assert PO_PATH.with_suffix(".mo").exists(), "run compilemessages"
    with translation.override("en"):
        assert translation.gettext("客户列表") == "Client list"
        assert translation.ngettext("共 %(n)s 人", "共 %(n)s 人", 1) % {"n": 1} == "1 person"
        assert translation.ngettext("共 %(n)s 人", "共 %(n)s 人", 3) % {"n": 3} == "3 people"

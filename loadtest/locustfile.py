"""A branch's working day under load: managers, directors and service agents using BranchCare at once.

Run by ``loadtest/run.sh`` (``make load``), which prepares the ``branchcare_load`` database, starts gunicorn
on 127.0.0.1 and writes ``bench/out/load_accounts.json``: the accounts to log in as (one per simulated
user, never shared, so no one's login or edit collides with another's) and, for those who may edit, the
id of their own load-test client ("LT…" client numbers) whose note they update.

Every simulated user logs in once through the login page (session cookie) and once through
``POST /api/v1/auth/token/`` (API token), then, with a think time of 1–4 s, does what staff do all day:
the workbench, the client list and its pages, searches by pinyin initials, phone tail and client-number
prefix (page and HTMX partial), the client 360 page and its timeline partial, the API list/search and
detail, the inbox, and now and then a note edit through ``PATCH /api/v1/clients/{id}/`` with the version
(optimistic lock: a 409 would be a lost-update bug, and counts as a failure).

Any status other than the one expected — including a redirect to the login page — is a failure.
Only loopback hosts are accepted.
"""

from __future__ import annotations

import json
import os
import random
import re
from typing import Any
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task
from locust.exception import StopUser

ACCOUNTS_FILE = os.environ.get("LOAD_ACCOUNTS", "bench/out/load_accounts.json")
PASSWORD = os.environ.get("DEMO_PASSWORD", "BranchCare#2026")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
HTMX = {"HX-Request": "true"}


def _load_accounts() -> dict[str, list[dict[str, Any]]]:
    with open(ACCOUNTS_FILE, encoding="utf-8") as f:
        return json.load(f)["accounts"]


_ACCOUNTS = _load_accounts()
_NEXT = dict.fromkeys(_ACCOUNTS, 0)


def claim(role: str) -> dict[str, Any]:
    """The next unused account of ``role`` (each simulated user gets its own)."""
    index = _NEXT[role]
    if index >= len(_ACCOUNTS[role]):
        raise RuntimeError(f"no {role} account left: raise LOAD_ACCOUNTS_PER_ROLE in loadtest/run.sh")
    _NEXT[role] = index + 1
    return _ACCOUNTS[role][index]


@events.init.add_listener
def _loopback_only(environment: Any, **_kw: Any) -> None:
    host = urlsplit(environment.host or "").hostname
    if host not in LOOPBACK:
        raise SystemExit(f"refusing to load-test {environment.host!r}: only 127.0.0.1 / localhost")


_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class StaffUser(HttpUser):
    """What every role does; subclasses set ``role`` and whether it edits."""

    abstract = True
    role = ""
    edits = False
    wait_time = between(1, 4)

    def on_start(self) -> None:
        self.account = claim(self.role)
        self.username = self.account["username"]
        self.token = ""
        self.clients: list[dict[str, Any]] = []
        self.terms: list[str] = []
        self.version: int | None = None
        self.edits_done = 0
        self._login()
        self._api_token()
        self._sample_clients()

    # --- session and token ------------------------------------------------------------------------------

    def _login(self) -> None:
        with self.client.get("/accounts/login/", name="login page", catch_response=True) as resp:
            match = _CSRF.search(resp.text or "")
            if resp.status_code != 200 or not match:
                resp.failure(f"login page: {resp.status_code}")
                raise StopUser
            resp.success()
        with self.client.post(
            "/accounts/login/",
            data={
                "csrfmiddlewaretoken": match.group(1),
                "username": self.username,
                "password": PASSWORD,
                "next": "/",
            },
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="login (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as resp:
            if resp.status_code != 302 or "/accounts/login/" in resp.headers.get("Location", ""):
                resp.failure(f"login as {self.username} refused: {resp.status_code}")
                raise StopUser
            resp.success()

    def _api_token(self) -> None:
        with self.client.post(
            "/api/v1/auth/token/",
            json={"username": self.username, "password": PASSWORD},
            name="api token",
            catch_response=True,
        ) as resp:
            if resp.status_code != 200:
                resp.failure(f"token for {self.username}: {resp.status_code}")
                raise StopUser
            self.token = resp.json()["token"]
            resp.success()

    def _api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}

    def _sample_clients(self) -> None:
        """A page of the user's own clients: what they click on and search for today."""
        with self.client.get(
            "/api/v1/clients/?page_size=100",
            headers=self._api_headers(),
            name="api list",
            catch_response=True,
        ) as resp:
            if resp.status_code != 200:
                resp.failure(f"api list: {resp.status_code}")
                raise StopUser
            self.clients = resp.json()["results"]
            resp.success()
        if not self.clients:
            raise RuntimeError(f"{self.username} sees no clients: was gen_scale run?")
        terms: set[str] = set()
        for c in self.clients:
            if c.get("name_initials"):
                terms.add(c["name_initials"][:2])
            tail = c.get("phone_tail") or ""
            if len(tail) == 4 and tail.isdigit():
                terms.add(tail)
            terms.add(c["client_no"][:6])
            terms.add(c["name"][:1])
        self.terms = sorted(terms)

    # --- helpers ----------------------------------------------------------------------------------------

    def page(self, path: str, name: str, headers: dict[str, str] | None = None) -> None:
        """A page or partial that must answer 200 itself (a redirect to login is a failure)."""
        with self.client.get(
            path, name=name, headers=headers, allow_redirects=False, catch_response=True
        ) as resp:
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code} {resp.headers.get('Location', '')}")
            else:
                resp.success()

    def api_get(self, path: str, name: str) -> dict[str, Any] | None:
        with self.client.get(path, name=name, headers=self._api_headers(), catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code}")
                return None
            resp.success()
            return resp.json()

    def any_client(self) -> dict[str, Any]:
        return random.choice(self.clients)

    def term(self) -> str:
        return random.choice(self.terms)

    # --- the day's work ---------------------------------------------------------------------------------

    @task(3)
    def workbench(self) -> None:
        self.page("/", "workbench /")

    @task(4)
    def client_list(self) -> None:
        self.page("/clients/", "client list /clients/")

    @task(2)
    def client_list_next_pages(self) -> None:
        self.page(f"/clients/?page={random.randint(2, 5)}", "client list ?page=N")

    @task(3)
    def search_page(self) -> None:
        self.page(f"/clients/?q={self.term()}", "search /clients/?q=")

    @task(2)
    def search_partial(self) -> None:
        self.page(
            f"/clients/?q={self.term()}",
            "search partial (htmx) /clients/?q=",
            headers={**HTMX, "HX-Target": "client-table"},
        )

    @task(4)
    def client_360(self) -> None:
        self.page(f"/clients/{self.any_client()['id']}/", "client 360 /clients/[id]/")

    @task(2)
    def client_timeline(self) -> None:
        window = random.choice(["30", "90", "365"])
        self.page(
            f"/clients/{self.any_client()['id']}/timeline/?window={window}",
            "timeline partial /clients/[id]/timeline/",
            headers=HTMX,
        )

    @task(3)
    def api_search(self) -> None:
        self.api_get(f"/api/v1/clients/?q={self.term()}", "api search /api/v1/clients/?q=")

    @task(1)
    def api_detail(self) -> None:
        self.api_get(f"/api/v1/clients/{self.any_client()['id']}/", "api detail /api/v1/clients/[id]/")

    @task(1)
    def inbox(self) -> None:
        self.page("/inbox/", "inbox /inbox/")

    @task(1)
    def edit_note(self) -> None:
        """PATCH the note of the user's own load-test client, sending the version last seen."""
        pool = self.account.get("pool_client")
        if not self.edits or not pool:
            return
        if self.version is None:
            data = self.api_get(f"/api/v1/clients/{pool}/", "api detail /api/v1/clients/[id]/")
            if data is None:
                return
            self.version = int(data["version"])
        self.edits_done += 1
        with self.client.patch(
            f"/api/v1/clients/{pool}/",
            json={"notes": f"压测备注 {self.username} #{self.edits_done}", "version": self.version},
            headers=self._api_headers(),
            name="api edit note PATCH /api/v1/clients/[id]/",
            catch_response=True,
        ) as resp:
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code} {resp.text[:200]}")
                self.version = None
                return
            body = resp.json()
            if body.get("version") != self.version + 1:
                resp.failure(f"version {self.version} -> {body.get('version')}: an update was lost")
            self.version = int(body["version"])
            resp.success()


class ManagerUser(StaffUser):
    """客户经理: own clients (about 500 each), edits their notes."""

    role = "manager"
    edits = True
    weight = 6


class DirectorUser(StaffUser):
    """营业部经理: the whole branch (about 10 000 clients), edits."""

    role = "director"
    edits = True
    weight = 2


class AgentUser(StaffUser):
    """客服专员: the whole branch, personal data masked, read-only."""

    role = "agent"
    edits = False
    weight = 2

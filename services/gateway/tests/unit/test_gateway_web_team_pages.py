"""Team invitations (issue 16, point 2): an admin invites a person by e-mail with a role, the link
is shown once; the person opens it, sets a password and is logged in to the same organisation;
the link opens once, not after it was withdrawn or expired; another creditor cannot withdraw it;
a member cannot invite. An admin changes a person's role and removes a person, whose sessions
and tokens end at once, never leaving the team without an admin. The same use cases on the REST
API."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import httpx

from gateway.domain.team import TeamRole
from recouvra_shared.unit_of_work import utcnow
from services.gateway.tests.unit.gateway_fakes import (
    PASSWORD,
    FakeStore,
    fields_of,
    key,
    sign_up,
    token,
)
from services.gateway.tests.unit.test_gateway_web_pages import (
    another_browser,
    browser,
    csrf_of,
    field_error,
    intake,
    post_form,
    signed_in,
)

__all__ = ["browser", "intake"]  # the fixtures: a browser on the gateway over fake services


async def _invite(browser: httpx.AsyncClient, email: str, role: str = "member") -> str:
    """The link the admin's page shows, once."""
    sent = await post_form(
        browser, "/account/team", "/account/team/invitations", {"email": email, "role": role}
    )
    assert sent.status_code == 200, sent.text
    link = re.search(r'<code class="secret">http://gateway(/invitations/[^<]+)</code>', sent.text)
    assert link is not None, sent.text
    return link.group(1)


def _role_shown(page: str, email: str) -> str:
    """The role an admin's team page shows selected for this person."""
    match = re.search(
        rf'aria-label="Rôle de {re.escape(email)}">.*?<option value="(\w+)" selected>', page, re.S
    )
    assert match is not None, page
    return match.group(1)


async def _member_id(store: FakeStore, email: str) -> str:
    return next(u.user_id for u in store.accounts.users.values() if u.email == email)


@contextlib.asynccontextmanager
async def _joined(
    browser: httpx.AsyncClient, email: str, role: str = "member"
) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser, logged in as a person who accepted the admin's invitation."""
    link = await _invite(browser, email, role)
    async with await another_browser(browser) as invitee:
        opened = await invitee.get(link)
        joined = await invitee.post(
            link, data={"password": PASSWORD, "csrf_token": csrf_of(opened)}
        )
        assert joined.status_code == 303, joined.text
        yield invitee


async def _organisation_of(client: httpx.AsyncClient, email: str) -> str:
    me = await client.get("/v1/me", headers=await token(client, email))
    assert me.status_code == 200, me.text
    organisation_id: str = me.json()["organisation_id"]
    return organisation_id


async def test_an_invited_person_sets_a_password_once_and_joins_the_same_team(
    browser: httpx.AsyncClient,
) -> None:
    await signed_in(browser, "owner@acme.fr")
    link = await _invite(browser, "Compta@Acme.fr")
    team = await browser.get("/account/team")
    assert "compta@acme.fr" in team.text
    assert link not in team.text  # shown once, never listed

    async with await another_browser(browser) as invitee:
        opened = await invitee.get(link)
        assert opened.status_code == 200
        assert "owner@acme.fr" in opened.text  # the organisation's name (here its e-mail)
        assert "compta@acme.fr" in opened.text
        short = await invitee.post(link, data={"password": "court", "csrf_token": csrf_of(opened)})
        assert short.status_code == 422
        assert "12" in field_error(short.text, "password")
        joined = await invitee.post(
            link, data={"password": PASSWORD, "csrf_token": csrf_of(opened)}
        )
        assert joined.status_code == 303
        assert joined.headers["location"] == "/dashboard"
        # Logged in, as a member: it sees the team, and may not invite.
        as_member = await invitee.get("/account/team")
        assert as_member.status_code == 200
        assert "owner@acme.fr" in as_member.text
        assert 'action="/account/team/invitations"' not in as_member.text
        refused = await invitee.post(
            "/account/team/invitations",
            data={"email": "x@acme.fr", "csrf_token": csrf_of(as_member)},
        )
        assert refused.status_code == 403
        again = await invitee.get(link)
        assert again.status_code == 409
        assert "déjà été utilisé" in again.text

    assert await _organisation_of(browser, "compta@acme.fr") == await _organisation_of(
        browser, "owner@acme.fr"
    )
    team = await browser.get("/account/team")
    assert _role_shown(team.text, "compta@acme.fr") == "member"
    assert "Aucune invitation en attente" in team.text


async def test_a_withdrawn_or_expired_invitation_does_not_open(
    browser: httpx.AsyncClient, store: FakeStore
) -> None:
    await signed_in(browser, "owner@acme.fr")
    withdrawn = await _invite(browser, "a@acme.fr")
    expired = await _invite(browser, "b@acme.fr", "admin")
    team = await browser.get("/account/team")
    ids = re.findall(r'action="/account/team/invitations/([^/]+)/revoke"', team.text)
    first = next(i for i in ids if store.team.invitations[i].email == "a@acme.fr")
    revoked = await browser.post(
        f"/account/team/invitations/{first}/revoke", data={"csrf_token": csrf_of(team)}
    )
    assert revoked.status_code == 303
    second = next(i for i in ids if i != first)
    store.team.invitations[second] = replace(
        store.team.invitations[second], expires_at=utcnow() - timedelta(seconds=1)
    )
    async with await another_browser(browser) as invitee:
        page = await invitee.get(withdrawn)
        assert page.status_code == 409
        assert "retirée" in page.text
        page = await invitee.get(expired)
        assert page.status_code == 409
        assert "expiré" in page.text
        unknown = await invitee.get("/invitations/never-made")
        assert unknown.status_code == 404
        tried = await invitee.post(
            withdrawn, data={"password": PASSWORD, "csrf_token": csrf_of(page)}
        )
        assert tried.status_code == 409
    assert all(u.email not in {"a@acme.fr", "b@acme.fr"} for u in store.accounts.users.values())


async def test_invitation_errors_are_shown_beside_the_email(browser: httpx.AsyncClient) -> None:
    await signed_in(browser, "owner@acme.fr")
    bad = await post_form(
        browser, "/account/team", "/account/team/invitations", {"email": "pas-un-email"}
    )
    assert bad.status_code == 422
    assert field_error(bad.text, "email")
    await _invite(browser, "c@acme.fr")
    twice = await post_form(
        browser, "/account/team", "/account/team/invitations", {"email": "c@acme.fr"}
    )
    assert twice.status_code == 409
    assert "en attente" in field_error(twice.text, "email")
    member = await post_form(
        browser, "/account/team", "/account/team/invitations", {"email": "owner@acme.fr"}
    )
    assert member.status_code == 409
    assert "déjà membre" in field_error(member.text, "email")


async def test_another_creditor_cannot_withdraw_an_invitation(
    browser: httpx.AsyncClient, store: FakeStore
) -> None:
    await signed_in(browser, "owner@acme.fr")
    link = await _invite(browser, "d@acme.fr")
    invitation_id = next(iter(store.team.invitations))
    async with await another_browser(browser) as other:
        await signed_in(other, "b@other.fr")
        page = await other.get("/account/team")
        assert "d@acme.fr" not in page.text
        tried = await other.post(
            f"/account/team/invitations/{invitation_id}/revoke",
            data={"csrf_token": csrf_of(page)},
        )
        assert tried.status_code == 404
    async with await another_browser(browser) as invitee:
        assert (await invitee.get(link)).status_code == 200


async def test_the_api_invites_lists_revokes_and_accepts(browser: httpx.AsyncClient) -> None:
    api = browser
    owner = await sign_up(api, "owner@acme.fr")
    other = await sign_up(api, "b@other.fr")
    sent = await api.post(
        "/v1/team/invitations",
        json={"email": "e@acme.fr", "role": "admin"},
        headers=owner | key("i1"),
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["role"] == "admin"
    token_in_link = sent.json()["link"].rsplit("/", 1)[1]
    listed = (await api.get("/v1/team/invitations", headers=owner)).json()["items"]
    assert [i["email"] for i in listed] == ["e@acme.fr"]
    assert "link" not in listed[0]
    assert (await api.get("/v1/team/invitations", headers=other)).json()["items"] == []
    gone = await api.delete(f"/v1/team/invitations/{sent.json()['id']}", headers=other)
    assert gone.status_code == 404
    made_key = await api.post(
        "/v1/api-keys", json={"name": "k", "scopes": ["read", "write"]}, headers=owner | key("k")
    )
    by_key = {"X-API-Key": made_key.json()["key"]}
    refused = await api.post(
        "/v1/team/invitations", json={"email": "f@acme.fr"}, headers=by_key | key("i2")
    )
    assert refused.status_code == 403

    weak = await api.post(
        "/v1/invitations/accept",
        json={"token": token_in_link, "password": "short"},
        headers=key("a1"),
    )
    assert weak.status_code == 422
    assert "password" in fields_of(weak)
    accepted = {"token": token_in_link, "password": PASSWORD}
    joined = await api.post("/v1/invitations/accept", json=accepted, headers=key("a2"))
    assert joined.status_code == 201, joined.text
    assert joined.json()["role"] == TeamRole.ADMIN.value
    assert await _organisation_of(api, "e@acme.fr") == await _organisation_of(api, "owner@acme.fr")
    # An admin invites too.
    second_admin = await token(api, "e@acme.fr")
    invited = await api.post(
        "/v1/team/invitations", json={"email": "g@acme.fr"}, headers=second_admin | key("i3")
    )
    assert invited.status_code == 201
    # The same request again is answered as the first; a new one finds the link used.
    replayed = await api.post("/v1/invitations/accept", json=accepted, headers=key("a2"))
    assert replayed.json() == joined.json()
    reused = await api.post("/v1/invitations/accept", json=accepted, headers=key("a3"))
    assert reused.status_code == 409
    unknown = await api.post(
        "/v1/invitations/accept", json={"token": "x", "password": PASSWORD}, headers=key("a4")
    )
    assert unknown.status_code == 404


async def test_an_email_with_an_account_elsewhere_cannot_join_and_the_link_stays_unused(
    browser: httpx.AsyncClient, store: FakeStore
) -> None:
    async with await another_browser(browser) as other:
        await signed_in(other, "b@other.fr")
    await signed_in(browser, "owner@acme.fr")
    link = await _invite(browser, "b@other.fr")
    async with await another_browser(browser) as invitee:
        opened = await invitee.get(link)
        refused = await invitee.post(
            link, data={"password": PASSWORD, "csrf_token": csrf_of(opened)}
        )
        assert refused.status_code == 409
        assert "un compte utilise déjà cette adresse" in refused.text
        assert "recouvra_session" not in refused.headers.get("set-cookie", "")
    [invitation] = store.team.invitations.values()
    assert invitation.accepted_at is None
    assert await _organisation_of(browser, "b@other.fr") != await _organisation_of(
        browser, "owner@acme.fr"
    )


async def test_an_admin_changes_a_role_then_removes_the_person_whose_session_ends_at_once(
    browser: httpx.AsyncClient, store: FakeStore
) -> None:
    await signed_in(browser, "owner@acme.fr")
    async with _joined(browser, "compta@acme.fr") as colleague:
        colleague_token = await token(colleague, "compta@acme.fr")
        assert (await colleague.get("/v1/me", headers=colleague_token)).status_code == 200
        compta = await _member_id(store, "compta@acme.fr")

        promoted = await post_form(
            browser, "/account/team", f"/account/team/members/{compta}/role", {"role": "admin"}
        )
        assert promoted.status_code == 303
        team = await browser.get(promoted.headers["location"])
        assert "Le rôle a été modifié" in team.text
        assert _role_shown(team.text, "compta@acme.fr") == "admin"
        # Now an admin, the colleague may invite.
        as_admin = await colleague.get("/account/team")
        assert 'action="/account/team/invitations"' in as_admin.text

        removed = await post_form(
            browser, "/account/team", f"/account/team/members/{compta}/remove", {}
        )
        assert removed.status_code == 303
        team = await browser.get(removed.headers["location"])
        assert "retirée de votre équipe" in team.text
        assert "compta@acme.fr" not in team.text
        # The colleague's open session and access token are refused from the next request on.
        ended = await colleague.get("/account/team")
        assert ended.status_code == 303
        assert ended.headers["location"].startswith("/login")
        assert (await colleague.get("/v1/me", headers=colleague_token)).status_code == 401
        relog = await colleague.post(
            "/v1/auth/token", json={"email": "compta@acme.fr", "password": PASSWORD}
        )
        assert relog.status_code == 401
    # The address may be invited again.
    await _invite(browser, "compta@acme.fr")


async def test_the_team_always_keeps_an_admin_and_only_an_admin_of_it_changes_it(
    browser: httpx.AsyncClient, store: FakeStore
) -> None:
    await signed_in(browser, "owner@acme.fr")
    owner = await _member_id(store, "owner@acme.fr")
    demoted = await post_form(
        browser, "/account/team", f"/account/team/members/{owner}/role", {"role": "member"}
    )
    assert demoted.status_code == 409
    assert "garde au moins un administrateur" in demoted.text
    assert _role_shown(demoted.text, "owner@acme.fr") == "admin"
    alone = await post_form(browser, "/account/team", f"/account/team/members/{owner}/remove", {})
    assert alone.status_code == 409
    assert store.accounts.users[owner].role == "admin"
    bad = await post_form(
        browser, "/account/team", f"/account/team/members/{owner}/role", {"role": "boss"}
    )
    assert bad.status_code == 422

    async with _joined(browser, "compta@acme.fr") as member:
        page = await member.get("/account/team")
        assert f"/account/team/members/{owner}/remove" not in page.text
        tried = await member.post(
            f"/account/team/members/{owner}/role",
            data={"role": "member", "csrf_token": csrf_of(page)},
        )
        assert tried.status_code == 403
    async with await another_browser(browser) as other:
        await signed_in(other, "b@other.fr")
        page = await other.get("/account/team")
        for action in ("remove", "role"):
            tried = await other.post(
                f"/account/team/members/{owner}/{action}",
                data={"role": "member", "csrf_token": csrf_of(page)},
            )
            assert tried.status_code == 404
    assert store.accounts.users[owner].role == "admin"

    # With a second admin, the first may step down, and then leave: sent to the log-in page.
    async with _joined(browser, "second@acme.fr", "admin"):
        stepped = await post_form(
            browser, "/account/team", f"/account/team/members/{owner}/role", {"role": "member"}
        )
        assert stepped.status_code == 303
        assert store.accounts.users[owner].role == "member"
    second = await _member_id(store, "second@acme.fr")
    async with await another_browser(browser) as admin:
        logged = await post_form(
            admin, "/login", "/login", {"email": "second@acme.fr", "password": PASSWORD}
        )
        assert logged.status_code == 303
        left = await post_form(admin, "/account/team", f"/account/team/members/{second}/remove", {})
        assert left.status_code == 409  # the owner is a member now: second is the last admin
        promoted = await post_form(
            admin, "/account/team", f"/account/team/members/{owner}/role", {"role": "admin"}
        )
        assert promoted.status_code == 303
        left = await post_form(admin, "/account/team", f"/account/team/members/{second}/remove", {})
        assert left.status_code == 303
        assert left.headers["location"] == "/login"
    assert second not in store.accounts.users


async def test_the_api_lists_the_team_changes_roles_and_removes_people(
    browser: httpx.AsyncClient,
) -> None:
    api = browser
    owner = await sign_up(api, "owner@acme.fr")
    other = await sign_up(api, "b@other.fr")
    sent = await api.post(
        "/v1/team/invitations", json={"email": "e@acme.fr"}, headers=owner | key("i1")
    )
    token_in_link = sent.json()["link"].rsplit("/", 1)[1]
    joined = await api.post(
        "/v1/invitations/accept",
        json={"token": token_in_link, "password": PASSWORD},
        headers=key("a1"),
    )
    colleague = joined.json()["user_id"]
    listed = (await api.get("/v1/team/members", headers=owner)).json()["items"]
    assert [(m["email"], m["role"]) for m in listed] == [
        ("owner@acme.fr", "admin"),
        ("e@acme.fr", "member"),
    ]
    owner_id = listed[0]["user_id"]
    assert [
        m["email"] for m in (await api.get("/v1/team/members", headers=other)).json()["items"]
    ] == ["b@other.fr"]

    last = await api.patch(f"/v1/team/members/{owner_id}", json={"role": "member"}, headers=owner)
    assert last.status_code == 409
    assert "role" in fields_of(last)
    unknown_role = await api.patch(
        f"/v1/team/members/{colleague}", json={"role": "boss"}, headers=owner
    )
    assert unknown_role.status_code == 422
    assert "role" in fields_of(unknown_role)
    elsewhere = await api.patch(
        f"/v1/team/members/{colleague}", json={"role": "admin"}, headers=other
    )
    assert elsewhere.status_code == 404
    assert (await api.delete(f"/v1/team/members/{colleague}", headers=other)).status_code == 404
    as_member = await token(api, "e@acme.fr")
    refused = await api.delete(f"/v1/team/members/{owner_id}", headers=as_member)
    assert refused.status_code == 403

    promoted = await api.patch(
        f"/v1/team/members/{colleague}", json={"role": "admin"}, headers=owner
    )
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "admin"
    gone = await api.delete(f"/v1/team/members/{colleague}", headers=owner)
    assert gone.status_code == 204
    assert (await api.get("/v1/me", headers=as_member)).status_code == 401
    after = (await api.get("/v1/team/members", headers=owner)).json()["items"]
    assert [m["email"] for m in after] == ["owner@acme.fr"]
    assert (await api.delete(f"/v1/team/members/{colleague}", headers=owner)).status_code == 404

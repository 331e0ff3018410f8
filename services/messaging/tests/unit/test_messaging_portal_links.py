"""The debtor's link names one case until it expires; an altered or foreign link is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from messaging.domain.portal_links import portal_url, sign, verify
from recouvra_shared.errors import PermissionDenied

from .channel_fakes import CASE_ID, NOW

SECRET = b"s" * 32


def test_a_link_names_its_case_until_it_expires() -> None:
    token = sign(CASE_ID, NOW + timedelta(days=30), SECRET)
    assert verify(token, NOW, SECRET) == CASE_ID
    with pytest.raises(PermissionDenied, match="expired"):
        verify(token, NOW + timedelta(days=30), SECRET)


@pytest.mark.parametrize(
    "alter",
    [
        lambda t: t.replace(CASE_ID, "11111111-2222-3333-4444-555555555555"),
        lambda t: ".".join([*t.split(".")[:2], "9999999999", t.split(".")[3]]),
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
    ],
)
def test_an_altered_link_is_refused(alter) -> None:  # type: ignore[no-untyped-def]
    token = sign(CASE_ID, NOW + timedelta(days=30), SECRET)
    with pytest.raises(PermissionDenied):
        verify(alter(token), NOW, SECRET)


def test_a_link_signed_with_another_secret_is_refused() -> None:
    token = sign(CASE_ID, NOW + timedelta(days=30), b"x" * 32)
    with pytest.raises(PermissionDenied):
        verify(token, NOW, SECRET)


def test_the_url_carries_the_token() -> None:
    url = portal_url("https://portal.example/", CASE_ID, NOW, timedelta(days=1), SECRET)
    assert verify(url.rsplit("/", 1)[1], NOW, SECRET) == CASE_ID

"""How every page is made: Jinja2 templates, French or English catalogues (Babel .po files read
at start-up, no compile step), static files named with their content's hash for long caching."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from babel.numbers import format_currency
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.schemas.common import minor_exponent

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
CATALOGUES = HERE / "i18n"
LANGUAGES = ("fr", "en")  # French by default; msgids are English
DEFAULT_LANGUAGE = "fr"
LANGUAGE_COOKIE = "recouvra_lang"
CSRF_COOKIE = "recouvra_csrf"
# htmx configured by a meta tag: no inline script, no style it would inject, no eval.
# A refused form (4xx) is swapped in like any page, so its errors show beside the fields.
HTMX_CONFIG = json.dumps(
    {
        "includeIndicatorStyles": False,
        "allowEval": False,
        "allowScriptTags": False,
        "responseHandling": [
            {"code": "204", "swap": False},
            {"code": "[2345]..", "swap": True},
        ],
    }
)
_QUALITY = re.compile(r"^\s*([a-zA-Z-]+)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def read_catalogue(language: str) -> dict[str, str]:
    """msgid -> msgstr of one language's .po files (empty for the source language): messages.po,
    then one file per group of pages (pages.po...), so that teams add texts without conflicts."""
    translations: dict[str, str] = {}
    for path in sorted((CATALOGUES / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as po:
            catalogue = read_po(po, locale=language)
        translations.update({str(m.id): str(m.string) for m in catalogue if m.id and m.string})
    return translations


@dataclass
class StaticFile:
    """A served file and the version its URL carries."""

    url: str
    integrity: str


@dataclass
class Pages:
    """One Jinja environment per language, and the static files' URLs."""

    environments: dict[str, Environment] = field(default_factory=dict)
    static: dict[str, StaticFile] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Pages:
        """Read templates, catalogues and static files once, at start-up."""
        pages = cls()
        for path in sorted(STATIC.rglob("*")):
            if path.is_file():
                content = path.read_bytes()
                name = path.relative_to(STATIC).as_posix()
                version = hashlib.sha256(content).hexdigest()[:16]
                digest = hashlib.sha384(content).digest()
                pages.static[name] = StaticFile(
                    url=f"/static/{name}?v={version}",
                    integrity="sha384-" + base64.b64encode(digest).decode(),
                )
        for language in LANGUAGES:
            pages.environments[language] = pages._environment(language)
        return pages

    def _environment(self, language: str) -> Environment:
        catalogue = read_catalogue(language)
        environment = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html", "svg"]),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )

        def gettext(message: str) -> str:
            return catalogue.get(message) or message

        def ngettext(singular: str, plural: str, n: int) -> str:
            return gettext(singular if n == 1 else plural)

        environment.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
        environment.globals.update(language=language, static=self.static, htmx_config=HTMX_CONFIG)
        environment.filters["money"] = partial(money_in, language)
        return environment

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        """A page in the request's language, with the CSRF token its forms need."""
        language = language_of(request)
        page = self.environments[language].get_template(template)
        values: dict[str, Any] = {
            "request": request,
            "csrf_token": getattr(request.state, "csrf_token", ""),
            "signed_in": getattr(request.state, "principal", None) is not None,
            "errors": {},
            "values": {},
        }
        values.update(context or {})
        response = HTMLResponse(page.render(values), status_code=status_code)
        response.headers["Content-Language"] = language
        response.headers["Cache-Control"] = "no-store"
        cookie = getattr(request.state, "new_csrf_cookie", None)
        if cookie:  # the browser's first page: the cookie its forms' tokens were made for
            response.set_cookie(
                CSRF_COOKIE,
                cookie,
                httponly=True,
                samesite="lax",
                secure=bool(request.app.state.secure_cookies),
                path="/",
            )
        return response


def money_in(language: str, money: Any) -> str:
    """An amount as people of `language` write it (`1 234,56 €` in French), exactly: the
    API's `Money` (a decimal string and a currency) or the contracts' (minor units and a
    currency) never passes through a float."""
    if hasattr(money, "minor_units"):
        amount = Decimal(int(money.minor_units)).scaleb(-minor_exponent(money.currency))
    else:
        amount = Decimal(money.amount)
    return format_currency(amount, money.currency, locale=language)


def language_of(request: Request) -> str:
    """The language chosen with the switch (a cookie), else the browser's, else French."""
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    ranked: list[tuple[float, str]] = []
    for part in request.headers.get("accept-language", "").split(","):
        match = _QUALITY.match(part)
        if match:
            primary = match.group(1).split("-")[0].lower()
            try:
                quality = float(match.group(2) or 1)
            except ValueError:
                continue
            if primary in LANGUAGES:
                ranked.append((quality, primary))
    return max(ranked, key=lambda r: r[0])[1] if ranked else DEFAULT_LANGUAGE

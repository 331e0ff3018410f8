"""Property-based fuzzing of the gateway's marketplace routes against its own OpenAPI document.

The sibling of tests/e2e/test_gateway_schemathesis.py for the tags that need more than intake:
documents (the vault), quotes (matching, creditor side), bidding and assignments (matching,
provider side). Intake, scoring, matching, the vault and the gateway run as processes on the
real stack. A creditor and a provider sign up over REST; the creditor submits two real cases,
which scoring scores and matching auctions to the provider: one is won by the provider's bid
(on the test clock), quoted, accepted by both and holds a document; the other's auction stays
open. About two requests in three name one of them, so the found, refused-by-state and
conflict branches run, not only the 404 of a random id. Each request goes through the door of
its caller (the provider's routes with the provider's token, the others with the creditor's)
and is checked exactly as the sibling test checks its own.
"""

from __future__ import annotations

import json
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

import httpx
import jsonschema_rs
import pytest
import schemathesis

from tests.e2e import test_gateway_schemathesis as base
from tests.support.databases import ServiceDatabase
from tests.support.fixtures import ServiceProcess
from tests.support.marketplace import OffsetClock
from tests.support.stack import ROOT, Stack, free_port, unique_name

PARIS = ZoneInfo("Europe/Paris")

pytestmark = pytest.mark.e2e

T = TypeVar("T")
PASSWORD = base.PASSWORD
PDF = (ROOT / "services" / "intake" / "tests" / "data" / "invoice-facturx.pdf").read_bytes()
PROVIDER_PREFIX = "/v1/provider/"
AUCTIONS_PREFIX = "/v1/provider/auctions/"
BIDDING_CLOSES = timedelta(minutes=16)  # bidding lasts 15 minutes


@dataclass(frozen=True)
class Market:
    """A running gateway in front of the marketplace, its two callers and the real ids seeded."""

    url: str
    creditor: str
    provider: str
    # A case the provider holds (assigned to it, with a document the creditor attached).
    assigned: str
    document_id: str
    # A case whose auction is open to the provider.
    auctioned: str
    # The day in France on matching's clock (moved past the bidding): the holder's window began
    # that day, and a payment it reports may not be dated before it.
    today_in_matching: Callable[[], str]

    def authorization(self, path: str) -> str:
        """The provider's routes are the provider's door; every other route the creditor's."""
        return self.provider if path.startswith(PROVIDER_PREFIX) else self.creditor

    def case_ids(self, path: str) -> list[str]:
        """The real cases worth naming on this route: only an open auction can be bid on."""
        if path.startswith(AUCTIONS_PREFIX):
            return [self.auctioned]
        if path.endswith("/release"):
            # Operations run one after the other: a release would end the holding for every
            # later one (the provider's actions, payments and documents on the held case).
            return [self.auctioned]
        return [self.assigned, self.auctioned]


def _sign_up(client: httpx.Client, path: str, body: dict[str, object]) -> str:
    email = f"{unique_name('fuzz')}@example.fr"
    signed = client.post(
        path,
        json={**body, "email": email, "password": PASSWORD},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert signed.status_code == 201, signed.text
    login = client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return f"Bearer {login.json()['access_token']}"


def _case_body(invoice_number: str) -> dict[str, object]:
    today = datetime.now(UTC).date()
    return {
        "debtor": {
            "kind": "company",
            "name": "Transports Lefèvre SAS",
            "siren_or_siret": "552100554",
        },
        "invoices": [
            {
                "invoice_number": invoice_number,
                "issue_date": (today - timedelta(days=90)).isoformat(),
                "due_date": (today - timedelta(days=60)).isoformat(),
                "amount_due": {"amount": "1250.00", "currency": "EUR"},
            }
        ],
    }


class _Seeder:
    """Drives the marketplace over REST as its users would, waiting on what is asynchronous."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def post(self, path: str, authorization: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": authorization, "Idempotency-Key": str(uuid.uuid4())}
        answer = self.client.post(path, headers=headers, **kwargs)
        assert answer.status_code in (200, 201), f"{path}: {answer.text}"
        body: dict[str, Any] = answer.json()
        return body

    def until(self, path: str, authorization: str, done: Callable[[httpx.Response], bool]) -> None:
        """Poll a GET until `done`: scoring, matching and the vault follow Kafka events."""
        deadline = time.monotonic() + 60
        while not done(answer := self.client.get(path, headers={"Authorization": authorization})):
            assert time.monotonic() < deadline, f"{path}: still {answer.text}"
            time.sleep(0.3)

    def auctioned(self, creditor: str, provider: str, invoice_number: str) -> str:
        body = _case_body(invoice_number)
        case_id = str(self.post("/v1/cases", creditor, json=body)["case_id"])

        def opened(answer: httpx.Response) -> bool:
            assert answer.status_code == 200, answer.text
            return any(a["case_id"] == case_id for a in answer.json()["items"])

        self.until("/v1/provider/auctions", provider, opened)
        return case_id


def _approve(client: httpx.Client, gateway: ServiceProcess, provider: str) -> None:
    """An operator (made by the gateway's command line) approves the provider."""
    email = f"{unique_name('operator')}@recouvra.test"
    gateway.run_command("operators", "create", email, RECOUVRA_OPERATOR_PASSWORD=PASSWORD)
    login = client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    provider_id = client.get("/v1/me", headers={"Authorization": provider}).json()
    approved = client.post(
        f"/v1/operator/providers/{provider_id['organisation_id']}/approve",
        json={},
        headers={
            "Authorization": f"Bearer {login.json()['access_token']}",
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )
    assert approved.status_code == 200, approved.text


def _seed(url: str, clock: OffsetClock, gateway: ServiceProcess) -> Market:
    """A creditor, a provider eligible for its cases, one case assigned to the provider with a
    document, and one case whose auction is open."""
    with httpx.Client(base_url=url, timeout=30) as client:
        seeder = _Seeder(client)
        creditor = _sign_up(
            client, "/v1/accounts", {"organisation_name": "Atelier Fuzz", "siren": "732829320"}
        )
        provider = _sign_up(
            client,
            "/v1/provider/accounts",
            {
                "organisation_name": "Etude Fuzz",
                "siren": "732829320",
                "profile": {
                    "kind": "commissaire",
                    "regions": ["FR"],
                    "serves_business": True,
                    "serves_consumer": True,
                    "min_amount": {"amount": "100.00", "currency": "EUR"},
                    "max_amount": {"amount": "100000.00", "currency": "EUR"},
                    "judicial": True,
                    "capacity": 5,
                },
            },
        )
        _approve(client, gateway, provider)
        # The provider's only bid wins once bidding closes on the test clock; the creditor
        # accepts the quote and the provider the case.
        assigned = seeder.auctioned(creditor, provider, "F-2026-0042")
        document = seeder.post(
            f"/v1/cases/{assigned}/documents",
            creditor,
            files={"file": ("invoice.pdf", PDF, "application/pdf")},
            data={"kind": "invoice"},
        )
        seeder.post(f"/v1/provider/auctions/{assigned}/bid", provider, json={"fee_percent": "10"})
        clock.advance(BIDDING_CLOSES)
        seeder.until(
            f"/v1/cases/{assigned}/quote",
            creditor,
            lambda answer: answer.status_code == 200 and answer.json()["status"] == "quoted",
        )
        seeder.post(f"/v1/cases/{assigned}/quote/acceptance", creditor)
        taken = seeder.post(f"/v1/provider/assignments/{assigned}/acceptance", provider)
        assert taken["status"] == "assigned", taken
        # The vault grants the holder access when matching's case-assigned event reaches it.
        seeder.until(
            f"/v1/provider/assignments/{assigned}/documents/{document['id']}",
            provider,
            lambda answer: answer.status_code == 200,
        )
        # Opened after the clock moved: bidding stays open for the whole run.
        auctioned = seeder.auctioned(creditor, provider, "F-2026-0043")

        def today_in_matching() -> str:
            return (datetime.now(UTC) + clock.offset).astimezone(PARIS).date().isoformat()

        return Market(
            url, creditor, provider, assigned, str(document["id"]), auctioned, today_in_matching
        )


@pytest.fixture(scope="module")
def market(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    """Every service the marketplace routes reach, started once for every operation's run."""
    prefix = unique_name("e2e_fuzz_market") + "."
    log = tmp_path_factory.mktemp("gateway_fuzz_market")
    databases: list[ServiceDatabase] = []
    processes: list[ServiceProcess] = []

    def start(service: str, **env: str) -> ServiceProcess:
        url = base._database(stack, service, databases)
        process = base._process(stack, service, url, prefix, log, **env)
        processes.append(process)
        process.start()
        return process

    try:
        intake = start("intake")
        scoring = start("scoring", intake_target=intake.target)
        clock = OffsetClock(log / "matching-clock-offset")
        matching = start("matching", clock_offset_file=str(clock.path), timer_poll_seconds="0.2")
        vault = start(
            "vault",
            bucket=unique_name("vault").replace("_", "-"),
            key_file=str(log / "keys.json"),
            s3_endpoint=stack.s3_endpoint,
            s3_access_key=stack.s3_access_key,
            s3_secret_key=stack.s3_secret_key,
        )
        port = free_port()
        gateway = start(
            "gateway",
            http_port=str(port),
            intake_target=intake.target,
            scoring_target=scoring.target,
            matching_target=matching.target,
            vault_target=vault.target,
        )
        url = f"http://127.0.0.1:{port}"
        base._wait_http(url, gateway)
        assert httpx.get(f"{url}/openapi.json", timeout=30).json() == base.DOCUMENT
        yield _seed(url, clock, gateway)
        for process in reversed(processes):
            assert process.stop() == 0, process.log_text()[-3000:]
    finally:
        for process in processes:
            process.kill()
        base._drop(stack, databases)


schema = (
    schemathesis.openapi.from_dict(
        base.DOCUMENT, config=schemathesis.Config.from_dict(base.SETTINGS)
    )
    .include(tag=["documents", "quotes", "bidding", "assignments"])
    # The auction stream never ends while an auction is open (an hour at most), and
    # schemathesis reads a whole body: test_stream_answers_as_documented below reads its
    # first event instead.
    .exclude(path="/v1/provider/auctions/stream")
)


def _pick(generated: object, choices: list[T]) -> T | None:
    """A real value in place of a generated one about two times in three, the same each run."""
    index = zlib.crc32(repr(generated).encode()) % 3
    return choices[index % len(choices)] if index else None


@schema.parametrize()
def test_marketplace_answers_every_generated_request_as_documented(
    case: schemathesis.Case, market: Market
) -> None:
    case.headers["Authorization"] = market.authorization(case.path)
    if case.method.upper() == "POST":
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    # A creditor naming any other creditor (the partners' header) finds nothing, whatever else
    # it sends: without the header, the rest of the request gets looked at.
    for name in [h for h in case.headers if h.lower() == "x-on-behalf-of"]:
        if _pick(case.headers[name], [True]):
            del case.headers[name]
    # Random ids only ever reach the 404 branch: most requests name a seeded case (and its
    # document), so the found, refused-by-state and conflict branches run too.
    parameters = case.path_parameters or {}
    real_case = _pick(parameters.get("case_id"), market.case_ids(case.path))
    if "case_id" in parameters and real_case is not None:
        parameters["case_id"] = real_case
        if "document_id" in parameters and _pick(parameters["document_id"], [True]):
            parameters["document_id"] = market.document_id
        # Generated bytes are never a PDF, PNG, JPEG or XML: a real one reaches the vault.
        if isinstance(case.body, dict) and "file" in case.body and _pick(case.body, [True]):
            case.body["file"] = cast(Any, PDF)  # bytes: schemathesis sends it as the file
            case.body.pop("sha256", None)
        # The documented example's date precedes the seeded holding: a payment made today (in
        # France, on matching's clock: near midnight the UTC date is the day before the
        # window's) is one the holder may report.
        if isinstance(case.body, dict) and "paid_on" in case.body and _pick(case.body, [True]):
            case.body["paid_on"] = market.today_in_matching()
    case.call_and_validate(base_url=market.url, checks=base.CHECKS)


def test_stream_answers_as_documented(market: Market) -> None:
    """The provider's auction stream: the open auction first, as a documented AuctionView."""
    with (
        httpx.Client(base_url=market.url, timeout=30) as client,
        client.stream(
            "GET", "/v1/provider/auctions/stream", headers={"Authorization": market.provider}
        ) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == "event: auction"
        data = next(lines)
    view = json.loads(data.removeprefix("data: "))
    auction_view = {"$ref": "#/components/schemas/AuctionView", **base.DOCUMENT}
    jsonschema_rs.Draft202012Validator(auction_view).validate(view)
    assert view["case_id"] == market.auctioned

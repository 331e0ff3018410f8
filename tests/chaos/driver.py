"""The users, played through the gateway's REST API, and the harness's own record of every
intent it sent: what it asked, under which Idempotency-Key, and what the system answered.

A request is retried with the same Idempotency-Key while the system is down (no answer, or a
5xx), as a patient client would; an answer of 2xx makes the intent *accepted* (its effects must
exist exactly once), a 4xx makes it *refused* (no effect may exist)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from services.settlement.tests.unit.camt_files import Entry, camt053
from tests.support.marketplace import CREDITOR_SIREN, PASSWORD

ACCEPTED, REFUSED = "accepted", "refused"
PROVIDER_SIRENS = ("552100554", "542107651", "356000000")
SECOND_CREDITOR_SIREN = "552081317"
AUTO_FEES = ("12.5", "11")  # the first two providers bid only by rule
# What a read of a service's database meets while faults play: the server killed, refusing
# connections, or restarted and still recovering ("not yet accepting connections").
DATABASE_DOWN = (OSError, asyncpg.PostgresError)
LIVE_FEE = "9.5"  # the third bids live on every auction it sees
PARIS = ZoneInfo("Europe/Paris")
# The operator's import of one bank file: accepted or refused, and how many times it was retried.
ImportStatement = Callable[[bytes], Awaitable[tuple[str, int]]]
# The cases whose quote waits for its creditor, read in one query of matching's database.
Quoted = Callable[[], Awaitable[set[str]]]
# How many requests of one kind users have in flight at once (creditors, providers, debtors).
IN_FLIGHT = 8
# A refused or unanswered request goes again after a pause that doubles up to the last, each
# drawn at random between half and all of it, under the same Idempotency-Key, as the API's
# description tells clients to (gateway/entrypoints/http.py). A fixed 0.3 s made every waiting
# request of a 10,000-case run ask again three times a second while a service was down: the
# gateway drowned in the retries and stayed down after the service was back.
RETRY_PAUSES = (0.3, 5.0)
_JITTER = random.Random()  # not the run's seeded one: the pauses change nothing a seed decides
CSV_ROWS = 25  # a creditor's CSV file: every fifth thing a creditor sends


async def side_by_side(work: Iterable[Awaitable[None]], limit: int = IN_FLIGHT) -> None:
    """Every piece of `work`, at most `limit` at a time, as users would have them in flight."""
    gate = asyncio.Semaphore(limit)

    async def one(piece: Awaitable[None]) -> None:
        async with gate:
            await piece

    await asyncio.gather(*(one(piece) for piece in work))


def invoice_amount(number: int) -> str:
    return f"{200 + (number * 137) % 9000}.{number % 100:02d}"


def cents(amount: str) -> int:
    units, _, fraction = amount.partition(".")
    return int(units) * 100 + int(fraction or 0)


@dataclass
class Intent:
    """One thing a user asked for."""

    kind: str  # case-json, case-csv, auto-bid-rule, bid, accept-quote, accept-assignment, payment
    subject: str  # what it is about: an invoice number, a case id, a provider
    actor: str  # creditor or provider id
    outcome: str = ""
    case_id: str = ""
    status: int = 0
    cents: int = 0  # a case's principal; a payment's amount
    other: str = ""  # the provider an accepted quote offered the case to
    round: int = 1  # the case's round an acceptance answers (2: after its rotation)


class Session(dict[str, str]):
    """A user's request headers while logged in: its bearer token, replaced in place when the
    user logs in again (the gateway's tokens live 15 minutes; a long run outlives them), so
    every request of the user's carries the new one."""

    def __init__(self, email: str, token: str) -> None:
        super().__init__(Authorization=f"Bearer {token}")
        self.email = email
        self.renewing = asyncio.Lock()


@dataclass
class Party:
    id: str
    headers: dict[str, str]


@dataclass
class Driver:
    url: str
    rng: random.Random
    run: str  # a label making this run's invoice numbers its own
    intents: list[Intent] = field(default_factory=list)
    creditors: list[Party] = field(default_factory=list)
    auto_providers: list[Party] = field(default_factory=list)
    live_provider: Party | None = None
    retries: int = 0
    client: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.AsyncClient(base_url=self.url, timeout=30)

    async def close(self) -> None:
        await self.client.aclose()

    async def call(
        self, method: str, path: str, *, within: float = 300, **kwargs: Any
    ) -> httpx.Response:
        """One request, retried with the same Idempotency-Key until the system answers (a 429
        after its Retry-After); a user whose session ran out (401) logs in again and sends it
        once more."""
        given: dict[str, str] = kwargs.pop("headers", {})
        key = {"Idempotency-Key": str(uuid.uuid4())}
        deadline, renewed = time.monotonic() + within, False
        pause = RETRY_PAUSES[0]
        while True:
            sent = key | given
            try:
                answer = await self.client.request(method, path, headers=sent, **kwargs)
                if answer.status_code == 401 and not renewed:
                    renewed = await self.log_in_again(given, sent)
                    if renewed:
                        continue
                if answer.status_code < 500 and answer.status_code != 429:
                    return answer
            except httpx.TransportError:
                answer = None
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} {path}: no answer within {within} s")
            self.retries += 1
            # Told to slow down (429: too many in flight, or a rate limit): not before it says.
            told = float(answer.headers.get("Retry-After", 0)) if answer is not None else 0.0
            await asyncio.sleep(max(told, _JITTER.uniform(pause / 2, pause)))
            pause = min(pause * 2, RETRY_PAUSES[1])

    def record(self, intent: Intent, answer: httpx.Response) -> Intent:
        intent.status = answer.status_code
        intent.outcome = ACCEPTED if answer.status_code < 400 else REFUSED
        self.intents.append(intent)
        return intent

    # ---- the market ------------------------------------------------------------------------
    async def log_in(self, email: str) -> Session:
        login = await self.call(
            "POST", "/v1/auth/token", json={"email": email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        return Session(email, login.json()["access_token"])

    async def log_in_again(self, given: dict[str, str], sent: dict[str, str]) -> bool:
        """The session of `given` ran out: its user logs in once, however many of its requests
        were refused meanwhile (one of them already did, when its token is no longer the one
        sent). False for headers that are no session (an API key)."""
        if not isinstance(given, Session):
            return False
        async with given.renewing:
            if given["Authorization"] == sent.get("Authorization"):
                given["Authorization"] = (await self.log_in(given.email))["Authorization"]
        return True

    async def read(self, path: str, headers: dict[str, str]) -> httpx.Response:
        """A GET as its user makes it, logging in again once when the session ran out."""
        sent = dict(headers)
        answer = await self.client.get(path, headers=sent)
        if answer.status_code == 401 and await self.log_in_again(headers, sent):
            answer = await self.client.get(path, headers=headers)
        return answer

    async def sign_up_creditor(self, siren: str) -> Party:
        email = f"creditor-{uuid.uuid4().hex[:8]}@example.fr"
        body = {"organisation_name": f"Creditor {siren}", "siren": siren, "email": email,
                "password": PASSWORD}  # fmt: skip
        signed = await self.call("POST", "/v1/accounts", json=body)
        assert signed.status_code == 201, signed.text
        party = Party(signed.json()["organisation"]["id"], await self.log_in(email))
        policy = await self.call(
            "POST", "/v1/quote-policy", json={"max_fee_percent": "20"}, headers=party.headers
        )
        assert policy.status_code == 200, policy.text
        return party

    async def sign_up_provider(self, siren: str, operator: dict[str, str]) -> Party:
        email = f"provider-{uuid.uuid4().hex[:8]}@example.fr"
        profile = {
            "kind": "commissaire", "regions": ["FR"], "serves_business": True,
            "serves_consumer": True, "min_amount": {"amount": "100.00", "currency": "EUR"},
            "max_amount": {"amount": "100000.00", "currency": "EUR"}, "judicial": True,
            "capacity": 100_000,
        }  # fmt: skip
        body = {"organisation_name": f"Etude {siren}", "siren": siren, "email": email,
                "password": PASSWORD, "profile": profile}  # fmt: skip
        signed = await self.call("POST", "/v1/provider/accounts", json=body)
        assert signed.status_code == 201, signed.text
        provider_id = signed.json()["id"]
        approved = await self.call(
            "POST",
            f"/v1/operator/providers/{provider_id}/approve",
            json={"reason": "chaos harness"},
            headers=operator,
        )
        assert approved.status_code == 200, approved.text
        return Party(provider_id, await self.log_in(email))

    async def set_up(self, operator: dict[str, str]) -> None:
        """Two creditors, two providers bidding by rule, one bidding live with an API key."""
        creditors = [self.sign_up_creditor(s) for s in (CREDITOR_SIREN, SECOND_CREDITOR_SIREN)]
        providers = [self.sign_up_provider(siren, operator) for siren in PROVIDER_SIRENS]
        *self.creditors, first, second, live = await asyncio.gather(*creditors, *providers)
        for party, fee in zip((first, second), AUTO_FEES, strict=True):
            rule = await self.call(
                "POST", "/v1/provider/auto-bid-rules",
                json={"name": "all", "fee_percent": fee}, headers=party.headers,
            )  # fmt: skip
            assert self.record(Intent("auto-bid-rule", fee, party.id), rule).outcome == ACCEPTED
            self.auto_providers.append(party)
        key = await self.call(
            "POST", "/v1/api-keys", json={"name": "bidding robot"}, headers=live.headers
        )
        assert key.status_code == 201, key.text
        self.live_provider = Party(live.id, {"X-API-Key": key.json()["key"]})

    # ---- cases -----------------------------------------------------------------------------
    def invoice(self, number: int) -> dict[str, Any]:
        today = datetime.now(UTC).date()
        issued = today - timedelta(days=60 + number % 200)
        amount = invoice_amount(number)
        return {
            "invoice_number": f"{self.run}-{number:05d}",
            "issue_date": issued.isoformat(),
            "due_date": (issued + timedelta(days=30)).isoformat(),
            "amount_due": {"amount": amount, "currency": "EUR"},
        }

    async def submit_json(self, number: int) -> None:
        creditor = self.creditors[number % len(self.creditors)]
        invoice = self.invoice(number)
        body = {
            "debtor": {
                "kind": "company", "name": f"Debtor {number} SARL",
                "address": {"lines": ["3 rue Vendome"], "postal_code": "69003", "city": "Lyon"},
            },
            "invoices": [invoice],
        }  # fmt: skip
        answer = await self.call("POST", "/v1/cases", json=body, headers=creditor.headers)
        intent = self.record(
            Intent(
                "case-json",
                invoice["invoice_number"],
                creditor.id,
                cents=cents(invoice_amount(number)),
            ),
            answer,
        )
        if intent.outcome == ACCEPTED:
            intent.case_id = answer.json()["case_id"]

    async def submit_csv(self, numbers: list[int]) -> None:
        """One CSV file of several cases (one invoice each), by one creditor."""
        creditor = self.creditors[numbers[0] % len(self.creditors)]
        out = io.StringIO()
        columns = ["invoice_number", "issue_date", "due_date", "currency", "amount_due",
                   "debtor_kind", "debtor_name", "debtor_address_line1", "debtor_postal_code",
                   "debtor_city"]  # fmt: skip
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        invoices = [self.invoice(n) for n in numbers]
        for n, invoice in zip(numbers, invoices, strict=True):
            writer.writerow({
                "invoice_number": invoice["invoice_number"], "issue_date": invoice["issue_date"],
                "due_date": invoice["due_date"], "currency": "EUR",
                "amount_due": invoice["amount_due"]["amount"], "debtor_kind": "company",
                "debtor_name": f"Debtor {n} SAS", "debtor_address_line1": "12 quai Perrache",
                "debtor_postal_code": "69002", "debtor_city": "Lyon",
            })  # fmt: skip
        files = {"file": ("cases.csv", out.getvalue().encode(), "text/csv")}
        answer = await self.call("POST", "/v1/cases/imports", files=files, headers=creditor.headers)
        rows = answer.json().get("report", []) if answer.status_code == 200 else []
        by_line = {row.get("line"): row for row in rows}
        for line, invoice in enumerate(invoices, start=2):
            row = by_line.get(line, {})
            principal = cents(invoice["amount_due"]["amount"])
            intent = Intent(
                "case-csv", invoice["invoice_number"], creditor.id, status=answer.status_code,
                cents=principal,
            )  # fmt: skip
            intent.outcome = ACCEPTED if row.get("accepted") else REFUSED
            intent.case_id = row.get("case_id") or ""
            self.intents.append(intent)

    async def submit_cases(
        self, count: int, workers: int = IN_FLIGHT, csv_rows: int = CSV_ROWS
    ) -> None:
        """Cases as creditors send them, `workers` requests in flight: one by one as JSON, and
        every fifth time a CSV file of `csv_rows` cases."""
        batches: list[list[int]] = []
        number = 0
        while number < count:
            size = csv_rows if len(batches) % 5 == 4 else 1
            batches.append(list(range(number, min(count, number + size))))
            number += size
        queue: asyncio.Queue[list[int]] = asyncio.Queue()
        for batch in batches:
            queue.put_nowait(batch)

        async def worker() -> None:
            while not queue.empty():
                batch = queue.get_nowait()
                await (self.submit_csv(batch) if len(batch) > 1 else self.submit_json(batch[0]))

        await asyncio.gather(*(worker() for _ in range(workers)))

    async def upload_invoices(self) -> None:
        """Each creditor attaches the invoice (a PDF of its own) to each of its accepted cases,
        retried under its Idempotency-Key while the gateway, the vault or its storage is down."""
        creditors = {c.id: c.headers for c in self.creditors}

        async def upload(case: Intent) -> None:
            pdf = b"%PDF-1.4\n%% invoice " + case.subject.encode() + b"\n%%EOF\n"
            answer = await self.call(
                "POST",
                f"/v1/cases/{case.case_id}/documents",
                files={"file": (f"{case.subject}.pdf", pdf, "application/pdf")},
                data={"kind": "invoice"},
                headers=creditors[case.actor],
            )
            uploaded = Intent("invoice-upload", case.subject, case.actor, case_id=case.case_id)
            self.record(uploaded, answer)

        await side_by_side(upload(case) for case in self.accepted_cases())

    def accepted_cases(self) -> list[Intent]:
        return [i for i in self.intents if i.kind.startswith("case-") and i.outcome == ACCEPTED]

    # ---- live bids and acceptances ---------------------------------------------------------
    async def bid_live(self, stop: asyncio.Event, quiet_for: float = 60) -> None:
        """The live provider bids once on every auction it is shown, until told to stop. It
        watches them as a bidding robot does, on the server-sent stream, and connects again when
        the stream ends, fails or says nothing for `quiet_for` seconds (a fault may leave it
        hanging): the auctions open then come first, so none is missed."""
        assert self.live_provider is not None
        live, done, bids = self.live_provider, set[str](), set[asyncio.Task[None]]()
        in_flight = asyncio.Semaphore(IN_FLIGHT)  # a robot's bids wait their turn, not pile up

        async def bid(case_id: str) -> None:
            async with in_flight:
                answer = await self.call(
                    "POST", f"/v1/provider/auctions/{case_id}/bid",
                    json={"fee_percent": LIVE_FEE}, headers=live.headers,
                )  # fmt: skip
            self.record(Intent("bid", case_id, live.id, case_id=case_id), answer)

        async def watch() -> None:
            sent = dict(live.headers)
            timeout = httpx.Timeout(30, read=quiet_for)
            async with self.client.stream(
                "GET", "/v1/provider/auctions/stream", headers=sent, timeout=timeout
            ) as answer:
                if answer.status_code == 401:
                    await self.log_in_again(live.headers, sent)
                if answer.status_code != 200:
                    return
                async for line in answer.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    auction = json.loads(line.removeprefix("data:"))
                    if auction["case_id"] in done or auction["my_fee_percent"] is not None:
                        continue
                    done.add(auction["case_id"])
                    task = asyncio.create_task(bid(auction["case_id"]))
                    bids.add(task)
                    task.add_done_callback(bids.discard)

        async def keep_watching() -> None:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    await watch()
                await asyncio.sleep(0.5)

        watcher = asyncio.create_task(keep_watching())
        try:
            await stop.wait()
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await asyncio.gather(*bids)

    async def accept_quotes(
        self, quoted: Quoted, within: float, cases: set[str] | None = None, round_: int = 1
    ) -> None:
        """Each creditor reads the quote of each of its cases (all, or `cases`) once it is quoted
        and accepts it, many creditors at once; which cases are quoted is one query of matching's
        database. `round_` is the round those quotes belong to (2: after a rotation)."""
        headers = {c.id: c.headers for c in self.creditors}
        waiting = {
            i.case_id: i.actor for i in self.accepted_cases() if cases is None or i.case_id in cases
        }

        async def accept(case_id: str, creditor: str) -> None:
            try:
                quote = await self.read(f"/v1/cases/{case_id}/quote", headers[creditor])
            except httpx.TransportError:
                return
            if quote.status_code != 200 or quote.json()["status"] != "quoted":
                return
            answer = await self.call(
                "POST", f"/v1/cases/{case_id}/quote/acceptance", headers=headers[creditor]
            )
            accepted = self.record(
                Intent("accept-quote", case_id, creditor, case_id=case_id, round=round_), answer
            )
            if answer.status_code == 200 and answer.json()["status"] == "offered":
                accepted.other = (answer.json().get("provider") or {}).get("id", "")
            del waiting[case_id]

        deadline = time.monotonic() + within
        while waiting and time.monotonic() < deadline:
            try:
                ready = await quoted()
            except DATABASE_DOWN:  # faults still play
                ready = set()
            await side_by_side(accept(c, waiting[c]) for c in list(waiting) if c in ready)
            if waiting:
                await asyncio.sleep(0.5)

    # ---- assignments and payments ----------------------------------------------------------
    def provider_headers(self) -> dict[str, dict[str, str]]:
        assert self.live_provider is not None
        return {p.id: p.headers for p in (*self.auto_providers, self.live_provider)}

    async def accept_assignments(self, round_: int = 1) -> None:
        """The provider each accepted quote of `round_` offered its case to takes it: its window
        starts."""
        headers = self.provider_headers()

        async def take(offer: Intent) -> None:
            answer = await self.call(
                "POST",
                f"/v1/provider/assignments/{offer.case_id}/acceptance",
                headers=headers[offer.other],
            )
            taken = Intent(
                "accept-assignment", offer.case_id, offer.other, case_id=offer.case_id, round=round_
            )
            self.record(taken, answer)

        offers = [
            i for i in self.intents if i.kind == "accept-quote" and i.other and i.round == round_
        ]
        await side_by_side(take(offer) for offer in offers)

    async def payment_instructions(
        self, case_id: str, creditor: dict[str, str], within: float
    ) -> dict[str, Any]:
        """Where the case's debtor pays, as its creditor reads it (404 until settlement heard
        of the case)."""
        deadline = time.monotonic() + within
        while True:
            try:
                answer = await self.read(f"/v1/cases/{case_id}/payment-instructions", creditor)
                if answer.status_code == 200:
                    found: dict[str, Any] = answer.json()
                    return found
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"no payment instructions for {case_id} within {within} s")
            await asyncio.sleep(0.5)

    async def pay(
        self, import_statement: ImportStatement, *, per_statement: int = 20, within: float = 240
    ) -> None:
        """The debtors of two assigned cases in three pay by transfer, quoting the case's RF
        reference (their creditors read it side by side): every fourth payer all it owes and
        more (the case is paid in full, the rest held as overpaid), the others a third of the
        principal. The bank's statements (`per_statement` lines each, camt.053) are imported by
        operators a few at a time, every other one twice (a retry)."""
        cases = {i.case_id: i for i in self.accepted_cases()}
        creditors = {c.id: c.headers for c in self.creditors}
        assigned = [
            i.case_id
            for i in self.intents
            if i.kind == "accept-assignment" and i.outcome == ACCEPTED
        ]
        paying = [case_id for n, case_id in enumerate(assigned) if n % 3 != 2]
        today = datetime.now(PARIS).date()
        references: dict[str, str] = {}

        async def read_reference(case_id: str) -> None:
            creditor = creditors[cases[case_id].actor]
            found = await self.payment_instructions(case_id, creditor, within)
            references[case_id] = found["reference"]

        await side_by_side(read_reference(case_id) for case_id in paying)
        lines: list[tuple[Intent, Entry]] = []
        for n, case_id in enumerate(paying):
            case = cases[case_id]
            # In full: the principal, the EUR 40 indemnity and a quarter more (the interest of a
            # few months at most); partly: a third of the principal.
            amount = case.cents + 4_000 + case.cents // 4 if n % 4 == 0 else case.cents // 3
            bank_ref = f"{self.run}-P{n:05d}"
            payment = Intent("payment", bank_ref, case.actor, case_id=case_id, cents=amount)
            entry = Entry(
                amount, reference=references[case_id], servicer_ref=bank_ref, booked_on=today,
                debtor_name=f"Debtor of {case.subject}",
            )  # fmt: skip
            lines.append((payment, entry))

        async def import_one(number: int, chunk: list[tuple[Intent, Entry]]) -> None:
            statement_id = f"{self.run}-S{number:04d}"
            content = camt053([entry for _, entry in chunk], statement_id=statement_id)
            for _ in range(1 + number % 2):
                outcome, retried = await import_statement(content)
                self.retries += retried
                self.intents.append(Intent("statement-import", statement_id, "operator", outcome))
            for payment, _ in chunk:
                payment.outcome = outcome
                self.intents.append(payment)

        starts = range(0, len(lines), per_statement)
        chunks = [lines[start : start + per_statement] for start in starts]
        await side_by_side((import_one(n, chunk) for n, chunk in enumerate(chunks)), limit=4)

    def payments(self) -> list[Intent]:
        return [i for i in self.intents if i.kind == "payment" and i.outcome == ACCEPTED]

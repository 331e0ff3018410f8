"""A creditor's CSV import: the file is sent to intake in the background (the same ImportCases
call and idempotency as POST /v1/cases/imports) while the page polls its progress (htmx every
second; with JavaScript off the page reloads itself), then shows the report of each refused row.

Imports in progress live in this gateway process for an hour; the report itself is intake's and
a repeat of the same file with the same form key returns it again."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.domain.errors import InvalidField
from gateway.entrypoints.api.deps import Intake, Services
from gateway.entrypoints.web.page_deps import PageCaller, form_page, page_request, pages_of
from gateway.schemas.cases import ImportReport
from gateway.service_layer import profiles
from recouvra_shared.errors import NotFound, Refusal, Violation

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])

MIB = 1024 * 1024
MAX_CSV_BYTES = 50 * MIB
CHUNK_BYTES = MIB
KEEP_SECONDS = 3600
MAX_RUNS = 1000  # imports remembered at once in this process, oldest forgotten first


@dataclass
class ImportRun:
    """One import as its page shows it: bytes sent to intake, then intake's report."""

    import_id: str
    creditor_id: str
    filename: str
    total_bytes: int
    rows: int
    started: float = field(default_factory=time.monotonic)
    sent_bytes: int = 0
    report: ImportReport | None = None  # the totals and the refused rows
    refusal: str = ""
    violations: list[Violation] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    @property
    def done(self) -> bool:
        """Intake answered, or refused the file as a whole."""
        return self.report is not None or bool(self.refusal)

    @property
    def stage(self) -> str:
        """sending, checking (intake reads and stores the rows) or done."""
        if self.done:
            return "done"
        return "sending" if self.sent_bytes < self.total_bytes else "checking"

    @property
    def percent(self) -> int:
        """How far along: sending is the first half, intake's answer the second."""
        if self.done:
            return 100
        return min(50, self.sent_bytes * 50 // max(1, self.total_bytes))


class ImportRuns:
    """The imports this process is running or ran in the last hour, by id."""

    def __init__(self) -> None:
        self._runs: dict[str, ImportRun] = {}

    def add(self, run: ImportRun) -> None:
        """Remember a new import, forgetting those older than an hour (or the oldest)."""
        now = time.monotonic()
        for import_id, old in list(self._runs.items()):
            if old.done and (now - old.started > KEEP_SECONDS or len(self._runs) >= MAX_RUNS):
                del self._runs[import_id]
        self._runs[run.import_id] = run

    def of(self, creditor_id: str, import_id: str) -> ImportRun:
        """The creditor's import; another creditor's is not found, like one that never was."""
        run = self._runs.get(import_id)
        if run is None or run.creditor_id != creditor_id:
            raise NotFound("import: no such import")
        return run


def runs_of(request: Request) -> ImportRuns:
    """The app's imports, made on first use."""
    runs = getattr(request.app.state, "import_runs", None)
    if runs is None:
        runs = request.app.state.import_runs = ImportRuns()
    assert isinstance(runs, ImportRuns)
    return runs


def data_rows(content: bytes) -> int:
    """Lines after the header that are not blank: what the progress counts (a quoted value
    spanning lines makes it an estimate; intake's report gives the exact count)."""
    lines = content.splitlines()
    return sum(1 for line in lines[1:] if line.strip())


async def _run(run: ImportRun, intake: Intake, caller: PageCaller, key: str, data: bytes) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), CHUNK_BYTES):
            chunk = data[start : start + CHUNK_BYTES]
            run.sent_bytes += len(chunk)
            yield chunk

    try:
        imported = await intake.import_cases(caller.caller, caller.creditor_id, key, chunks())
        run.report = imported.value.refused_only()  # kept for an hour: not the accepted rows
    except Refusal as refusal:
        run.violations = list(refusal.violations)
        run.refusal = refusal.message or "refused"
    except Exception:  # a task of its own: what went wrong is logged, the page says to retry
        logger.exception("import %s for creditor %s failed", run.import_id, run.creditor_id)
        run.refusal = "intake could not be reached; send the file again in a minute"


def _form_context() -> dict[str, object]:
    return {"idempotency_key": str(uuid.uuid4())}


@router.get("/cases/import")
async def import_form(request: Request, caller: PageCaller) -> HTMLResponse:
    """The form to import a CSV file of cases."""
    return pages_of(request).render(request, "case_import.html", _form_context())


@router.post("/cases/import", dependencies=[form_page("case_import.html")])
async def start_import(
    request: Request,
    caller: PageCaller,
    services: Services,
    intake: Intake,
    file: Annotated[UploadFile, File()],
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Checks the file, starts sending it to intake and shows its progress page."""
    key = idempotency_key or str(uuid.uuid4())
    request.state.form_context = {"idempotency_key": key}
    async with services.unit_of_work() as uow:
        await profiles.require_siren(caller.creditor_id, uow)
    data = await file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise InvalidField("file", "must be at most 50 MiB")
    if not data.strip():
        raise InvalidField("file", "must not be empty")
    run = ImportRun(
        import_id=str(uuid.uuid4()),
        creditor_id=caller.creditor_id,
        filename=(file.filename or "")[:255],
        total_bytes=len(data),
        rows=data_rows(data),
    )
    run.task = asyncio.create_task(_run(run, intake, caller, key, data))
    runs_of(request).add(run)
    return RedirectResponse(f"/cases/import/{run.import_id}", status_code=303)


def _refused_rows(run: ImportRun) -> list[object]:
    return list(run.report.report) if run.report else []


@router.get("/cases/import/{import_id}")
async def import_page(request: Request, import_id: str, caller: PageCaller) -> HTMLResponse:
    """The import's progress, then its report: every refused row with each broken rule."""
    run = runs_of(request).of(caller.creditor_id, import_id)
    return pages_of(request).render(
        request, "import_status.html", {"run": run, "refused": _refused_rows(run)}
    )


@router.get("/cases/import/{import_id}/progress")
async def import_progress(request: Request, import_id: str, caller: PageCaller) -> HTMLResponse:
    """The progress part of the page, which htmx swaps in every second until it is done."""
    run = runs_of(request).of(caller.creditor_id, import_id)
    return pages_of(request).render(
        request, "import_progress.html", {"run": run, "refused": _refused_rows(run)}
    )

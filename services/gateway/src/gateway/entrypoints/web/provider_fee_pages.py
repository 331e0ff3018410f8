"""A provider's record and fees: its measured record per segment, as creditors see it in its
quotes (matching's GetOwnRecord, as GET /v1/provider/record), and its monthly statements from
settlement (fees earned, the platform's commission, payouts; opening and closing balance), to
download as CSV or PDF, over the same client and call as GET /v1/provider/statements/{month}.
Settlement checks again that a party reads only its own."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from gateway.entrypoints.api.deps import Bidding, Settlement
from gateway.entrypoints.web.page_deps import page_request, pages_of
from gateway.entrypoints.web.provider_pages import PageProvider
from gateway.schemas.quotes import ProviderRecord
from recouvra_shared.errors import Unavailable

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])

MONTHS_SHOWN = 12
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def recent_months(today: datetime, count: int = MONTHS_SHOWN) -> list[str]:
    """This month and the ones before it, newest first, as YYYY-MM."""
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


@router.get("/provider/fees")
async def fees(request: Request, provider: PageProvider, bidding: Bidding) -> HTMLResponse:
    """The provider's record per segment (or why it cannot be shown now), and the statements
    of the last twelve months, each as CSV or PDF."""
    records: list[ProviderRecord] | None
    try:
        records = await bidding.own_record(provider.caller)
    except Unavailable:
        records = None
    return pages_of(request).render(
        request,
        "provider_fees.html",
        {"months": recent_months(datetime.now(UTC)), "records": records},
    )


@router.get("/provider/fees/{month}")
async def statement(
    month: Annotated[str, Path(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")],
    provider: PageProvider,
    settlement: Settlement,
    file_format: Annotated[str, Query(alias="format", pattern="^(csv|pdf)$")] = "csv",
) -> Response:
    """One month's statement, as an attachment."""
    document = await settlement.statement(provider.caller, month, file_format)
    name = _UNSAFE_IN_FILE_NAME.sub("_", document.file_name) or f"statement-{month}"
    return Response(
        document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )

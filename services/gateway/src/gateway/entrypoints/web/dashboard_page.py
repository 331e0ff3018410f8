"""The creditor's dashboard: what is still owed, by how late it is, drawn as SVG on the server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from gateway.adapters.intake import CaseQuery
from gateway.entrypoints.api.deps import Intake
from gateway.entrypoints.web.page_deps import PageCaller, page_request, pages_of
from gateway.schemas.case_views import CaseView

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])

# Cases whose money is still being chased.
OUTSTANDING = ("submitted", "scored", "quoted", "offered", "assigned", "recalled", "rotated")
# Days past due: (label, first day, last day or None).
BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("91-180", 91, 180))
OLDEST = ("> 180", 181, None)
MAX_PAGES = 20
CHART_WIDTH = 600
BAR_HEIGHT = 28
LABEL_WIDTH = 90


@dataclass(frozen=True)
class Bar:
    """One age bucket: its amount and the bar's geometry, in SVG units."""

    label: str
    amount: Decimal
    cases: int
    y: int
    width: int


def age_buckets(cases: list[CaseView], today: date, currency: str = "EUR") -> list[Bar]:
    """Principal still claimed per bucket of days past due, for cases in `currency`."""
    sums = {label: Decimal("0.00") for label, _, _ in (*BUCKETS, OLDEST)}
    counts = dict.fromkeys(sums, 0)
    for case in cases:
        if case.status not in OUTSTANDING or case.amount is None:
            continue
        if case.amount.currency != currency or not case.due_date:
            continue
        late = max(0, (today - date.fromisoformat(case.due_date[:10])).days)
        label = next((name for name, first, last in BUCKETS if first <= late <= last), OLDEST[0])
        sums[label] += Decimal(case.amount.amount)
        counts[label] += 1
    largest = max(sums.values()) or Decimal(1)
    room = CHART_WIDTH - LABEL_WIDTH - 140
    return [
        Bar(
            label=label,
            amount=amount,
            cases=counts[label],
            y=index * (BAR_HEIGHT + 10),
            width=int(room * amount / largest),
        )
        for index, (label, amount) in enumerate(sums.items())
    ]


@router.get("/dashboard")
async def dashboard(request: Request, caller: PageCaller, intake: Intake) -> HTMLResponse:
    """Amounts outstanding by age, and how many cases are in each state."""
    cases: list[CaseView] = []
    token = ""
    for _ in range(MAX_PAGES):
        page = await intake.list_cases(
            caller.caller,
            caller.creditor_id,
            CaseQuery(statuses=list(OUTSTANDING), page_size=200, page_token=token),
        )
        cases.extend(page.items)
        token = page.next_page_token
        if not token:
            break
    bars = age_buckets(cases, datetime.now(UTC).date())
    total = sum((bar.amount for bar in bars), Decimal("0.00"))
    return pages_of(request).render(
        request,
        "dashboard.html",
        {
            "bars": bars,
            "total": total,
            "open_cases": sum(bar.cases for bar in bars),
            "chart_width": CHART_WIDTH,
            "chart_height": len(bars) * (BAR_HEIGHT + 10),
            "bar_height": BAR_HEIGHT,
            "label_width": LABEL_WIDTH,
        },
    )

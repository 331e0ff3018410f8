"""The creditor's dashboard, drawn as SVG on the server from its cases: what is still owed, by
how late it is; what was recovered, month by month; how often and how fast cases end paid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from gateway.adapters.intake import CaseQuery
from gateway.entrypoints.api.deps import ActingCaller, GatewayServices, Intake, Services
from gateway.entrypoints.web.page_deps import PageCaller, page_request, pages_of
from gateway.schemas.case_views import CaseView
from gateway.schemas.quotes import ProviderResultView
from recouvra_shared.errors import Unavailable

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


# Cases that ended: paid (through the platform or directly to the creditor), exhausted, closed.
FINISHED = ("paid", "paid_directly", "exhausted", "closed")
MONTHS_SHOWN = 12


def _month_before(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def recovered_by_month(cases: list[CaseView], today: date, currency: str = "EUR") -> list[Bar]:
    """Money paid on the creditor's cases per calendar month of payment, the last twelve months
    oldest first (every payment: by bank transfer to the client-money account, or declared as
    paid directly)."""
    months = [today.replace(day=1)]
    while len(months) < MONTHS_SHOWN:
        months.append(_month_before(months[-1]))
    months.reverse()
    sums = {m.strftime("%Y-%m"): Decimal("0.00") for m in months}
    counts = dict.fromkeys(sums, 0)
    for case in cases:
        for payment in case.payments:
            if payment.amount is None or payment.amount.currency != currency:
                continue
            month = payment.paid_on[:7]
            if month in sums:
                sums[month] += Decimal(payment.amount.amount)
                counts[month] += 1
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


@dataclass(frozen=True)
class Outcomes:
    """How the creditor's finished cases ended."""

    finished: int
    recovered: int
    median_days: int | None  # submission to the payment that settled the case in full

    @property
    def rate_percent(self) -> int | None:
        return None if not self.finished else round(100 * self.recovered / self.finished)


def outcomes(cases: list[CaseView]) -> Outcomes:
    """Finished cases, those recovered in full, and the median days from submission to the
    payment that settled them."""
    finished = [c for c in cases if c.status in FINISHED]
    days: list[int] = []
    for case in finished:
        settled = [p.paid_on for p in case.payments if p.settles_in_full and p.paid_on]
        if settled and case.submitted_at:
            submitted = date.fromisoformat(case.submitted_at[:10])
            days.append(max(0, (date.fromisoformat(min(settled)[:10]) - submitted).days))
    days.sort()
    median = None if not days else days[len(days) // 2]
    return Outcomes(finished=len(finished), recovered=len(days), median_days=median)


async def results_per_provider(
    services: GatewayServices, caller: ActingCaller
) -> list[ProviderResultView] | None:
    """Matching's figures per provider on the creditor's cases, or None when it cannot say now."""
    if services.quotes is None:
        return None
    try:
        return await services.quotes.provider_results(caller.as_creditor)
    except Unavailable:
        return None


@router.get("/dashboard")
async def dashboard(
    request: Request, caller: PageCaller, intake: Intake, services: Services
) -> HTMLResponse:
    """Amounts outstanding by age, recovered per month, and how cases ended."""
    cases: list[CaseView] = []
    token = ""
    for _ in range(MAX_PAGES):
        page = await intake.list_cases(
            caller.caller,
            caller.creditor_id,
            CaseQuery(statuses=[], page_size=200, page_token=token),
        )
        cases.extend(page.items)
        token = page.next_page_token
        if not token:
            break
    today = datetime.now(UTC).date()
    bars = age_buckets(cases, today)
    monthly = recovered_by_month(cases, today)
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
            "monthly": monthly,
            "monthly_height": len(monthly) * (BAR_HEIGHT + 10),
            "recovered_total": sum((bar.amount for bar in monthly), Decimal("0.00")),
            "outcomes": outcomes(cases),
            "providers": await results_per_provider(services, caller),
            "label_width": LABEL_WIDTH,
        },
    )

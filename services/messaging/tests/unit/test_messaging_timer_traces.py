"""What an on-call engineer sees in Jaeger of the work messaging's timers start (spans kept in
memory): a contact step coming due, its redispatch after a failure and an instalment plan's check
are each a trace of their own with the case id; the message goes to the Dispatcher inside it and
a broken plan's event carries it on to Kafka."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode, format_trace_id

from messaging.domain.instalments import Period, Proposal
from messaging.domain.outgoing import DispatchResult, MessageToSend
from messaging.service_layer import debtor_actions, due_steps
from recouvra_shared.context import trace_id_of, traceparent_var
from recouvra_shared.tracing import current_trace_id
from services.messaging.tests.unit.fakes import RecordingDispatcher
from services.messaging.tests.unit.plan_driver import Driver
from tests.support.spans import recorded_spans

MONDAY_11H = datetime(2027, 3, 8, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def outside_any_trace() -> Iterator[None]:
    """No trace adopted by an earlier test of the process: work here starts outside any."""
    token = traceparent_var.set(None)
    yield
    traceparent_var.reset(token)


class TracedDispatcher(RecordingDispatcher):
    """Notes the trace each message is handed over in."""

    def __init__(self, **kwargs: int) -> None:
        super().__init__(**kwargs)
        self.traces: list[str | None] = []

    async def dispatch(self, message: MessageToSend) -> DispatchResult:
        self.traces.append(current_trace_id())
        return await super().dispatch(message)


def trace_of(item: ReadableSpan) -> str:
    assert item.context is not None
    return format_trace_id(item.context.trace_id)


def case_of(item: ReadableSpan) -> object:
    """The case a span names (`case.id`, what Jaeger's search by tag finds)."""
    return (item.attributes or {}).get("case.id")


def named(spans: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.name == name]


def driver_with(dispatcher: TracedDispatcher) -> Driver:
    driver = Driver(MONDAY_11H)
    dispatcher.clock = driver.clock
    driver.dispatcher = dispatcher
    return driver


async def test_a_due_contact_step_is_a_trace_of_its_own_holding_the_dispatch() -> None:
    dispatcher = TracedDispatcher()
    driver = driver_with(dispatcher)
    await driver.submitted("case-1", "cred-1", "debtor-a")
    await driver.scored("case-1", "amicable-reminders")
    await driver.assigned("case-1", "cred-1", "prov-1")
    spans = recorded_spans()

    assert await driver.fire_due() == 1

    (step,) = named(spans, due_steps.STEP_DUE)
    assert step.parent is None
    assert case_of(step) == "case-1"
    assert dispatcher.traces == [trace_of(step)]


async def test_a_failed_dispatch_shows_as_an_error_and_its_redispatch_as_its_own_trace() -> None:
    dispatcher = TracedDispatcher(fail_first=1)
    driver = driver_with(dispatcher)
    await driver.assigned("case-1", "cred-1", "prov-1")
    spans = recorded_spans()
    with pytest.raises(ConnectionError):
        await driver.fire_due()
    (step,) = named(spans, due_steps.STEP_DUE)
    assert step.status.status_code is StatusCode.ERROR

    driver.clock.advance(due_steps.DISPATCH_LEASE)
    await driver.fire_due()

    (again,) = named(spans, due_steps.REDISPATCH)
    assert again.parent is None
    assert case_of(again) == "case-1"
    assert dispatcher.traces == [trace_of(step), trace_of(again)]


async def test_a_broken_instalment_plan_is_announced_in_the_trace_of_its_check() -> None:
    driver = driver_with(TracedDispatcher())
    await driver.submitted("case-1", "cred-1", "debtor-a")
    await driver.scored("case-1", "amicable-reminders")
    await driver.assigned("case-1", "cred-1", "prov-1")
    await driver.fire_due()
    async with driver.units() as uow:
        await debtor_actions.propose_plan(
            uow,
            case_id="case-1",
            creditor_id="cred-1",
            proposal=Proposal(90_000, "EUR", 3, date(2027, 3, 15), Period.MONTHLY),
            proposed_by="debtor",
            now=driver.clock.now(),
        )
    spans = recorded_spans()
    driver.clock.moment = datetime(2027, 3, 21, 12, 0, tzinfo=UTC)  # 15 March + the grace, unpaid

    assert await debtor_actions.check_next_plan(driver.units, driver.clock.now())

    (check,) = named(spans, debtor_actions.INSTALMENT_CHECK)
    assert check.parent is None
    assert case_of(check) == "case-1"
    outbox = driver.fakes.platform.outbox
    (broken,) = [e for e in outbox if e.topic == "messaging.plan-broken.v1"]
    assert trace_id_of(broken.envelope.traceparent) == trace_of(check)

"""One chaos run: the stack's services started as processes behind toxiproxy, users played
through REST while seeded faults hit them, then the verdict once quiet.

    python -m tests.chaos.run --seed 7 --cases 300 --faults 60   (make chaos: the long run)

The report (the table, the faults in order, the seed, the time) is written under var/chaos/."""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import functools
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.chaos.driver import DATABASE_DOWN, Driver
from tests.chaos.faults import KAFKA_CRASH, KAFKA_LINK, KINDS, S3_CRASH, Injector, plan
from tests.chaos.lag import consumer_lag
from tests.chaos.own_kafka import OwnKafka
from tests.chaos.own_postgres import OwnPostgres
from tests.chaos.own_seaweed import OwnSeaweed
from tests.chaos.payouts import judge_payouts, pay_out, wait_fees_booked
from tests.chaos.proxy import Toxiproxy
from tests.chaos.rotations import judge_rotations, rotate
from tests.chaos.verdict import Verdict, judge, rows
from tests.chaos.world import PARIS, SERVICES, World
from tests.support.marketplace import PASSWORD
from tests.support.processes import wait_http
from tests.support.stack import ROOT, Stack, find_stack

BIDDING_CLOSES = timedelta(minutes=16)
LETTER_LEASE = timedelta(minutes=6)  # messaging's pending dispatch lease is 5 minutes


class Phases:
    """How long each phase of a run took, in order: `async with phases("submit"): ...`."""

    def __init__(self) -> None:
        self.took: dict[str, float] = {}

    @contextlib.asynccontextmanager
    async def __call__(self, name: str) -> AsyncIterator[None]:
        started = time.monotonic()
        print(f"[chaos] {name}...", file=sys.stderr, flush=True)  # a long run says where it is
        try:
            yield
        finally:
            took = time.monotonic() - started
            self.took[name] = self.took.get(name, 0.0) + took
            print(f"[chaos] {name}: {took:.1f} s", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Size:
    cases: int
    faults: int
    every: float  # seconds between faults

    def window(self, per_case: float, at_least: float) -> float:
        """How long a phase may wait for the system, in seconds: it grows with the run's cases
        (10,000 cases take ten times the 1,000's letters, quotes and auctions)."""
        return max(at_least, per_case * self.cases)


async def quiet(world: World, within: float) -> None:
    """Until every outbox is empty, every consumer group has committed up to its topics' ends,
    and no table count moves for three polls in a row."""
    deadline, last, still = time.monotonic() + within, None, 0
    while time.monotonic() < deadline and still < 3:
        now = []
        for name in SERVICES:
            unsent = await rows(
                world.direct_url(name), "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
            )
            handled = await rows(world.direct_url(name), "SELECT count(*) FROM inbox")
            now += [unsent[0][0], handled[0][0]]
        behind = sum((await consumer_lag(world.stack, world.prefix)).values())
        still = still + 1 if now == last and not any(now[0::2]) and not behind else 0
        last = now
        await asyncio.sleep(1.0)


async def wait_auctions(world: World, driver: Driver, within: float) -> None:
    """Until matching opened (or closed) an auction for every accepted case and the live
    provider bid on each one still open."""
    wanted = {i.case_id for i in driver.accepted_cases()}
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = {
            r["case_id"]: r["status"]
            for r in await rows(
                world.direct_url("matching"), "SELECT case_id, status FROM case_matchings"
            )
        }
        bid = {i.case_id for i in driver.intents if i.kind == "bid"}
        if all(c in found and (found[c] != "bidding" or c in bid) for c in wanted):
            return
        await asyncio.sleep(0.5)


async def quoted_cases(world: World) -> set[str]:
    """The cases whose quote waits for its creditor's answer, in one query."""
    return {
        r["case_id"]
        for r in await rows(
            world.direct_url("matching"),
            "SELECT case_id FROM case_matchings WHERE status = 'quoted'",
        )
    }


# The cases whose plan of a round ($1) sent its first letter, or postponed it by the limits.
FIRST_LETTERS_DONE = (
    "SELECT m.case_id FROM outgoing_messages m JOIN contact_plans p USING (plan_id) "
    "WHERE m.step = 1 AND m.status = 'sent' AND p.round = $1 "
    "UNION SELECT o.case_id FROM plan_postponements o JOIN contact_plans p USING (plan_id) "
    "WHERE o.step = 1 AND p.round = $1"
)


async def say_what_letters_wait_for(
    world: World, waiting: set[str], taken: int, round_: int = 1
) -> None:
    """One line on stderr: how many first letters are still awaited, and where they stand in
    messaging (its plans' status and next due time, its step-1 messages' status)."""
    try:
        plans = await rows(
            world.direct_url("messaging"),
            "SELECT p.case_id, p.status, p.due_at, m.status AS message "
            "FROM contact_plans p "
            "LEFT JOIN outgoing_messages m ON m.plan_id = p.plan_id AND m.step = 1 "
            "WHERE p.round = $1",
            round_,
        )
    except DATABASE_DOWN as e:
        print(f"[chaos] letters: {len(waiting)} of {taken} awaited ({e!r})", file=sys.stderr)
        return
    where = collections.Counter(
        f"plan {r['status']}, message {r['message'] or 'none'}"
        for r in plans
        if r["case_id"] in waiting
    )
    without = len(waiting - {r["case_id"] for r in plans})
    due = [r["due_at"] for r in plans if r["case_id"] in waiting and r["due_at"] is not None]
    print(
        f"[chaos] letters: {len(waiting)} of {taken} awaited; no plan yet {without}; "
        + "; ".join(f"{k}: {n}" for k, n in sorted(where.items()))
        + (f"; next due {min(due):%H:%M:%S}" if due else ""),
        file=sys.stderr,
        flush=True,
    )


async def wait_first_letters(
    world: World,
    driver: Driver,
    within: float,
    stalled_after: float | None = None,
    jumps: int = 3,
    round_: int = 1,
) -> None:
    """Until messaging sent (or postponed, by the contact limits) the first letter of each case
    taken in `round_` (its holder's plan of that round): its debtor pays once it has it. With
    `stalled_after`, when no letter went for that long, a letter whose dispatch a fault
    interrupted waits for its lease: messaging's clock is moved past it (as a clock jump would),
    instead of waiting the lease out in real time; at most `jumps` times, so a letter that never
    goes cannot push the clock past the contact hours."""
    taken = {
        i.case_id for i in driver.intents if i.kind == "accept-assignment" and i.round == round_
    }
    deadline = time.monotonic() + within
    progress, seen = time.monotonic(), -1
    said = time.monotonic()
    while time.monotonic() < deadline:
        try:
            done = {
                r["case_id"]
                for r in await rows(world.direct_url("messaging"), FIRST_LETTERS_DONE, round_)
            }
        except DATABASE_DOWN:  # faults still play: the server may be down
            done = set()
        if taken <= done:
            return
        if time.monotonic() - said > 10:
            said = time.monotonic()
            await say_what_letters_wait_for(world, taken - done, len(taken), round_)
        if len(done) != seen:
            progress, seen = time.monotonic(), len(done)
        elif stalled_after is not None and time.monotonic() - progress > stalled_after and jumps:
            assert world.messaging_clock is not None
            world.messaging_clock.advance(LETTER_LEASE)
            progress, jumps = time.monotonic(), jumps - 1
        await asyncio.sleep(0.5)


def keep_logs(workdir: Path, kept: Path) -> Path:
    """Copy what a failed run leaves to read (every server's and service's log, the faults as
    played) out of its working directory, which goes; Kafka's segment files stay behind."""
    for path in workdir.rglob("*"):
        if path.is_file() and (
            (path.suffix == ".log" and not path.stem.isdigit()) or path.name == "faults-played.txt"
        ):
            target = kept / path.relative_to(workdir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return kept


async def chaos_run(
    stack: Stack,
    workdir: Path,
    seed: int,
    size: Size,
    env: dict[str, dict[str, str]] | None = None,
    *,
    own_kafka: bool = False,
    own_s3: bool = False,
) -> tuple[Verdict, list[str]]:
    """Play one run; returns the verdict and the faults as played. Its PostgreSQL is always
    the harness's own; its Kafka broker too when `own_kafka` (then the broker crashes as well),
    its SeaweedFS when `own_s3` (then SeaweedFS crashes as well). The run's broker is reached
    through toxiproxy (its link slowed, reset and cut as well)."""
    postgres = OwnPostgres(workdir / "postgres")
    seaweed = OwnSeaweed(workdir / "seaweedfs") if own_s3 else None
    proxy = Toxiproxy(workdir / "toxiproxy.log").start()
    kafka = OwnKafka(workdir / "kafka", proxy=proxy) if own_kafka else None  # through the proxy
    driver: Driver | None = None
    world: World | None = None
    try:
        servers = [o for o in (postgres, kafka, seaweed) if o is not None]
        await asyncio.gather(*(asyncio.to_thread(o.start) for o in servers))  # side by side
        if kafka is not None:
            stack = kafka.stack(stack)
        if seaweed is not None:
            stack = seaweed.stack(stack)
        world = World(
            postgres.stack(stack), workdir, proxy, postgres=postgres, kafka=kafka, seaweed=seaweed
        )
        phases = Phases()
        async with phases("start"):
            await world.build(env)
            await world.start()
            await asyncio.to_thread(wait_http, world.gateway_url, world.processes["gateway"])
        driver = Driver(
            world.gateway_url, random.Random(seed), run=f"CH{seed}-{world.prefix[6:12]}"
        )
        email = f"operator-{world.prefix[6:16]}@recouvra.test"
        async with phases("set up"):
            await asyncio.to_thread(
                world.processes["gateway"].run_command,
                "operators", "create", email, RECOUVRA_OPERATOR_PASSWORD=PASSWORD,
            )  # fmt: skip
            await driver.set_up(await driver.log_in(email))
        world.list_parties(list(driver.provider_headers()), [c.id for c in driver.creditors])

        injector = Injector(world, journal=workdir / "faults-played.txt")
        stop_bids = asyncio.Event()
        bidder = asyncio.create_task(driver.bid_live(stop_bids))
        stop_watch = asyncio.Event()
        watchdog = asyncio.create_task(injector.restart_the_dead(stop_watch))
        kinds = (
            *KINDS,
            *((KAFKA_CRASH, *KAFKA_LINK) if kafka is not None else ()),
            *((S3_CRASH,) if seaweed is not None else ()),
        )
        # Half the faults (every kind at least once) while cases come in, the rest while quotes
        # are accepted, cases taken and paid, the last third of the rest while money goes out.
        planned = plan(seed, size.faults, kinds)
        split = min(len(planned), max(len(kinds), (len(planned) + 1) // 2))
        last = len(planned) - (len(planned) - split) // 3
        faults = asyncio.create_task(injector.play(planned[:split], size.every, asyncio.Event()))
        async with phases("submit"):
            await driver.submit_cases(size.cases)
        async with phases("invoices uploaded"):
            await driver.upload_invoices()
        async with phases("faults (first half)"):
            await faults
        async with phases("auctions"):
            await wait_auctions(world, driver, within=size.window(0.3, 600))
            stop_bids.set()
            await bidder
        assert world.clock is not None
        world.clock.advance(BIDDING_CLOSES)
        faults = asyncio.create_task(
            injector.play(planned[split:last], size.every, asyncio.Event())
        )
        async with phases("quotes accepted"):
            await driver.accept_quotes(
                functools.partial(quoted_cases, world), within=size.window(0.5, 600)
            )
        async with phases("assignments"):
            await driver.accept_assignments()
        async with phases("letters"):
            await wait_first_letters(world, driver, within=size.window(0.6, 600), stalled_after=15)
        async with phases("payments"):
            await driver.pay(world.import_statement)
        async with phases("faults (second half)"):
            await faults
        async with phases("fees booked"):
            await wait_fees_booked(world, len(driver.payments()), within=size.window(0.1, 240))
        parties = [("creditor", c.id) for c in driver.creditors] + [
            ("provider", p) for p in driver.provider_headers()
        ]
        # The last faults while the money goes out and the unpaid cases rotate.
        faults = asyncio.create_task(injector.play(planned[last:], size.every, asyncio.Event()))
        async with phases("payouts"):
            payouts = await pay_out(world, parties, datetime.now(PARIS).date())
        async with phases("rotations"):
            rotating = await rotate(
                world,
                driver,
                quoted=functools.partial(quoted_cases, world),
                bidding_closes=BIDDING_CLOSES,
                within=size.window(0.5, 600),
            )
        async with phases("letters (round 2)"):
            await wait_first_letters(
                world, driver, within=size.window(0.6, 600), stalled_after=15, round_=2
            )
        async with phases("faults (last third)"):
            await faults
        # A letter whose dispatch a fault interrupted stays pending for messaging's 5-minute
        # lease, then goes again under the same id: its clock is moved past the lease.
        assert world.messaging_clock is not None
        world.messaging_clock.advance(LETTER_LEASE)
        async with phases("letters (after lease)"):
            await wait_first_letters(world, driver, within=size.window(0.1, 120))
        async with phases("quiet"):
            await quiet(world, within=size.window(0.1, 240))
            stop_watch.set()
            await watchdog
        async with phases("verdict"):
            verdict = await judge(world, driver.intents + payouts.intents, injector.done)
            await judge_payouts(world, payouts, parties, verdict)
            await judge_rotations(world, driver.intents, verdict, verdict.facts)
        verdict.intents["(cases due to rotate)"] = len(rotating)
        verdict.intents["(retried requests)"] = driver.retries + payouts.retries
        verdict.phases = phases.took
        return verdict, injector.log
    finally:
        if driver is not None:
            await driver.close()
        try:
            if world is not None:
                await world.tear_down()
        finally:
            proxy.stop()
            postgres.stop()
            if kafka is not None:
                kafka.stop()
            if seaweed is not None:
                seaweed.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--faults", type=int, default=60)
    parser.add_argument("--every", type=float, default=2.0)
    parser.add_argument(
        "--own-kafka",
        action="store_true",
        help="a broker of the run's own behind the proxy, crashed and its link cut as faults",
    )
    parser.add_argument(
        "--own-s3", action="store_true", help="a SeaweedFS of the run's own, crashed as a fault"
    )
    args = parser.parse_args(argv)
    started = datetime.now(UTC)

    async def stopped_by_sigterm_too(workdir: Path) -> tuple[Verdict, list[str]]:
        """The run, cancelled by SIGTERM as by Ctrl-C: its servers and services are stopped
        (SIGTERM's default would leave the run's PostgreSQL, broker and SeaweedFS running)."""
        run = asyncio.current_task()
        assert run is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, run.cancel)
        return await chaos_run(
            find_stack(),
            workdir,
            args.seed,
            Size(args.cases, args.faults, args.every),
            own_kafka=args.own_kafka,
            own_s3=args.own_s3,
        )

    out = ROOT / "var" / "chaos"
    workdir = Path(tempfile.mkdtemp(prefix="chaos-"))
    verdict: Verdict | None = None
    try:
        verdict, played = asyncio.run(stopped_by_sigterm_too(workdir))
    finally:
        if verdict is None or not verdict.clean:
            kept = keep_logs(workdir, out / f"logs-{started:%Y%m%dT%H%M%S}-seed{args.seed}")
            print(f"the run's logs and the faults it played: {kept}", file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)
    took = datetime.now(UTC) - started
    report = (
        f"# Chaos run, seed {args.seed}, {args.cases} cases, {args.faults} faults\n"
        f"started {started.isoformat(timespec='seconds')}, took {took.total_seconds():.0f} s\n\n"
        f"{verdict.table()}\n\nfaults in order: {', '.join(played)}\n"
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"report-{started:%Y%m%dT%H%M%S}-seed{args.seed}.md"
    path.write_text(report)
    print(report)
    print(f"report: {path}")
    return 0 if verdict.clean else 1


if __name__ == "__main__":
    sys.exit(main())

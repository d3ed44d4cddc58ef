"""Counter changes paced by the clock: the load of the network benchmarks and of the
end-to-end emergency test (a move within the town and a name change in turn, one identity
notice each, made through the register services against the municipality's database)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from jukinet.domain.operators import Actor
from jukinet.services import register
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import HouseholdRow, ResidentRow

#: (family, given, family kana, given kana): names a changed resident takes in turn.
NAMES = [
    ("髙橋", "健一", "タカハシ", "ケンイチ"),
    ("渡邊", "直樹", "ワタナベ", "ナオキ"),
    ("齋藤", "翔", "サイトウ", "ショウ"),
]
STREETS = ["泉町", "田無町", "向台町", "芝久保町", "谷戸町"]


@dataclass(frozen=True, slots=True)
class Change:
    """One counter change that was made: whom, what, when it committed and how late it ran."""

    slot: int
    resident_code: str
    #: The resident's version at the centre this change produces (seeded as version 1).
    centre_version: int
    kind: str
    committed_at: datetime
    lateness: float
    measured: bool


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC time (SQLite gives timezone-aware columns back naive)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def single_households(town: ServiceContext) -> list[tuple[str, str]]:
    """(household number, resident code) of every one-person household."""
    with town.session_factory() as session:
        alone = (
            select(ResidentRow.household_id)
            .group_by(ResidentRow.household_id)
            .having(func.count() == 1)
        )
        rows = session.execute(
            select(HouseholdRow.household_number, ResidentRow.resident_code)
            .join(ResidentRow, ResidentRow.household_id == HouseholdRow.id)
            .where(ResidentRow.household_id.in_(alone))
            .order_by(HouseholdRow.id)
        ).all()
    return [(str(r[0]), str(r[1])) for r in rows]


class Driver:
    """Makes the changes, ``threads`` at a time, each at its slot's time on the clock.

    ``stop`` (optional) ends the run early: each thread finishes the change it is making and
    makes no more.
    """

    def __init__(
        self,
        town: ServiceContext,
        actor: Actor,
        people: list[tuple[str, str]],
        *,
        rate: float,
        warmup: float,
        seconds: float,
        threads: int,
        first_slot: int = 0,
        versions: dict[str, int] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.town = town
        # A later run on the same people goes on from ``first_slot`` (a multiple of
        # ``threads``) with the versions the earlier run left, so every change still differs.
        self.first_slot = first_slot
        self.actor = actor
        # Slot s changes people[s % len(people)]; with len(people) a multiple of ``threads``
        # a resident is always changed by the same thread, so its versions stay in order.
        self.people = people[: len(people) - len(people) % threads]
        self.rate = rate
        self.warmup_slots = int(warmup * rate)
        self.slots = self.warmup_slots + int(seconds * rate)
        self.threads = threads
        self.stop = stop or threading.Event()
        self.changes: list[Change] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._versions: dict[str, int] = versions if versions is not None else {}

    def run(self) -> None:
        """Make every change; returns when all threads are done."""
        self.start = time.perf_counter() + 0.2
        workers = [
            threading.Thread(target=self._work, args=(k,), name=f"driver-{k}", daemon=True)
            for k in range(self.threads)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def _work(self, first: int) -> None:
        today = self.town.today()
        begin, end = self.first_slot + first, self.first_slot + self.slots
        for slot in range(begin, end, self.threads):
            due = self.start + (slot - self.first_slot) / self.rate
            delay = due - time.perf_counter()
            if delay > 0 and self.stop.wait(delay):
                return
            if self.stop.is_set():
                return
            lateness = max(0.0, time.perf_counter() - due)
            household_number, code = self.people[slot % len(self.people)]
            # How often this resident was changed before: each change differs from the last.
            turn = slot // len(self.people)
            try:
                if slot % 2 == 0:
                    kind = "move_within"
                    register.file_move_within(
                        self.town,
                        actor=self.actor,
                        household_number=household_number,
                        address=f"東京都西東京市{STREETS[turn % len(STREETS)]}一丁目"
                        f"{turn % 30 + 1}番{slot % 9 + 1}号",
                        moved_on=today,
                        filed_on=today,
                    )
                else:
                    kind = "name_change"
                    family, given, family_kana, given_kana = NAMES[turn % len(NAMES)]
                    register.file_name_change(
                        self.town,
                        actor=self.actor,
                        resident_code=code,
                        family_name=family,
                        given_name=given,
                        family_name_kana=family_kana,
                        given_name_kana=given_kana,
                        changed_on=today,
                        filed_on=today,
                    )
            except Exception as error:  # recorded and reported; the run goes on
                with self._lock:
                    self.errors.append(f"{type(error).__name__}: {error}"[:200])
                continue
            committed = datetime.now(UTC)
            with self._lock:
                version = self._versions.get(code, 1) + 1
                self._versions[code] = version
                self.changes.append(
                    Change(
                        slot=slot,
                        resident_code=code,
                        centre_version=version,
                        kind=kind,
                        committed_at=committed,
                        lateness=lateness,
                        measured=slot - self.first_slot >= self.warmup_slots,
                    )
                )

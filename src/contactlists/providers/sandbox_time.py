"""Time passing in the sandbox: what each month does to a company's people.

The sandbox's clock is the wall clock shifted by
`CONTACTLISTS_SANDBOX_TIME_SHIFT_DAYS`; its month is counted from `EPOCH`
(month 0, when the people are as generated). Every month, each person of an
ordinary company independently leaves it (`LEAVE_SHARE`) or takes another
title (`TITLE_CHANGE_SHARE`), and `JOIN_SHARE` of the company's original
headcount joins. All of it is drawn from seeds of the company and the person,
never from the clock itself, so month m is the same in every process and
month m + 1 continues it: a person who left stays gone, a new title stays until
the next change. Someone who left a company does not reappear at another.

Magic companies (`sandbox-exact-N` and the failures) never age: they are the
fixtures tests count on. This module knows nothing of how a population is
generated; `sandbox` hands it the population and a way to hire more people.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from contactlists.core.clock import utcnow
from contactlists.providers.sandbox_titles import draw_role

EPOCH = (2026, 11)  # year, month: month 0 of the sandbox's clock
LEAVE_SHARE = 0.03
TITLE_CHANGE_SHARE = 0.05
JOIN_SHARE = 0.04
MAX_MONTHS = 1200  # a hundred years: beyond it, time stands still


class Person(Protocol):
    @property
    def profile_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def headline(self) -> str: ...
    @property
    def department(self) -> str: ...


P = TypeVar("P", bound=Person)


def sandbox_month(shift_days: int, now: datetime | None = None) -> int:
    """The sandbox clock's month: 0 at `EPOCH` (and before it), then one a calendar month."""
    moment = (now or utcnow()) + timedelta(days=shift_days)
    elapsed = (moment.year - EPOCH[0]) * 12 + moment.month - EPOCH[1]
    return min(max(elapsed, 0), MAX_MONTHS)


def joiners(headcount: int, month: int) -> int:
    """How many people have joined a company of `headcount` by `month` (0 for an empty one)."""
    return round(headcount * JOIN_SHARE) * month if headcount else 0


def as_of(
    company_id: str, people: Sequence[P], month: int, hire: Callable[[int], Sequence[P]]
) -> tuple[P, ...]:
    """The company's people in `month`, in hiring order.

    `people` are those of month 0; `hire(n)` gives the first n people the
    company would have had at that size (so `people` first, then the new ones).
    """
    if month <= 0 or not people:
        return tuple(people)
    per_month = round(len(people) * JOIN_SHARE)
    everyone = hire(len(people) + joiners(len(people), month)) if per_month else people
    aged = []
    for index, person in enumerate(everyone):
        joined = 0 if index < len(people) else 1 + (index - len(people)) // per_month
        current, stayed = person, True
        rng = random.Random(_seed(company_id, person.profile_id))  # noqa: S311 - synthetic data
        for _ in range(joined, month):
            draw = rng.random()
            if draw < LEAVE_SHARE:
                stayed = False
                break
            if draw < LEAVE_SHARE + TITLE_CHANGE_SHARE:
                current = _retitled(current, *draw_role(rng))
        if stayed:
            aged.append(current)
    return tuple(aged)


def _retitled(person: P, title: str, department: str) -> P:
    """A new title, and with it its department (Sales Navigator's FUNCTION)."""
    headline = person.headline.replace(person.title, title, 1)
    return dataclasses.replace(  # type: ignore[type-var]
        person, title=title, headline=headline, department=department
    )


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(("time", *parts)).encode()).digest()[:8], "big")

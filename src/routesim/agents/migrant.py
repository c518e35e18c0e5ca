"""Migrant: a person (or, at `scale: K`, K people travelling together) on the way to Europe.

A migrant sleeps on the model's calendar and wakes only when it has something to decide: at a
location (which leg next, alone or with a smuggler, wait for a visa, work, borrow or turn back) or
when a spell of work, detention, captivity or exploitation ends. Choices weigh the perceived
generalised cost of each option (money, time, and the risk of death, interception and abuse, heard
from others' outcomes) plus the cheapest perceived cost onward to any destination.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from routesim.information import SELF, SMUGGLED
from routesim.outcomes import (
    ARRIVED,
    DEAD,
    DETAINED,
    EXPLOITED,
    KIDNAPPED,
    RETURNED,
    TRAVELLING,
    WAITING,
    WORKING,
)

if TYPE_CHECKING:
    from routesim.agents.armed_group import ArmedGroup
    from routesim.agents.smuggler import Smuggler
    from routesim.model import RouteModel

# Risk attitudes: people differ in how much risk frightens them (multipliers on the risk terms).
RISK_CLASSES = np.array([0.4, 1.0, 2.5])
RISK_CLASS_SHARES = np.array([0.3, 0.4, 0.3])

# Option kinds in a menu (besides travelling a leg with channel SELF or SMUGGLED).
LEGAL, HOME = -1, -2


class Migrant(mesa.Agent):
    """A person on the move; `cash` and `debt` are per person (EUR)."""

    model: RouteModel

    def __init__(
        self,
        model: RouteModel,
        origin: int,
        nationality: str,
        cash: float,
        female: bool,
        minor: bool,
        risk_class: int,
        skill: float,
    ) -> None:
        super().__init__(model)
        self.origin = self.node = origin
        self.nationality = nationality
        self.cash = cash
        self.female, self.minor = female, minor
        self.risk_class = risk_class
        self.skill = skill  # who can organise a crossing alone: skill >= the leg's smuggler_needed
        self.state: str = WAITING
        self.wake_day: int | None = model.day
        self.queue_ticket = 0  # the one queue place (seat or visa) still valid: see join_queue
        self.start_day = model.day
        self.failures = 0
        self.debt = 0.0
        self.fee = 0.0  # the fee of the current smuggled leg (per person)
        self._work_days = 0
        self.creditor: Smuggler | None = None
        self.captor: ArmedGroup | None = None
        self.travelled = self.smuggled = self.trafficked = False
        model.outcomes.move(None, WAITING)
        model.ledger.endow(cash * model.scale)

    # --- money -----------------------------------------------------------------------------------

    def debit(self, eur: float) -> None:
        self.cash -= eur / self.model.scale

    def credit(self, eur: float) -> None:
        self.cash += eur / self.model.scale

    def holdings(self) -> float:
        return self.cash * self.model.scale

    def pay_or_family(self, payee: object, per_person: float, kind: str) -> bool:
        """Pay `per_person` from own cash, the family sending the rest if it can; False if not."""
        model = self.model
        own = min(self.cash, per_person)
        short = per_person - own
        if short > 0 and model.rng.random() >= model.params.armed_groups.family_pays:
            return False
        if short > 0:
            model.ledger.pay(model.ledger.outside["families"], self, short * model.scale, "family")
        model.ledger.pay(self, payee, per_person * model.scale, kind)  # type: ignore[arg-type]
        return True

    # --- life cycle ------------------------------------------------------------------------------

    def set_state(self, state: str) -> None:
        self.model.outcomes.move(self.state, state)
        self.state = state

    def sleep(self, days: int, state: str) -> None:
        """Wake up in `days` (a later sleep or a booking cancels this wake-up)."""
        self.set_state(state)
        self.wake_day = self.model.day + max(1, days)
        self.model.calendar.add(self.wake_day, self)

    def join_queue(self) -> int:
        """A place in a queue (for a seat or a visa); a later place or a booking voids it."""
        self.queue_ticket += 1
        return self.queue_ticket

    def leave_queues(self) -> None:
        """Booked or served: every queue place and pending wake-up is void."""
        self.queue_ticket += 1
        self.wake_day = None

    def still_queued(self, ticket: int, node: int) -> bool:
        """Still waiting at `node` on the place `ticket` gave: not booked, served or gone."""
        return (
            ticket == self.queue_ticket
            and self.wake_day is not None
            and self.state == WAITING
            and self.node == node
        )

    def wake(self) -> None:
        """Called by the calendar on the day this migrant has something to decide."""
        state = self.state
        if state == WORKING:
            self._paid_for_work()
        elif state == KIDNAPPED and self.captor is not None:
            self.captor.release(self)
            return
        elif state == EXPLOITED:
            self._freed()
        if self.state in (ARRIVED, DEAD, RETURNED):
            return
        self.decide()

    def decide(self) -> None:
        """Choose among the options at this location (the day's menu) by a logit draw."""
        model = self.model
        params = model.params.migrants
        choices = [
            option
            for option in model.menu(self.node, self.risk_class)
            if option[1] != SELF or model.can_go_alone(option[0], self)
        ]
        wait = model.legal_wait_days(self)
        if wait is not None:
            ticket = model.legal_ticket_eur
            cost = ticket + params.value_of_time_eur_per_day * wait
            choices.append((LEGAL, LEGAL, cost, ticket))
        choices.append((HOME, HOME, params.give_up_cost_eur / (1 + self.failures), 0.0))
        leg, channel, _, price = _logit_pick(choices, params.choice_noise_eur, model.rng)

        if leg == HOME:
            self.go_home()
        elif leg == LEGAL:
            model.apply_for_visa(self)
        elif price <= self.cash + 1e-9:
            self._go(leg, channel)
        elif not (channel == SMUGGLED and self._borrow(leg)):
            self._short_of_money(price, choices)

    def _borrow(self, leg: int) -> bool:
        """Travel now, pay later: only with groups that offer credit, not everyone accepts, and
        nobody lends to someone who still owes another smuggler."""
        model = self.model
        if self.debt > 0:
            return False
        return model.rng.random() < model.params.migrants.borrow_propensity and model.market.book(
            self, leg, on_credit=True
        )

    def _go(self, leg: int, channel: int) -> None:
        model = self.model
        if channel == SELF:
            model.trips.depart_alone(self, leg)
        elif not model.market.book(self, leg, on_credit=False):
            model.market.wait_for_seat(self, leg)
            self.sleep(model.params.migrants.patience_days, WAITING)

    def _short_of_money(self, price: float, choices: list[tuple[int, int, float, float]]) -> None:
        """Work where there is work; else take the best option one can afford; else turn back."""
        model = self.model
        wage = model.wage[self.node]
        if wage > 0:
            days = math.ceil((price - self.cash) / wage)
            self.start_work(min(days, model.params.migrants.max_work_days))
            return
        affordable = [c for c in choices if c[0] >= 0 and c[3] <= self.cash]
        if not affordable:
            self.go_home()
            return
        leg, channel, _, _ = _logit_pick(
            affordable, model.params.migrants.choice_noise_eur, model.rng
        )
        self._go(leg, channel)

    def start_work(self, days: int) -> None:
        model = self.model
        self._work_days = days
        if model.is_gold_mine[self.node] and model.rng.random() < (
            model.params.migrants.gold_mine_exploitation * self.vulnerability
        ):
            self.exploit(model.params.armed_groups.forced_labour_days)
            return
        self.sleep(days, WORKING)

    def _paid_for_work(self) -> None:
        model = self.model
        earned = model.wage[self.node] * self._work_days * model.scale
        model.ledger.pay(model.ledger.outside["employers"], self, earned, "wage")

    @property
    def vulnerability(self) -> float:
        params = self.model.params.migrants
        v = 1.0
        if self.female:
            v *= params.female_vulnerability
        if self.minor:
            v *= params.minor_vulnerability
        return v

    # --- what happens to a migrant (called by trips, smugglers, authorities, armed groups) --------

    def board(self, leg: int, smuggled: bool) -> None:
        """Bookkeeping when this migrant sets off on a leg."""
        out = self.model.outcomes
        self.leave_home()
        if smuggled and not self.smuggled:
            self.smuggled = True
            out.add("ever_smuggled")
        if self.model.leg_mode[leg] == "sea":
            out.add("sea_departures")
        self.set_state(TRAVELLING)

    def reach(self, node: int) -> None:
        """Arrive safely at the end of a leg."""
        model = self.model
        self.node = node
        if model.is_destination[node]:
            self.finish(ARRIVED)
            return
        if self.debt > 0 and model.wage[node] > 0:
            days = math.ceil(self.debt / model.wage[node])
            self.exploit(days)
            return
        self.sleep(1, WAITING)

    def exploit(self, days: int) -> None:
        """Forced labour, sexual exploitation or debt bondage for `days`."""
        self._count_trafficked()
        self.sleep(days, EXPLOITED)

    def _count_trafficked(self) -> None:
        if not self.trafficked:
            self.trafficked = True
            self.model.outcomes.add("trafficked")

    def _freed(self) -> None:
        """End of exploitation: debts are taken as worked off, the exploiter keeps the earnings."""
        self._repay_debt()
        self.set_state(WAITING)

    def _repay_debt(self) -> None:
        """The work extracted pays the creditor what the fee was (money from outside employers)."""
        model = self.model
        if self.debt > 0 and self.creditor is not None:
            model.ledger.pay(
                model.ledger.outside["employers"],
                self.creditor,
                self.debt * model.scale,
                "debt_repayment",
            )
        self.debt, self.creditor = 0.0, None

    def detain(self, days: int) -> None:
        self.model.outcomes.add("detained")
        self.sleep(days, DETAINED)

    def kidnap(self, captor: ArmedGroup, days: int) -> None:
        self.captor = captor
        self.model.outcomes.add("kidnapped")
        self.sleep(days, KIDNAPPED)

    def die(self, mode: str) -> None:
        out = self.model.outcomes
        out.add("dead")
        if mode in ("sea", "desert"):
            out.add(f"dead_{mode}")
        self.finish(DEAD)

    def leave_home(self) -> None:
        if not self.travelled:
            self.travelled = True
            self.model.outcomes.left_home()

    def go_home(self) -> None:
        """Give up: returned home if it had left, stayed home if it never did."""
        if self.travelled:
            self.model.outcomes.add("returned_home")
        else:
            self.model.outcomes.stayed_home()
        self.finish(RETURNED)

    def finish(self, state: str) -> None:
        model = self.model
        if state == ARRIVED:
            out = model.outcomes
            out.add("arrived")
            out.add("journey_days", model.day - self.start_day)
            if self.debt > 0:
                # End-to-end control: the debt is extracted from work in Europe.
                self._count_trafficked()
                self._repay_debt()
        self.set_state(state)


def _logit_pick(
    choices: list[tuple[int, int, float, float]], noise: float, rng: np.random.Generator
) -> tuple[int, int, float, float]:
    """Multinomial logit over generalised costs, with one uniform draw.

    Plain Python on purpose: menus have a handful of options, where numpy's per-call overhead
    costs more than the arithmetic.
    """
    if len(choices) == 1:
        return choices[0]
    costs = [c[2] for c in choices]
    best = min(costs)
    weights = [math.exp((best - cost) / noise) for cost in costs]
    u = rng.random() * sum(weights)
    for choice, w in zip(choices, weights, strict=True):
        u -= w
        if u <= 0:
            return choice
    return choices[-1]

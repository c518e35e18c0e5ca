"""Migrant: a person (or, at `scale: K`, K people travelling together) on the way to Europe.

A migrant holds a route plan: a path of legs to a destination (`routes.py`), chosen by its
perceived generalised cost (fees, time, the risks of death and abuse, and what an interception
would do to it), against what reaching Europe is worth to it and what going home would cost from
where it is. It follows the plan and revises it on events: an interception, a wait for a seat in
vain, a price it cannot pay, or news that makes the rest of the plan dearer than it was when
chosen. Revising may go on, sideways, back, or home; changing plans has a cost of its own. Its
beliefs are those of its network of origin (`information.py`) corrected by its own failures,
which weigh more than hearsay. It sleeps on the model's calendar and wakes only to decide.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
from routesim.routes import NO_ROUTE

if TYPE_CHECKING:
    from routesim.agents.armed_group import ArmedGroup
    from routesim.agents.smuggler import Smuggler
    from routesim.model import RouteModel

# Options besides a route (route ids are >= 0; NO_ROUTE, -1, is no plan).
LEGAL, HOME = -2, -3
# What a person remembers of a leg: its own interceptions on it, and its waits for a seat in vain.
CAUGHT, WAITED = 0, 1


class Migrant(mesa.Agent):
    """A person on the move; `cash` and `debt` are per person (EUR)."""

    model: RouteModel

    def __init__(
        self,
        model: RouteModel,
        origin: int,
        nationality: str,
        network: int,
        cash: float,
        female: bool,
        minor: bool,
        risk_class: int,
        skill: float,
        value: float,
    ) -> None:
        super().__init__(model)
        self.origin = self.node = origin
        self.nationality = nationality
        self.network = network  # whose news it hears (its compatriots')
        self.row = network * len(model.params.migrants.risk_classes) + risk_class  # its costs
        self.cash = cash
        self.female, self.minor = female, minor
        # How much likelier than a man to be exploited (read on every exploitation draw).
        self.vulnerability = 1.0
        if female:
            self.vulnerability *= model.params.migrants.female_vulnerability
        if minor:
            self.vulnerability *= model.params.migrants.minor_vulnerability
        self.risk_class = risk_class
        self.skill = skill  # who can organise a crossing alone: skill >= the leg's smuggler_needed
        self.value = value  # what reaching Europe is worth to this person (EUR)
        self.state: str = WAITING
        self.wake_day: int | None = model.day
        self.queue_ticket = 0  # the one queue place (seat or visa) still valid: see join_queue
        self.start_day = model.day
        self.debt = 0.0
        self.fee = 0.0  # the fee of the current smuggled leg (per person)
        self._work_days = 0
        self.creditor: Smuggler | None = None
        self.captor: ArmedGroup | None = None
        self.travelled = self.smuggled = self.trafficked = False
        self.route = NO_ROUTE  # the plan: a route id (routes.py) starting where it is
        # what the plan, and each rest of it, was heard to cost when it was chosen
        self.expected: list[float] = []
        self.revise = False  # something happened that calls the plan into question
        self.seat_wanted = -1  # the leg it queues for a seat on, if any
        self.saving_for = NO_ROUTE  # the plan it chose knowing it must work months for its fare
        self.memory: dict[int, list[int]] | None = None  # leg -> [interceptions, vain waits]
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
        self.seat_wanted = -1

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
        elif self.seat_wanted >= 0:  # no seat came in all the days it was ready to wait
            self.remember(self.seat_wanted, WAITED)
            self.seat_wanted = -1
        if self.state in (ARRIVED, DEAD, RETURNED):
            return
        self.decide()

    # --- the plan --------------------------------------------------------------------------------

    def remember(self, leg: int, what: int) -> None:
        """A failure of one's own on `leg`: it weighs on the leg more than hearsay, and calls the
        plan into question."""
        if self.memory is None:
            self.memory = {}
        self.memory.setdefault(leg, [0, 0])[what] += 1
        self.revise = True

    def decide(self) -> None:
        """Follow the plan where it still holds; otherwise choose again among the routes from
        here, legal pathways and going home."""
        model = self.model
        route = self.route
        if route != NO_ROUTE and model.route_start[route] != self.node:
            route = NO_ROUTE  # taken elsewhere (displaced, pulled back to another port)
        if route != NO_ROUTE and not self.revise:
            cost = model.route_cost(self.row, route)
            if cost <= self.expected[0] + model.params.migrants.revision_threshold_eur:
                self._take(route)
                return
        self._choose(route, budget=math.inf)

    def _choose(self, current: int, budget: float, wage: float = 0.0) -> None:
        """A logit over the routes from here (and its current plan), whose first leg it can pay
        if `budget` is finite, a legal pathway where one is open, and going home. With a `wage`,
        a route whose fare is beyond its cash costs the days of work that would pay for it."""
        model = self.model
        params = model.params.migrants
        plans = model.plans
        node = self.node
        # Hot: one call per revision, over about fifteen routes, in plain lists.
        routes = plans.candidates[node]
        costs = model.menu(self.row, node).costs(self.skill)[:]
        if current != NO_ROUTE:
            switching = params.switching_cost_eur
            at = plans.position[node].get(current)
            plan_cost = costs[at] if at is not None else model.route_cost(self.row, current)
            costs = [c + switching for c in costs]  # every route but the plan: staying is free
            if at is None:
                routes = [*routes, current]
                costs.append(plan_cost)
            else:
                costs[at] = plan_cost
        if self.memory is not None:  # its own failures weigh on the routes through those legs
            extra = [0.0] * len(costs)
            through = plans.through[node]
            appended = len(routes) > len(plans.candidates[node])  # the plan, if not a candidate
            for leg, (caught, waited) in self.memory.items():
                cost = model.own_failure_cost(self, leg, caught, waited)
                for i in through.get(leg, ()):
                    extra[i] += cost
                if appended and leg in plans.leg_sets[current]:
                    extra[-1] += cost
            costs = [c + e if e else c for c, e in zip(costs, extra, strict=True)]
        if budget < math.inf:
            price = model.first_leg_price
            kept = [(r, c) for r, c in zip(routes, costs, strict=True) if price(r, self) <= budget]
            routes, costs = [r for r, _ in kept], [c for _, c in kept]
        elif wage > 0:  # the days of work its fares to Europe need, not only the next one
            days_cost = params.value_of_time_eur_per_day / wage
            fare, cash = model.route_fare, self.cash
            costs = [
                c + max(0.0, fare(r, self) - cash) * days_cost
                for r, c in zip(routes, costs, strict=True)
            ]
        options = [*routes, HOME]
        wait = model.legal_wait_days(self)
        if wait is not None and model.legal_ticket_eur <= budget:
            options.insert(-1, LEGAL)
            costs.append(model.legal_ticket_eur + params.value_of_time_eur_per_day * wait)
        costs.append(model.home_cost(self) + self.debt + self.value)
        choice = logit_pick(options, costs, params.choice_noise_eur, model.rng)
        self.revise = False
        if choice == HOME:
            self.go_home()
        elif choice == LEGAL:
            self.route = NO_ROUTE
            model.apply_for_visa(self)
        else:
            self.expected = model.route_costs_on(self.row, choice)
            if wage > 0:
                self.saving_for = choice
            self._take(choice, budget)

    def _take(self, route: int, budget: float = math.inf) -> None:
        """Set off on the plan's next leg: alone or with a smuggler, paying, borrowing, or
        working first for the fare."""
        model = self.model
        self.route = route
        leg = model.plans.first_leg[route]
        channel, price = model.pick_channel(self, leg, budget)
        if price <= self.cash + 1e-9:
            self._go(leg, channel)
        elif not (channel == SMUGGLED and self._borrow(leg)):
            self._short_of_money(price)

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
            self.seat_wanted = leg

    def _short_of_money(self, price: float) -> None:
        """Work where there is work; else choose again among what one can pay (home included).
        A fare more than one spell of work away calls the plan into question: it is chosen
        again with the months of work each route would take, once; then worked for."""
        model = self.model
        wage = model.wage[self.node]
        if wage <= 0:
            self._choose(self.route, budget=self.cash)
            return
        days = math.ceil((price - self.cash) / wage)
        spell = model.params.migrants.max_work_days
        if days > spell and self.saving_for != self.route:
            self._choose(self.route, budget=math.inf, wage=wage)
            return
        self.start_work(min(days, spell))

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

    # --- what happens to a migrant (called by trips, smugglers, authorities, armed groups) --------

    def board(self, leg: int, smuggled: bool) -> None:
        """Bookkeeping when this migrant sets off on a leg (its plan's first leg)."""
        model = self.model
        out = model.outcomes
        self.leave_home()
        if smuggled and not self.smuggled:
            self.smuggled = True
            out.add("ever_smuggled")
        if model.leg_mode[leg] == "sea":
            out.add("sea_departures")
        self.set_state(TRAVELLING)

    def cross(self, node: int) -> None:
        """Across the leg (whatever happens next at its end): the plan moves on by one leg."""
        self.node = node
        if self.route != NO_ROUTE:
            onward = self.model.plans.onward[self.route]
            if self.saving_for == self.route:  # the same plan, one leg on
                self.saving_for = onward
            self.route = onward
            self.expected = self.expected[1:]

    def reach(self, node: int) -> None:
        """Arrive safely at the end of a leg."""
        model = self.model
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


def logit_pick(
    options: Sequence[int], costs: list[float], noise: float, rng: np.random.Generator
) -> int:
    """Multinomial logit over `options` and their generalised `costs`, with one uniform draw.

    Plain Python on purpose: menus have a handful of options, where numpy's per-call overhead
    costs more than the arithmetic.
    """
    if len(options) == 1:
        return options[0]
    best = min(costs)
    weights = [math.exp((best - cost) / noise) for cost in costs]
    u = rng.random() * sum(weights)
    for option, w in zip(options, weights, strict=True):
        u -= w
        if u <= 0:
            return option
    return options[-1]

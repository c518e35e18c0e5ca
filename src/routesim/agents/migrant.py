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
from typing import TYPE_CHECKING, NamedTuple

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
from routesim.routes import (
    HOME_TASTE,
    LEGAL_TASTE,
    NO_ROUTE,
    Menu,
    RoutePlans,
    cheapest_by_crossing,
)

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
        taste: np.ndarray | None = None,
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
        # Its own lasting taste for each option (standard Gumbel draws, `routes.HOME_TASTE`...):
        # what sets it apart from others facing the same costs, the same at every decision.
        if taste is None:
            taste = model.rng.gumbel(size=model.plans.n_tastes).astype(np.float32)
        self.taste = taste
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
        """Choose among the crossings reached by the routes from here (and its current plan),
        each by its cheapest route whose first leg it can pay if `budget` is finite, a legal
        pathway where one is open, and going home (`nested_pick`). With a `wage`, a route whose
        fare is beyond its cash costs the days of work that would pay for it.

        Every option but the plan costs the switching cost more; the choice is the same with
        the plan that much cheaper instead, which keeps the day's per-crossing summary shared."""
        model = self.model
        params = model.params.migrants
        plans = model.plans
        node = self.node
        menu = model.menu(self.row, node)
        shift = params.switching_cost_eur if current != NO_ROUTE else 0.0
        tree = None
        if budget < math.inf or wage > 0:
            least, via = self._by_crossing_own(menu, current, shift, budget, wage)
        else:  # hot: most choices, a walk over the crossings and one's own failures
            least, via = shared = menu.by_crossing(self.skill)
            changed: set[int] | None = set()
            failed = self._failure_costs() if self.memory is not None else None
            if failed is not None:
                least, via, changed = self._after_failures(menu, least, via, failed)
            if current != NO_ROUTE:
                at = plans.position[node].get(current)
                if at is None:
                    plan = model.offer_cost(self.row, current)
                else:
                    plan = menu.costs(self.skill)[at]
                if failed is not None:
                    legs = plans.leg_sets[current]
                    plan += sum(cost for leg, cost in failed.items() if leg in legs)
                crossing = plans.crossing[current]
                if plan - shift < least.get(crossing, math.inf):
                    if changed is not None and crossing in least:
                        changed.add(crossing)
                    else:  # a crossing added to the summary
                        changed = None
                    least = {**least, crossing: plan - shift}
                    via = {**via, crossing: current}
            # The tree of the day's summary as everyone here sees it, with what is one's own
            # weighed again (its failures, its plan), unless a crossing came or went.
            base = menu.shared(
                "nests", self.skill, lambda: nest_tree(*shared, plans, model.spreads)
            )
            if least is shared[0]:
                tree = base
            elif changed is not None:
                tree = base.with_changes(least, changed, model.spreads)
        outside = [(HOME, model.home_cost(self) + self.debt + self.value - shift)]
        wait = model.legal_wait_days(self)
        if wait is not None and model.legal_ticket_eur <= budget:
            legal = model.legal_ticket_eur + params.value_of_time_eur_per_day * wait
            outside.insert(0, (LEGAL, legal - shift))
        choice = nested_pick(least, via, plans, outside, model.spreads, self.taste.tolist(), tree)
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

    def _failure_costs(self) -> dict[int, float]:
        """What each leg one has failed on adds to the routes through it (`own_failure_cost`)."""
        model = self.model
        assert self.memory is not None
        return {
            leg: model.own_failure_cost(self, leg, caught, waited)
            for leg, (caught, waited) in self.memory.items()
        }

    def _after_failures(
        self,
        menu: Menu,
        least: dict[int, float],
        via: dict[int, int],
        failed: dict[int, float],
    ) -> tuple[dict[int, float], dict[int, int], set[int] | None]:
        """The per-crossing summary with one's own failures added to the routes through those
        legs: only the crossings those routes end on are looked at again (returned with it;
        None if one is gone)."""
        plans = self.model.plans
        node = self.node
        through = plans.through[node]
        extra: dict[int, float] = {}
        for leg, cost in failed.items():
            if cost:
                for i in through.get(leg, ()):
                    extra[i] = extra.get(i, 0.0) + cost
        if not extra:
            return least, via, set()
        least, via = dict(least), dict(via)
        costs, routes, crossings = menu.costs(self.skill), menu.routes, menu.crossings
        changed: set[int] | None = {crossings[i] for i in extra}
        for crossing in set(changed):
            low, best = math.inf, NO_ROUTE
            for i in through[crossing]:  # a crossing is only ever a route's last leg
                cost = costs[i] + extra.get(i, 0.0)
                if cost < low:
                    low, best = cost, routes[i]
            if best == NO_ROUTE:  # gone from the summary: its tree must be built anew
                least.pop(crossing, None)
                via.pop(crossing, None)
                changed = None
            else:
                least[crossing], via[crossing] = low, best
        return least, via, changed

    def _by_crossing_own(
        self, menu: Menu, current: int, shift: float, budget: float, wage: float
    ) -> tuple[dict[int, float], dict[int, int]]:
        """The per-crossing summary with what is one's own: failures on the legs of a route, a
        first leg one cannot pay within `budget`, the days of work a fare beyond one's cash
        takes at `wage`; the plan (if any) `shift` cheaper."""
        model = self.model
        plans = model.plans
        node = self.node
        routes, crossings = menu.routes, menu.crossings
        costs = menu.costs(self.skill)[:]
        if current != NO_ROUTE:
            at = plans.position[node].get(current)
            if at is None:
                routes, crossings = [*routes, current], [*crossings, plans.crossing[current]]
                costs.append(model.offer_cost(self.row, current) - shift)
            else:
                costs[at] -= shift
        if self.memory is not None:  # its own failures weigh on the routes through those legs
            extra = [0.0] * len(costs)
            through = plans.through[node]
            appended = len(routes) > len(menu.routes)  # the plan, if not a candidate
            for leg, cost in self._failure_costs().items():
                for i in through.get(leg, ()):
                    extra[i] += cost
                if appended and leg in plans.leg_sets[current]:
                    extra[-1] += cost
            costs = [c + e if e else c for c, e in zip(costs, extra, strict=True)]
        first = model.first_prices(menu, self.skill)
        if len(routes) > len(menu.routes):
            first = [*first, model.first_leg_price(current, self)]
        if budget < math.inf:
            costs = [c if p <= budget else math.inf for p, c in zip(first, costs, strict=True)]
        elif wage > 0:  # the days of work its fares to Europe need, not only the next one
            days_cost = model.params.migrants.value_of_time_eur_per_day / wage
            rest, cash = model.rest_fare, self.cash
            costs = [
                c + max(0.0, p + rest[r] - cash) * days_cost
                for r, p, c in zip(routes, first, costs, strict=True)
            ]
        return cheapest_by_crossing(routes, crossings, costs)

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


class Nests(NamedTuple):
    """The nested logit's tree over a per-crossing summary: the corridors in it, each
    corridor's coasts (each with its logsum, its location and its crossings), each corridor's
    logsum and its value at the top, and where each crossing lies (corridor, coast). People
    who see the same summary share it."""

    corridors: list[int]
    coasts: list[list[tuple[float, int, list[int]]]]
    logsums: list[float]
    upper: list[float]
    place: dict[int, tuple[int, int]]

    def with_changes(
        self,
        least: dict[int, float],
        changed: set[int],
        spreads: tuple[float, float, float, float],
    ) -> Nests:
        """The tree of the same summary with the costs of the `changed` crossings now as in
        `least`: only their coasts and corridors are weighed again (to the last bit what
        `nest_tree` of `least` gives, the crossings being the same)."""
        coasts, logsums = list(self.coasts), list(self.logsums)
        touched: dict[int, set[int]] = {}
        for crossing in changed:
            k, j = self.place[crossing]
            touched.setdefault(k, set()).add(j)
        for k, js in touched.items():
            valued = coasts[k] = list(coasts[k])
            for j in js:
                _, coast, crossings = valued[j]
                valued[j] = (_logsum([least[c] for c in crossings], spreads[3]), coast, crossings)
            logsums[k] = _logsum([v for v, _, _ in valued], spreads[2])
        return Nests(self.corridors, coasts, logsums, _at_top(logsums, spreads), self.place)


def _at_top(logsums: list[float], spreads: tuple[float, float, float, float]) -> list[float]:
    """Each corridor's value at the top: its logsum, or, with a nest of the corridors below the
    top (a corridors' spread below the top's), the migrating nest's logsum plus the corridor's
    own share of that nest, stretched: one draw for both levels."""
    top, corridor_spread = spreads[0], spreads[1]
    if not logsums or corridor_spread >= top:
        return logsums
    migrate = _logsum(logsums, corridor_spread)
    stretch = top / corridor_spread
    return [migrate + (cost - migrate) * stretch for cost in logsums]


def nest_tree(
    least: dict[int, float],
    via: dict[int, int],
    plans: RoutePlans,
    spreads: tuple[float, float, float, float],
) -> Nests:
    """The crossings of a per-crossing summary (`least`, `via`) as nests: by coast, by
    corridor, each nest weighed by the logsum of what is in it (`nested_pick`)."""
    corridors, groups, place = plans.nests_of(via)
    crossing_spread, coast_spread = spreads[3], spreads[2]
    nests = []  # by corridor: its coasts, each with its crossings and its logsum
    logsums = []
    for coasts in groups:
        valued = [
            (_logsum([least[c] for c in cs], crossing_spread), coast, cs) for coast, cs in coasts
        ]
        nests.append(valued)
        logsums.append(_logsum([v for v, _, _ in valued], coast_spread))
    return Nests(corridors, nests, logsums, _at_top(logsums, spreads), place)


def nested_pick(
    least: dict[int, float],
    via: dict[int, int],
    plans: RoutePlans,
    outside: list[tuple[int, float]],
    spreads: tuple[float, float, float, float],
    taste: Sequence[float],
    tree: Nests | None = None,
) -> int:
    """A route, or an `outside` option (legal pathway, home), by a nested logit whose taste
    shocks are the person's own and last (`taste`: standard Gumbel draws, `Migrant.taste`).

    Each crossing into Europe counts once, by its cheapest route today (`least`, `via`: a nest
    whose own spread is nil), so listing more ways to a crossing does not make it likelier. The
    crossings from one coast form a nest, the coasts of a corridor another, the corridors a
    third (migrating at all), weighed at the top against a visa and going home. `spreads` are
    the logit scales of the four levels, top first, each no more than the one above (McFadden
    1978): a nest is weighed by the expected least cost of what is in it (its logsum), so the
    number of corridors, of a corridor's coasts or of a coast's crossings weighs only as far as
    they are distinct choices. At each level the option with the least cost less its spread
    times the person's taste for it is taken: over people, the nested logit's shares; for one
    person, the same choice again until costs change by more than its tastes set it apart
    (Revelt and Train 1998: a person's tastes persist over its repeated choices), so people do
    not wander between corridors on fresh noise at each decision. `tree`: the summary's
    `nest_tree`, if already built."""
    if tree is None:
        tree = nest_tree(least, via, plans, spreads)
    corridors, nests, _, upper, _ = tree
    slots = [*corridors, *(HOME_TASTE if o == HOME else LEGAL_TASTE for o, _ in outside)]
    k = best_by_taste(
        [*upper, *(cost for _, cost in outside)], spreads[0], [taste[s] for s in slots]
    )
    if k >= len(nests):
        return outside[k - len(nests)][0]
    coasts = nests[k]
    at = plans.coast_taste
    _, _, crossings = coasts[
        best_by_taste([v for v, _, _ in coasts], spreads[2], [taste[at[c]] for _, c, _ in coasts])
    ]
    at = plans.crossing_taste
    costs = [least[c] for c in crossings]
    return via[crossings[best_by_taste(costs, spreads[3], [taste[at[c]] for c in crossings])]]


def best_by_taste(costs: list[float], spread: float, tastes: list[float]) -> int:
    """The index of the option with the least cost less `spread` times the person's taste for
    it: with standard Gumbel tastes, drawn anew, a multinomial logit of scale `spread`."""
    if len(costs) == 1:
        return 0
    best, low = 0, math.inf
    for i, (cost, shock) in enumerate(zip(costs, tastes, strict=True)):
        value = cost - spread * shock
        if value < low:
            best, low = i, value
    return best


def _logsum(costs: list[float], spread: float) -> float:
    """A nest's inclusive cost, as the level above weighs it: the expected least of `costs`
    each perturbed by Gumbel noise of scale `spread`, but for Euler's constant times `spread`
    (the same for every nest of a level)."""
    if len(costs) == 1:
        return costs[0]
    low = min(costs)
    exp = math.exp
    return low - spread * math.log(sum([exp((low - c) / spread) for c in costs]))

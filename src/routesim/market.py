"""The smuggling market: how migrants find smugglers, and how the supply of smugglers forms.

Migrants who want a smuggler on a leg take the cheapest open trip with a free seat (a booking on
credit only with groups that offer it); if there is none they queue for the next trip that opens.
Queues and trips leaving full draw entrants (see `step`). More boats mean emptier trips and falling
markups, so fees settle where entry stops. Smugglers on a leg share what they learn about
interception.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from routesim.agents.smuggler import Plan, Smuggler, full_cost
from routesim.scenario import ORGANISATIONS

if TYPE_CHECKING:
    from routesim.agents.migrant import Migrant
    from routesim.model import RouteModel


class Market:
    def __init__(self, model: RouteModel, pressure: np.ndarray) -> None:
        self.model = model
        n = model.network.n_legs
        self.by_leg: list[list[Smuggler]] = [[] for _ in range(n)]
        self.active: list[Smuggler] = []
        self.unmet = np.zeros(n)  # people turned away today
        # People waiting for a seat, in order; an entry is stale once its ticket has moved on.
        self.waiting: list[deque[tuple[Migrant, int]]] = [deque() for _ in range(n)]
        self.full = np.zeros(n, dtype=bool)  # a trip left full today
        self.pressure = pressure.astype(float).copy()
        self._entry: dict[int, Plan] = {}  # `entry_plan` by leg, until it changes
        self._entry_version = model.conditions.version

    def enter(self, leg: int, organisation: str | None = None) -> Smuggler:
        if organisation is None:
            # The draw rng.choice(p=shares of the leg) makes, without re-checking p each time.
            cdf = self.model.organisation_cdf[leg]
            organisation = ORGANISATIONS[int(cdf.searchsorted(self.model.rng.random(), "right"))]
        smuggler = Smuggler(self.model, leg, organisation)
        self.by_leg[leg].append(smuggler)
        self.active.append(smuggler)
        return smuggler

    def withdraw(self, smuggler: Smuggler) -> None:
        self.by_leg[smuggler.leg].remove(smuggler)
        self.active.remove(smuggler)

    def quote(self) -> np.ndarray:
        """Lowest fee with a free seat on each leg (NaN where no trip is open)."""
        fees = [np.nan] * len(self.by_leg)
        for s in self.active:
            if s.seats_left > 0 and not s.fee >= fees[s.leg]:
                fees[s.leg] = s.fee
        return np.array(fees)

    def entry_plan(self, leg: int) -> Plan:
        """How a typical entrant (a small network at the usual fill) would run trips on `leg`
        now, and at what cost. It changes only with the leg's interception pressure (after a
        trip on it) and with the legs' conditions (a policy), so it is kept until then."""
        if self._entry_version != self.model.conditions.version:
            self._entry.clear()
            self._entry_version = self.model.conditions.version
        plan = self._entry.get(leg)
        if plan is None:
            params = self.model.params.smugglers
            plan = self._entry[leg] = full_cost(
                self.model,
                leg,
                params.organisations["small_network"],
                params.death_aversion_eur,
                fill=0.8,
            )
        return plan

    def asking(self, leg: int) -> float:
        """What a smuggler entering `leg` now would ask (its cost-plus fee): the price people
        expect where no trip is open, since smugglers advertise and one comes where people
        wait (`step`)."""
        return self.entry_plan(leg).cost * (1 + self.model.params.smugglers.markup_initial)

    def book(self, migrant: Migrant, leg: int, on_credit: bool) -> bool:
        """The cheapest open trip with a free seat that the migrant can pay (or that lends)."""
        best: Smuggler | None = None
        cash = migrant.cash
        for s in self.by_leg[leg]:  # hot: every smuggled booking scans the leg's operators
            if (
                s.seats_left > 0
                and (s.org.offers_credit if on_credit else s.fee <= cash)
                and (best is None or s.fee < best.fee)
            ):
                best = s
        if best is None:
            return False
        best.accept(migrant, on_credit)
        return True

    def wait_for_seat(self, migrant: Migrant, leg: int) -> None:
        """No seat today: queue for the next trip on the leg (and count as unmet demand)."""
        self.waiting[leg].append((migrant, migrant.join_queue()))
        self.unmet[leg] += self.model.scale

    def seat_waiting(self, smuggler: Smuggler) -> None:
        """A trip opens: those queued on the leg who still wait and can pay get the seats first."""
        queue = self.waiting[smuggler.leg]
        while queue and smuggler.seats_left > 0:
            migrant, ticket = queue.popleft()
            here = self.model.leg_src[smuggler.leg]
            if migrant.still_queued(ticket, here) and migrant.cash >= smuggler.fee:
                smuggler.accept(migrant, on_credit=False)

    def learn(self, leg: int, intercepted: bool, detection: float) -> None:
        """Update the leg's interception pressure from one trip (scaled by how visible it was)."""
        observed = float(intercepted) / max(detection, 0.05)
        rate = self.model.params.smugglers.pressure_learning_rate
        self.pressure[leg] += rate * (min(observed, 2.0) - self.pressure[leg])
        self._entry.pop(leg, None)

    def step(self) -> None:
        """Entry on legs that were busy yesterday; then smugglers depart or leave.

        People queuing for seats draw entrants in proportion to the trips they would fill (an
        entrant sets its own cost-plus fee; whether people pay it is their choice). Where trips
        leave full with nobody queuing, entry follows the margin between the fee being paid and
        an entrant's full cost, which is what competes markups down.
        """
        model = self.model
        params = model.params.smugglers
        heard_fee = model.info.perceived_fee()
        for leg in np.flatnonzero((self.unmet > 0) | self.full):
            leg = int(leg)
            cost, _, _, seats, _ = self.entry_plan(leg)
            if self.unmet[leg] > 0:
                pull = min(1.0, self.unmet[leg] / (seats * model.scale))
            else:
                pull = 1.0 - cost * (1 + params.markup_bounds[0]) / heard_fee[leg]
            if model.rng.random() < params.entry_rate * pull:
                self.enter(leg)
        self.unmet[:] = 0.0
        self.full[:] = False
        for smuggler in list(self.active):
            smuggler.step()

"""Smuggler: an operator serving one leg (Agadez - Sebha, Zuwara - Lampedusa, ...).

Its fee is cost-plus: direct costs of the tactic it chooses (vehicle or boat, fuel, crew), bribes,
right-of-way to armed groups, and the expected loss of the asset and of its freedom if the trip is
intercepted, all per expected passenger, times (1 + markup). The markup adapts to demand: trips that
fill up raise it, trips that leave half empty lower it. Interception risk is learnt from the
trips of all smugglers on the leg. When enforcement rises, the expected losses rise, so the fee
rises and the cheap, overloaded boat or the remote desert track starts to pay: nothing here says
"if enforcement then fee x 2"; those follow from the cost it minimises.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import mesa

from routesim.ledger import Wallet

if TYPE_CHECKING:
    from routesim.agents.migrant import Migrant
    from routesim.model import RouteModel
    from routesim.scenario import Organisation, Tactic


class Plan(NamedTuple):
    """How a smuggler will run its next trip, and what it costs per person."""

    cost: float
    tactic_name: str
    tactic: Tactic
    seats: int  # agents
    bribes: bool  # pays officials on the leg to look away


def full_cost(
    model: RouteModel, leg: int, org: Organisation, death_aversion: float, fill: float
) -> Plan:
    """The plan (tactic, and whether to bribe) a smuggler picks on `leg`, with its cost.

    Cost per person = direct cost + bribes asked + right-of-way + expected loss of asset and
    freedom if intercepted - expected side income, per expected passenger. Bribes buy a leak in
    enforcement that grows with the smuggler's reach; they are paid only when the loss they avert
    is worth more than they cost, so bribes rise with enforcement by choice, not by formula.
    The plan minimises the cost plus the weight the smuggler puts on expected deaths
    (reputation, conscience, charges); that weight steers the choice but is not money, so it is
    not in the price.
    """
    # Hot: called whenever a smuggler prices a trip (tens of thousands of times a run), so
    # lookups are hoisted out of the loop; the arithmetic keeps the order of its terms, so that
    # fees stay the same to the last bit.
    params = model.params
    smugglers = params.smugglers
    conditions = model.conditions
    mode = model.leg_mode[leg]
    unit = model.leg_smuggler_cost[leg]
    pressure = float(model.market.pressure[leg])  # numpy scalars are slow in scalar code
    asset = smugglers.asset_eur[mode]
    arrest_loss = (
        params.authorities.arrest_rate * (1 - org.arrest_evasion) * smugglers.arrest_cost_eur
    )
    toll = conditions.right_of_way_per_person(leg)
    side = model.side_business_eur(leg)
    hazard = conditions.hazard_now(leg)
    options = (
        (False, 0.0, 0.0),
        (True, conditions.bribe_asked(leg), conditions.bribe_leak(leg, org.bribe_access)),
    )
    capacity = smugglers.capacity[mode] * org.capacity_factor
    floor = smugglers.cost_floor_share * unit
    scale = model.scale
    best_score, best = math.inf, None
    for name, tactic in smugglers.tactics[mode].items():
        seats = max(1, round(capacity * tactic.load / scale))
        expected = seats * scale * fill
        direct = unit * tactic.cost_factor
        loss = asset * tactic.asset_factor + arrest_loss
        for bribes, asked, leak in options:
            p_int = min(1.0, pressure * tactic.detection * (1 - leak))
            cost = direct + asked + toll + p_int * loss / expected - (1 - p_int) * side / expected
            cost = max(cost, floor)
            score = cost + death_aversion * hazard * tactic.hazard
            if best is None or score < best_score:
                best_score, best = score, Plan(cost, name, tactic, seats, bribes)
    assert best is not None
    return best


class Smuggler(Wallet, mesa.Agent):
    model: RouteModel

    def __init__(self, model: RouteModel, leg: int, organisation: str) -> None:
        super().__init__(model)
        params = model.params.smugglers
        self.leg = leg
        self.organisation = organisation
        self.org = params.organisations[organisation]
        self.mode: str = model.leg_mode[leg]
        self.asset = params.asset_eur[self.mode]
        rng = model.rng
        self.cash = 2.0 * self.asset + 5_000.0
        model.ledger.endow(self.cash)
        self.markup = params.markup_initial * float(rng.uniform(0.7, 1.3))
        # People differ in scruples: the reputational and moral weight of a death on board.
        self.death_aversion = params.death_aversion_eur * float(rng.lognormal(0.0, 0.6))
        self.fill = 0.8
        self.passengers: list[Migrant] = []
        self.first_booking: int | None = None
        self.last_active = model.day
        self.active, self.busy, self.arrested = True, False, False
        self.trips = 0
        self.tactic_name = ""
        self.tactic: Tactic
        self.seats = 1
        # Free seats on the open trip (0 while away or out of business): read on every booking
        # and every quote, so kept as a number rather than recomputed.
        self.seats_left = 0
        self.fee = 0.0
        self.cost_per_person = 0.0
        model.outcomes.smugglers_active += 1
        self.open_trip()

    # --- pricing ---------------------------------------------------------------------------------

    def open_trip(self) -> None:
        """Pick the tactic with the lowest full cost per seat and post a fee for the next trip."""
        self.cost_per_person, self.tactic_name, self.tactic, self.seats, self.bribes = full_cost(
            self.model, self.leg, self.org, self.death_aversion, self.fill
        )
        self.fee = self.cost_per_person * (1 + self.markup)
        self.seats_left = self.seats - len(self.passengers)
        self.model.market.seat_waiting(self)

    def accept(self, migrant: Migrant, on_credit: bool) -> None:
        """Take a booking: paid up front (95% of fees are cash) or, for some, on credit."""
        model = self.model
        if on_credit:
            migrant.debt = self.fee
            migrant.creditor = self
        else:
            model.ledger.pay(migrant, self, self.fee * model.scale, "fee")
        migrant.fee = self.fee
        migrant.leave_queues()  # it now waits for this trip, not for a day or a queue
        self.passengers.append(migrant)
        self.seats_left -= 1
        if self.first_booking is None:
            self.first_booking = model.day
        self.last_active = model.day

    # --- the day ---------------------------------------------------------------------------------

    def step(self) -> None:
        """Depart a full or overdue trip; leave the leg after a long idle spell."""
        model = self.model
        if self.busy or not self.active:
            return
        if self.passengers and self.first_booking is not None:
            full = len(self.passengers) >= self.seats
            overdue = model.day - self.first_booking >= model.params.smugglers.max_wait_days
            if full or overdue:
                self.depart(full)
        else:
            idle = model.day - self.last_active
            if idle > model.params.smugglers.idle_exit_days:
                self.leave(arrested=False)
            elif idle > 0 and idle % model.params.smugglers.max_wait_days == 0:
                # Nobody is booking: cut the price.
                low, step = (
                    model.params.smugglers.markup_bounds[0],
                    model.params.smugglers.markup_adaptation,
                )
                self.markup = max(low, self.markup * (1 - step))
                self.open_trip()

    def depart(self, full: bool) -> None:
        model = self.model
        params = model.params.smugglers
        people = len(self.passengers) * model.scale
        ledger = model.ledger
        unit = model.leg_smuggler_cost[self.leg] * self.tactic.cost_factor
        ledger.pay(self, ledger.outside["suppliers"], unit * people, "supplies")
        if self.bribes:
            bribe = model.conditions.bribe_asked(self.leg) * people
            ledger.pay(self, model.authority_of(self.leg), bribe, "bribe")
        group = model.armed_group_on(self.leg)
        if group is not None:
            ledger.pay(
                self,
                group,
                model.conditions.right_of_way_per_person(self.leg) * people,
                "right_of_way",
            )
        low, high = params.markup_bounds
        step = params.markup_adaptation
        if full:
            self.markup = min(high, self.markup * (1 + step))
            model.market.full[self.leg] = True
        else:
            self.markup = max(low, self.markup * (1 - step))
        self.fill = 0.8 * self.fill + 0.2 * len(self.passengers) / self.seats
        passengers, self.passengers, self.first_booking = self.passengers, [], None
        self.busy = True
        self.seats_left = 0
        self.trips += 1
        model.trips.depart_with(self, passengers)

    def after_trip(self, intercepted: bool, detection: float) -> None:
        """Learn from the trip, pay for what was lost, and face arrest."""
        model = self.model
        params = model.params
        model.market.learn(self.leg, intercepted, detection)
        ledger = model.ledger
        if intercepted:
            ledger.pay(
                self,
                ledger.outside["suppliers"],
                self.asset * self.tactic.asset_factor,
                "asset_replacement",
            )
            p_arrest = params.authorities.arrest_rate
        else:
            side = model.side_business_eur(self.leg)
            ledger.pay(ledger.outside["drug_buyers"], self, side, "tramadol")
            enforcement = model.conditions.enforcement_on(self.leg)
            p_arrest = params.authorities.investigation_rate * enforcement
        self.busy = False
        self.last_active = model.day
        if model.rng.random() < p_arrest * (1 - self.org.arrest_evasion):
            model.outcomes.add("smugglers_arrested", 1.0 / model.scale)
            self.leave(arrested=True)
        elif self.cash < 0:  # cannot replace the boat or pay the crew: out of business
            self.leave(arrested=False)
        else:
            self.open_trip()

    def leave(self, arrested: bool) -> None:
        """Out of the market (prosecuted or broke); the agent stays in the books with its cash."""
        self.active = False
        self.seats_left = 0
        self.arrested = arrested
        self.model.outcomes.smugglers_active -= 1
        self.model.market.withdraw(self)

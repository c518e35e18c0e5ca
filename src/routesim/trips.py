"""Trips: people crossing a leg together, and what happens to them on the way.

A trip is a smuggler's convoy or boat, or a self-organised crossing (one agent: at `scale: K`, K
people in one boat or car). It ends on its arrival day, when its hazards are resolved in order:
interception (the authority of the departure country), distress (boat or vehicle: a trip-level
event, so deaths come in groups as they do), armed-group checkpoints, and exploitation on arrival.
Each hazard is one draw for all the passengers of a trip.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from routesim.information import SELF, SMUGGLED

if TYPE_CHECKING:
    from routesim.agents.migrant import Migrant
    from routesim.agents.smuggler import Smuggler
    from routesim.model import RouteModel

# Share of the people aboard who die when a boat or vehicle is in distress (assumption). With it a
# leg's per-person death risk is split into a trip-level distress event and its lethality.
LETHALITY = {"sea": 0.5, "desert": 0.3}


@dataclass(slots=True)
class Trip:
    leg: int
    passengers: list[Migrant]
    operator: Smuggler | None
    detection: float  # how visible it is to patrols (tactic, bribes), 1 for a self-organised one
    hazard: float  # multiplier on the leg's death risk (tactic)
    protected: bool  # right-of-way paid to the armed group holding the leg


def _uniforms(rng: np.random.Generator, n: int) -> list[float]:
    """`n` uniform draws as a list: the same numbers as `rng.random(n)`, a scalar draw for the
    usual one-agent trip (numpy's array path costs more than the draw)."""
    return [rng.random()] if n == 1 else rng.random(n).tolist()


class Trips:
    """Departures and the calendar of trips ending each day."""

    def __init__(self, model: RouteModel) -> None:
        self.model = model
        self.ending: dict[int, list[Trip]] = defaultdict(list)

    def depart_alone(self, migrant: Migrant, leg: int) -> None:
        """A self-organised crossing, run the way the traveller judges best (a cheap boat from
        a remote beach at night where patrols bite, as smugglers do: `RouteModel.own_tactic`)."""
        model = self.model
        tactic, detection = model.own_tactic(migrant, leg)
        model.ledger.pay(
            migrant,
            model.ledger.outside["suppliers"],
            model.leg_self_cost[leg] * tactic.cost_factor * model.scale,
            "transport",
        )
        self._start(Trip(leg, [migrant], None, detection, tactic.hazard, False))

    def depart_with(self, smuggler: Smuggler, passengers: list[Migrant]) -> None:
        model = self.model
        leak = (
            model.conditions.bribe_leak(smuggler.leg, smuggler.org.bribe_access)
            if smuggler.bribes
            else 0.0
        )
        protected = model.armed_group_on(smuggler.leg) is not None
        self._start(
            Trip(
                smuggler.leg,
                passengers,
                smuggler,
                smuggler.tactic.detection * (1 - leak),
                smuggler.tactic.hazard,
                protected,
            )
        )

    def _start(self, trip: Trip) -> None:
        model = self.model
        out = model.outcomes
        smuggled = trip.operator is not None
        structured = smuggled and trip.operator.organisation == "structured"  # type: ignore[union-attr]
        risky = trip.hazard > 1.0
        for m in trip.passengers:
            m.board(trip.leg, smuggled)
            out.departure(trip.leg, smuggled, m.fee if smuggled else 0.0, structured, risky)
        self.ending[model.day + model.leg_days[trip.leg]].append(trip)

    def resolve_today(self) -> None:
        for trip in self.ending.pop(self.model.day, ()):
            self.resolve(trip)

    def resolve(self, trip: Trip) -> None:
        """Distress and interception are independent: a patrol does not stop a boat sinking."""
        model = self.model
        rng = model.rng
        leg = trip.leg
        mode = model.leg_mode[leg]
        out = model.outcomes
        scale = model.scale
        passengers = trip.passengers
        n = len(passengers)
        channel = SMUGGLED if trip.operator is not None else SELF
        authority = model.authority_of(leg)

        # Hot: one call per trip, and most trips carry one to a few agents, where numpy's
        # per-call cost dwarfs the work. Each hazard is one vectorised draw for the passengers,
        # compared in plain Python.
        p_death = min(1.0, model.conditions.hazard_now(leg) * trip.hazard)
        out.leg_expected_deaths[leg] += p_death * n * scale
        if mode in LETHALITY:
            distress = min(1.0, p_death / LETHALITY[mode])
            in_distress = distress > 0 and rng.random() < distress
            if in_distress:
                aboard = p_death / distress  # the chance of dying, given the boat is in distress
                dies = [u < aboard for u in _uniforms(rng, n)]
            else:
                dies = [False] * n
        else:
            dies = [u < p_death for u in _uniforms(rng, n)]
        survivors = [m for m, died in zip(passengers, dies, strict=True) if not died]
        deaths = n - len(survivors)
        if deaths:
            out.leg_deaths[leg] += deaths * scale
            for m, died in zip(passengers, dies, strict=True):
                if died:
                    m.die(mode)

        if rng.random() < authority.interception_chance(leg, trip.detection):
            k = len(survivors)
            out.leg_interceptions[leg] += k * scale
            out.add("intercepted", k)
            self._news(leg, channel, passengers, dies, intercepted=True)
            authority.intercept(survivors, leg)
            if trip.operator is not None:
                trip.operator.after_trip(True, trip.detection)
            return

        k = len(survivors)
        dst = model.leg_dst[leg]
        # Checkpoints stand on land routes; nobody is kidnapped at sea or once in Europe.
        group = None if mode == "sea" or model.is_destination[dst] else model.armed_group_on(leg)
        taken = [False] * k
        exploited = [False] * k
        if group is not None:
            chance = group.kidnap_chance(leg, trip.protected)
            taken = [u < chance for u in _uniforms(rng, k)]
        if model.wage[dst] > 0 and not model.is_destination[dst]:
            base = (
                trip.operator.org.exploitation
                if trip.operator is not None
                else model.params.authorities.exploitation_base
            )
            exploited = [
                u < base * m.vulnerability
                for u, m in zip(_uniforms(rng, k), survivors, strict=True)
            ]

        abused = {}
        arrived = model.leg_route[leg] if model.is_destination[dst] else None
        for m, kidnapped, exploit in zip(survivors, taken, exploited, strict=True):
            m.cross(dst)
            if kidnapped:
                group.kidnap(m)  # type: ignore[union-attr]
                abused[m] = True
            elif exploit:
                m.exploit(model.params.armed_groups.forced_labour_days)
                abused[m] = True
            else:
                m.reach(dst)
                if arrived is not None:
                    out.arrival(arrived, m.nationality)
        out.leg_crossings[leg] += k * scale
        self._news(leg, channel, passengers, dies, intercepted=False, abused=abused)
        if trip.operator is not None:
            trip.operator.after_trip(False, trip.detection)

    def _news(
        self,
        leg: int,
        channel: int,
        passengers: list[Migrant],
        dies: list[bool],
        intercepted: bool,
        abused: dict[Migrant, bool] | None = None,
    ) -> None:
        """What the trip's passengers' compatriots will hear of it: one record per network of
        origin aboard (most trips carry one)."""
        scale = self.model.scale
        smuggled = channel == SMUGGLED
        heard: dict[int, list[float]] = {}
        for m, died in zip(passengers, dies, strict=True):
            row = heard.get(m.network)
            if row is None:
                row = heard[m.network] = [0.0, 0.0, 0.0, 0.0, 0.0]
            row[0] += scale
            if died:
                row[1] += scale
            elif intercepted:
                row[2] += scale
            elif abused is not None and m in abused:
                row[3] += scale
            if smuggled:
                row[4] += m.fee * scale
        record = self.model.info.record
        for network, (people, dead, caught, harmed, fees) in heard.items():
            record(network, leg, channel, people, dead, caught, harmed, fees)

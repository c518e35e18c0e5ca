"""Authority: the state of one country (its police, border guards or coast guard).

It patrols the legs that leave its territory (interception and return, the Libyan and Tunisian
"pullbacks"), detains those it stops, arrests and prosecutes smugglers (see Smuggler.after_trip),
takes bribes that make its enforcement leak, runs search and rescue, and, as a destination state,
issues regular visas under legal-pathway quotas. Levels per leg live in the model's leg conditions
so that policies on the timeline can change them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mesa

from routesim.agents.migrant import CAUGHT
from routesim.ledger import Wallet
from routesim.outcomes import WAITING

if TYPE_CHECKING:
    from routesim.agents.migrant import Migrant
    from routesim.model import RouteModel


@dataclass
class Quota:
    """Visas for one nationality: accrue daily; those queued get them in order of application."""

    per_day: float  # people
    destination: int
    accrued: float = 0.0
    # Applicants with the queue ticket they held when applying; a moved-on ticket is stale.
    queue: deque[tuple[Migrant, int]] = field(default_factory=deque)

    def waiting(self) -> list[Migrant]:
        return [m for m, ticket in self.queue if m.still_queued(ticket, m.origin)]


class Authority(Wallet, mesa.Agent):
    model: RouteModel

    def __init__(
        self, model: RouteModel, country: str, detention_days: int, visa_free_for: frozenset[str]
    ) -> None:
        super().__init__(model)
        self.country = country
        self.detention_days = detention_days
        self.visa_free_for = visa_free_for
        self.quotas: dict[str, Quota] = {}
        self.cash = 0.0

    # --- enforcement ------------------------------------------------------------------------------

    def interception_chance(self, leg: int, detection: float) -> float:
        return self.model.conditions.interception(leg, detection)

    def intercept(self, migrants: list[Migrant], leg: int) -> None:
        """Stop the people of one trip and do with them what this state is reported to do
        (`interceptions.csv`): take them back to where the leg began, to a detention centre
        (Libyan pullbacks) or far from the coast (Moroccan displacement), and hold them."""
        model = self.model
        place, days = model.sent_to(leg)
        group = model.armed_group_at(place) if days > 0 else None
        onward = place == model.leg_dst[leg]  # taken where it was going (an expulsion south)
        for migrant in migrants:
            if onward:
                migrant.cross(place)
            else:
                migrant.node = place
                migrant.remember(leg, CAUGHT)
            if days <= 0:
                migrant.sleep(1, WAITING)
                continue
            held = days
            if group is not None and group.extort(migrant):
                held = max(1, days // 2)  # paying buys an earlier release
            migrant.detain(held)

    # --- legal pathways ---------------------------------------------------------------------------

    def open_quota(self, nationality: str, per_year: int, destination: int) -> None:
        quota = self.quotas.get(nationality)
        if quota is None:
            self.quotas[nationality] = Quota(per_year / 365.0, destination)
        else:
            quota.per_day, quota.destination = per_year / 365.0, destination

    def close_quota(self, nationality: str) -> list[Migrant]:
        """End a quota; returns those still waiting, who must decide again."""
        quota = self.quotas.pop(nationality, None)
        return [] if quota is None else quota.waiting()

    def expected_wait(self, nationality: str) -> float | None:
        quota = self.quotas.get(nationality)
        if quota is None or quota.per_day <= 0:
            return None
        return (len(quota.queue) + 1) * self.model.scale / quota.per_day

    def step(self) -> None:
        """Issue the day's visas to those queued; unused visas lapse after a month."""
        scale = self.model.scale
        for quota in self.quotas.values():
            if self.model.day % 30 == 0:  # drop applicants who gave up or left, so waits are right
                quota.queue = deque((m, t) for m, t in quota.queue if m.still_queued(t, m.origin))
            quota.accrued = min(quota.accrued + quota.per_day, max(scale, 30 * quota.per_day))
            while quota.queue and quota.accrued >= scale:
                migrant, ticket = quota.queue.popleft()
                if migrant.still_queued(ticket, migrant.origin):
                    quota.accrued -= scale
                    self.model.grant_visa(migrant, quota.destination)

"""Leg conditions: what the policy timeline changes on each leg, and what follows for a crossing.

The network (locations, legs, reported fees) never changes during a run; enforcement, search and
rescue, corruption, armed control and visa regimes do. They live here as one array per condition,
indexed by leg, written by policies and read by authorities, smugglers and trips.
"""

from __future__ import annotations

import numpy as np

from routesim.network import RouteNetwork
from routesim.scenario import AuthorityParams

NO_GROUP = -1
CHANGEABLE = ("enforcement", "search_and_rescue", "corruption", "armed_control", "visa_free")


class LegConditions:
    def __init__(self, network: RouteNetwork, authorities: AuthorityParams) -> None:
        legs, n = network.legs, network.n_legs
        corruption = dict(
            zip(network.countries["iso3"], network.countries["corruption"], strict=True)
        )
        self._params = authorities
        self._is_sea = (legs["mode"] == "sea").to_numpy()
        self.base_hazard = legs["base_hazard"].to_numpy()
        self._sar_base = legs["search_and_rescue"].to_numpy()
        self.enforcement = legs["enforcement"].to_numpy().copy()
        self.search_and_rescue = self._sar_base.copy()
        self.corruption = np.array(legs["from_country"].map(corruption), dtype=float)
        self.armed_control = np.zeros(n)
        self.armed_owner = np.full(n, NO_GROUP)  # index of the group holding the leg
        self.right_of_way = np.zeros(n)  # EUR per person at full control
        self.visa_free = np.ones(n, dtype=bool)  # air legs: regular entry for listed nationalities

    def set(self, legs: np.ndarray, condition: str, value: float | bool) -> None:
        if condition not in CHANGEABLE:
            raise KeyError(condition)
        getattr(self, condition)[legs] = value

    def hazard_now(self, leg: int) -> float:
        """Per-person death risk of a standard trip, given today's search and rescue."""
        base = self.base_hazard[leg]
        if not self._is_sea[leg]:
            return float(base)
        unrescued = (1 - self.search_and_rescue[leg]) / max(0.05, 1 - self._sar_base[leg])
        return float(base * unrescued)

    def bribe_leak(self, leg: int, access: float) -> float:
        """Share of enforcement that the bribes of a smuggler with this `access` neutralise."""
        return float(self.corruption[leg] * self._params.bribe_efficacy * access)

    def bribe_asked(self, leg: int) -> float:
        """What officials on the leg ask per person to look away (more where more are corrupt)."""
        return float(self.corruption[leg] * self._params.bribe_eur_per_person)

    def right_of_way_per_person(self, leg: int) -> float:
        if self.armed_owner[leg] == NO_GROUP:
            return 0.0
        return float(self.armed_control[leg] * self.right_of_way[leg])

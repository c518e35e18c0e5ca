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
# What else the per-leg lists are computed from (fixed, or changed only by `give`).
DERIVED_FROM = ("armed_owner", "right_of_way", "base_hazard", "_sar_base", "efficiency")


class LegConditions:
    def __init__(self, network: RouteNetwork, authorities: AuthorityParams) -> None:
        legs, n = network.legs, network.n_legs
        corruption = dict(
            zip(network.countries["iso3"], network.countries["corruption"], strict=True)
        )
        self._params = authorities
        self._is_sea = (legs["mode"] == "sea").to_numpy()
        self.base_hazard = legs["base_hazard"].to_numpy().copy()
        self._sar_base = legs["search_and_rescue"].to_numpy().copy()
        self.enforcement = legs["enforcement"].to_numpy().copy()
        self.search_and_rescue = self._sar_base.copy()
        self.corruption = np.array(legs["from_country"].map(corruption), dtype=float)
        self.armed_control = np.zeros(n)
        self.armed_owner = np.full(n, NO_GROUP)  # index of the group holding the leg
        self.right_of_way = np.zeros(n)  # EUR per person at full control
        self.visa_free = np.ones(n, dtype=bool)  # air legs: regular entry for listed nationalities
        # How much of the enforcement on a leg actually stops people, by its mode (a parameter).
        self.efficiency = np.array([authorities.interception_efficiency[m] for m in legs["mode"]])
        for name in (*CHANGEABLE, *DERIVED_FROM):
            getattr(self, name).flags.writeable = False
        self.version = 0  # counts changes, so that what is derived from them can be kept
        self._refresh()

    def set(self, legs: np.ndarray, condition: str, value: float | bool | np.ndarray) -> None:
        if condition not in CHANGEABLE:
            raise KeyError(condition)
        self._write(condition, legs, value)
        self._refresh()

    def give(self, leg: int, owner: int, control: float, right_of_way: float) -> None:
        """Put a leg under an armed group's control (`owner`: its index)."""
        self._write("armed_owner", leg, owner)
        self._write("armed_control", leg, control)
        self._write("right_of_way", leg, right_of_way)
        self._refresh()

    def _write(self, name: str, legs: np.ndarray | int, value: float | bool) -> None:
        """The one way to change a condition: the arrays are read-only elsewhere, so that the
        lists `_refresh` derives from them can never go stale. A changed copy replaces the
        array (a read-only array restored from a saved model cannot be made writable)."""
        array = getattr(self, name).copy()
        array[legs] = value
        array.flags.writeable = False
        setattr(self, name, array)

    def _refresh(self) -> None:
        """Per-leg values as plain lists, rebuilt whenever a policy changes a leg: they are read
        once per trip or price in scalar code, where indexing a numpy array costs more than the
        arithmetic. Each is computed elementwise in the same order as a scalar formula would,
        so that results stay the same to the last bit."""
        self.version += 1
        unrescued = (1 - self.search_and_rescue) / np.maximum(0.05, 1 - self._sar_base)
        hazard = np.where(self._is_sea, self.base_hazard * unrescued, self.base_hazard)
        self._hazard: list[float] = hazard.tolist()
        self._caught: list[float] = (self.enforcement * self.efficiency).tolist()
        self._enforcement: list[float] = self.enforcement.tolist()
        self._leak_per_access: list[float] = (
            self.corruption * self._params.bribe_efficacy
        ).tolist()
        self._bribe_asked: list[float] = (
            self.corruption * self._params.bribe_eur_per_person
        ).tolist()
        held = (self.armed_owner != NO_GROUP).tolist()
        self._armed_control: list[float] = self.armed_control.tolist()
        self._holder: list[int] = [
            owner if owner != NO_GROUP and control > 0 else NO_GROUP
            for owner, control in zip(self.armed_owner.tolist(), self._armed_control, strict=True)
        ]
        self._visa_free: list[bool] = self.visa_free.tolist()
        self._toll: list[float] = [
            c * r if h else 0.0
            for c, r, h in zip(self._armed_control, self.right_of_way.tolist(), held, strict=True)
        ]

    def hazard_now(self, leg: int) -> float:
        """Per-person death risk of a standard trip, given today's search and rescue."""
        return self._hazard[leg]

    def interception(self, leg: int, detection: float) -> float:
        """Chance that the authority stops a trip this visible (1: a standard one) on `leg`."""
        return min(1.0, self._caught[leg] * detection)

    def enforcement_on(self, leg: int) -> float:
        """Today's enforcement on `leg` (0..1), before the mode's interception efficiency."""
        return self._enforcement[leg]

    def armed_control_on(self, leg: int) -> float:
        """How firmly an armed group holds `leg` (0: nobody)."""
        return self._armed_control[leg]

    def holder_on(self, leg: int) -> int:
        """Index of the armed group holding `leg`, NO_GROUP if none holds it."""
        return self._holder[leg]

    def visa_free_on(self, leg: int) -> bool:
        """Whether listed nationalities may board flights on `leg` without a visa today."""
        return self._visa_free[leg]

    def bribe_leak(self, leg: int, access: float) -> float:
        """Share of enforcement that the bribes of a smuggler with this `access` neutralise."""
        return self._leak_per_access[leg] * access

    def bribe_asked(self, leg: int) -> float:
        """What officials on the leg ask per person to look away (more where more are corrupt)."""
        return self._bribe_asked[leg]

    def right_of_way_per_person(self, leg: int) -> float:
        return self._toll[leg]

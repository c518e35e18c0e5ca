"""What migrants know: outcomes of others' crossings, heard about after a delay.

News travels through phone calls and social media among people on the move. Each leg keeps two
boards (travelling alone, travelling with a smuggler) of recent departures, deaths, interceptions,
abuses and fees paid. An outcome recorded on day t is heard on day t + delay; older news fades with
the memory time. Perceived risks are these rates shrunk towards a prior that reflects the leg's
reputation at the start (its base hazard and enforcement), so a leg nobody used is not thought safe.
"""

from __future__ import annotations

import numpy as np

SELF, SMUGGLED = 0, 1
DEPARTED, DIED, INTERCEPTED, ABUSED, FEES = range(5)
PRIOR_PEOPLE = 200.0  # weight of the prior, in people: a few boats' worth of news


class Information:
    def __init__(
        self,
        n_legs: int,
        delay_days: int,
        memory_days: int,
        prior_death: np.ndarray,
        prior_intercept: np.ndarray,
        prior_abuse: np.ndarray,
        prior_fee: np.ndarray,
    ) -> None:
        self._pending = np.zeros((delay_days + 1, n_legs, 2, 5))
        self._today = [0.0] * self._pending[0].size  # flat (leg, channel, event): see record
        self._board = np.zeros((n_legs, 2, 5))
        self._decay = float(np.exp(-1.0 / memory_days))
        self._prior = np.stack([prior_death, prior_intercept, prior_abuse], axis=-1)  # (L, 2, 3)
        self._prior_fee = prior_fee
        self.day = 0

    def record(
        self,
        leg: int,
        channel: int,
        people: float,
        died: float = 0.0,
        intercepted: float = 0.0,
        abused: float = 0.0,
        fees: float = 0.0,
    ) -> None:
        """Note what happened on a trip today (people, deaths, ... ; fees as a total in EUR)."""
        # Plain floats in a flat list: one call per trip, and numpy's scalar updates cost more
        # than the sums.
        today, at = self._today, (leg * 2 + channel) * 5
        today[at + DEPARTED] += people
        today[at + DIED] += died
        today[at + INTERCEPTED] += intercepted
        today[at + ABUSED] += abused
        today[at + FEES] += fees

    def advance(self) -> None:
        """End of day: let old news fade and today's-minus-delay news arrive."""
        pending = self._pending[self.day % len(self._pending)]
        pending.flat[:] = self._today
        self._today = [0.0] * pending.size
        self.day += 1
        slot = self.day % len(self._pending)
        self._board *= self._decay
        self._board += self._pending[slot]  # the slot is overwritten when today is over

    def perceived_risks(self) -> np.ndarray:
        """(legs, channels, 3): perceived chance of death, interception, abuse per crossing."""
        people = self._board[:, :, DEPARTED, None]
        events = self._board[:, :, DIED : ABUSED + 1]
        return (PRIOR_PEOPLE * self._prior + events) / (PRIOR_PEOPLE + people)

    def perceived_fee(self) -> np.ndarray:
        """(legs,): the smuggling fee people hear is being paid on each leg."""
        paid = self._board[:, SMUGGLED, FEES]
        people = self._board[:, SMUGGLED, DEPARTED]
        return (PRIOR_PEOPLE * self._prior_fee + paid) / (PRIOR_PEOPLE + people)

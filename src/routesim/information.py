"""What migrants know: outcomes of others' crossings, heard of after a delay, among compatriots.

News travels by phone and social media, mostly within a network of origin (here: a nationality),
a share of it beyond. Each network keeps, per leg and channel (alone, with a smuggler), a board of
recent departures, deaths, interceptions, abuses and fees paid: an outcome recorded on day t is
heard on day t + delay, and older news fades over the memory time. A perceived rate is the news
weighed against the leg's reputation (`prior_people` people's worth), and the reputation follows
the perceived rate over the same memory time. So a leg nobody uses keeps the reputation it last
had, and a policy reaches beliefs only through the outcomes it causes, the same way whether it
starts on day 0 or mid-run: the starting reputation comes from the network data, never from the
policies in force.

A person's own experience weighs more than hearsay: see `personal`.
"""

from __future__ import annotations

from array import array

import numpy as np

SELF, SMUGGLED = 0, 1
DEPARTED, DIED, INTERCEPTED, ABUSED, FEES = range(5)
EVENTS = 5


class Information:
    def __init__(
        self,
        n_networks: int,
        n_legs: int,
        delay_days: int,
        memory_days: int,
        prior_people: float,
        spillover: float,
        prior_risks: np.ndarray,
        prior_fee: np.ndarray,
    ) -> None:
        """`prior_risks` (legs, channels, 3): the starting reputation of each leg's death,
        interception and abuse risk; `prior_fee` (legs,): of its smuggling fee."""
        self.n_legs = n_legs
        self._pending = np.zeros((delay_days + 1, n_networks, n_legs, 2, EVENTS))
        # flat (network, leg, channel, event), float64 like the arrays it is copied into
        self._zeros = array("d", bytes(self._pending[0].nbytes))
        self._today = array("d", self._zeros)
        self._board = np.zeros((n_networks, n_legs, 2, EVENTS))
        self._rate = 1.0 / memory_days
        self._decay = float(np.exp(-self._rate))
        self._prior_people = prior_people
        self._spillover = spillover
        self._reputation = np.broadcast_to(prior_risks, (n_networks, n_legs, 2, 3)).copy()
        self._fee_reputation = np.asarray(prior_fee, dtype=float).copy()
        self.day = 0
        self._update_beliefs()

    def record(
        self,
        network: int,
        leg: int,
        channel: int,
        people: float,
        died: float = 0.0,
        intercepted: float = 0.0,
        abused: float = 0.0,
        fees: float = 0.0,
    ) -> None:
        """Note what happened today to people of one network on a trip (fees: a total in EUR)."""
        # Plain floats in a flat array: numpy's scalar updates cost more than the sums.
        today, at = self._today, ((network * self.n_legs + leg) * 2 + channel) * EVENTS
        today[at + DEPARTED] += people
        today[at + DIED] += died
        today[at + INTERCEPTED] += intercepted
        today[at + ABUSED] += abused
        today[at + FEES] += fees

    def advance(self) -> None:
        """End of day: old news fades, the news of `delay` days ago arrives, beliefs follow."""
        pending = self._pending[self.day % len(self._pending)]
        pending.flat[:] = np.frombuffer(self._today)
        self._today = array("d", self._zeros)
        self.day += 1
        slot = self.day % len(self._pending)
        self._board *= self._decay
        self._board += self._pending[slot]  # the slot is overwritten when today is over
        self._update_beliefs()
        self._reputation += self._rate * (self._risks - self._reputation)
        self._fee_reputation += self._rate * (self._fee - self._fee_reputation)

    def _update_beliefs(self) -> None:
        board = self._board
        if self._spillover > 0:
            board = (1 - self._spillover) * board + self._spillover * board.sum(axis=0)
        people = board[..., DEPARTED, None]
        w = self._prior_people
        self._risks = (w * self._reputation + board[..., DIED : ABUSED + 1]) / (w + people)
        paid = self._board[:, :, SMUGGLED, FEES].sum(axis=0)
        smuggled = self._board[:, :, SMUGGLED, DEPARTED].sum(axis=0)
        self._fee = (w * self._fee_reputation + paid) / (w + smuggled)

    def perceived_risks(self) -> np.ndarray:
        """(networks, legs, channels, 3): perceived chance of death, interception, abuse."""
        return self._risks

    def heard_crossings(self) -> np.ndarray:
        """(networks, legs): people of each network heard of getting across each leg lately
        (set off, and neither died, were stopped nor abused on it), by their own compatriots'
        news alone: which routes a network knows to lead somewhere. Not departures: where
        patrols return people who try again, departures rise as fewer get through."""
        board = self._board.sum(axis=2)
        return board[..., DEPARTED] - board[..., DIED : ABUSED + 1].sum(axis=-1)

    def perceived_fee(self) -> np.ndarray:
        """(legs,): the smuggling fee people hear is being paid on each leg (all networks)."""
        return self._fee


def personal(heard: float, own_events: float, hearsay_weight: float, own_weight: float) -> float:
    """A chance as one person perceives it: what it heard (worth `hearsay_weight` crossings)
    against its own crossings of the leg that ended in the event (`own_events`, each worth
    `own_weight` crossings heard of). Only failures are remembered: one's own crossings that went
    well are behind one."""
    if own_events == 0:
        return heard
    own = own_weight * own_events
    return (hearsay_weight * heard + own) / (hearsay_weight + own)

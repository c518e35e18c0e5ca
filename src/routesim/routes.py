"""Route plans: candidate paths from every location to Europe, and what going back costs.

A migrant chooses a whole route (legs to a destination), follows it and revises it on events.
Searching paths per person would cost a shortest-path search per decision; instead every location
gets its candidates once per network: each leg out of it, then the cheapest way on under a
policy-free reference cost (the reported price, time and the leg's base death risk) to each
crossing into Europe. Each day the model re-scores them with what people believe
(`RouteModel._plan`), and each person adds its own experience (`Migrant`). Policies never change
the candidates, only their scores: a patrolled coast stays on the menu, dearer, and the road back
or sideways is on it too.

A person weighs crossings, not listed routes (`migrant.nested_pick`): each crossing by its
cheapest route today, so that how many ways to a crossing are listed does not weigh on whether
it is chosen.

The route table is closed under suffixes: the rest of a route after its first leg is a route of
its own (`onward`), so a person moving along its plan holds a route id at every step.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from routesim.network import ROUTES, RouteNetwork

T = TypeVar("T")
NO_ROUTE = -1  # the route after a route's last leg: none
# Where a person's persistent taste for each option lies in its taste vector (`Migrant.taste`):
# one per corridor (by its index in ROUTES), going home, a legal pathway, crossing a leg alone
# and with a smuggler; then one per coast and one per crossing (`RoutePlans.coast_taste`, ...).
HOME_TASTE, LEGAL_TASTE = len(ROUTES), len(ROUTES) + 1
CHANNEL_TASTE = len(ROUTES) + 2  # + channel (SELF, SMUGGLED)
FIRST_PLACE_TASTE = len(ROUTES) + 4


def reference_price(network: RouteNetwork) -> np.ndarray:
    """What a leg costs per person before any policy or market: with a smuggler where one is
    needed (twice the smuggler's cost per seat: a typical markup), alone otherwise. Not the
    reported fees: those are what the calibration fits the market's fees to."""
    legs = network.legs
    needed = legs["smuggler_needed"].to_numpy()
    smuggled = 2 * legs["smuggler_cost_eur"].to_numpy()
    return needed * smuggled + (1 - needed) * legs["self_cost_eur"].to_numpy()


@dataclass(slots=True)
class Menu:
    """A location's candidate routes as one row (network of origin x risk class) sees them
    today, one entry per candidate in `RoutePlans.candidates` order."""

    routes: list[int]  # the candidates' route ids
    crossings: list[int]  # and the crossing each ends on
    alone_from: list[float]  # the skill from which the row's people cross the first leg alone
    levels: list[float]  # the distinct finite values of `alone_from`, in order
    alone: list[float]  # the route's cost for one who crosses the first leg alone
    smuggled: list[float]  # and for one who cannot
    _by_level: dict[int, list[float]] = field(init=False, default_factory=dict)
    _crossings_by_level: dict[int, tuple[dict[int, float], dict[int, int]]] = field(
        init=False, default_factory=dict
    )
    _shared: dict[tuple[str, int], Any] = field(init=False, default_factory=dict)

    def costs(self, skill: float) -> list[float]:
        """Each route's cost for a person of `skill`: alone where it can cross the first leg
        alone, else with a smuggler. People whose skill clears the same thresholds see the same
        costs, so each such list is built once a day and shared: copy it to change it."""
        level = bisect.bisect_right(self.levels, skill)
        costs = self._by_level.get(level)
        if costs is None:
            costs = self._by_level[level] = [
                a if skill >= t else c
                for t, a, c in zip(self.alone_from, self.alone, self.smuggled, strict=True)
            ]
        return costs

    def by_crossing(self, skill: float) -> tuple[dict[int, float], dict[int, int]]:
        """`cheapest_by_crossing` of `costs(skill)`, shared in the same way."""
        level = bisect.bisect_right(self.levels, skill)
        best = self._crossings_by_level.get(level)
        if best is None:
            best = self._crossings_by_level[level] = cheapest_by_crossing(
                self.routes, self.crossings, self.costs(skill)
            )
        return best

    def shared(self, what: str, skill: float, build: Callable[[], T]) -> T:
        """Whatever else people of one skill level see alike today (`what` names it: the
        nested choice's tree, the first legs' prices), built by `build` once and shared."""
        key = (what, bisect.bisect_right(self.levels, skill))
        value = self._shared.get(key)
        if value is None:
            value = self._shared[key] = build()
        return value


def cheapest_by_crossing(
    routes: list[int], crossings: list[int], costs: list[float]
) -> tuple[dict[int, float], dict[int, int]]:
    """By crossing: the least of `costs` among the `routes` ending on it, and that route (the
    first listed among equals). Unreachable crossings (infinite costs) are left out."""
    least: dict[int, float] = {}
    via: dict[int, int] = {}
    for route, crossing, cost in zip(routes, crossings, costs, strict=True):
        if cost < least.get(crossing, math.inf):
            least[crossing], via[crossing] = cost, route
    return least, via


class Layout(NamedTuple):
    """`RoutePlans.nests_of`: the corridors listed, each corridor's coasts with their
    crossings, and where each crossing lies (corridor, coast), by position."""

    corridors: list[int]
    groups: list[list[tuple[int, list[int]]]]
    place: dict[int, tuple[int, int]]


@dataclass(frozen=True, eq=False)
class RoutePlans:
    """Candidate routes by location, each a tuple of leg indices ending at a destination."""

    legs: list[tuple[int, ...]]  # by route id
    leg_sets: list[frozenset[int]]  # the same, for membership tests
    first_leg: list[int]
    crossing: list[int]  # by route id: its last leg, into Europe
    coast: list[int]  # by route id: the location its crossing leaves from
    corridor: list[int]  # by route id: its crossing's corridor, an index into `ROUTES`
    onward: list[int]  # route id of the rest after the first leg (NO_ROUTE after the last)
    candidates: list[list[int]]  # by location: the route ids a person there chooses among
    # by location: route id -> its place among the candidates, and leg -> the places of the
    # candidates that use it (a person's own failures on a leg weigh on those routes)
    position: list[dict[int, int]]
    through: list[dict[int, list[int]]]
    incidence: csr_matrix  # (routes, legs): 1 where a route uses a leg
    travel_cost: np.ndarray  # (locations, locations): reference cost of the cheapest way a -> b
    # where a person's taste for each coast (by location) and crossing (by leg) lies in its
    # taste vector, and the vector's length
    coast_taste: dict[int, int]
    crossing_taste: dict[int, int]
    n_tastes: int
    # `nests_of`'s answers, by the crossings in the order they are listed
    _nests: dict[tuple[int, ...], Layout] = field(default_factory=dict, repr=False)

    @property
    def n_routes(self) -> int:
        return len(self.legs)

    def nests_of(self, via: dict[int, int]) -> Layout:
        """The crossings of a per-crossing summary (`via`: crossing -> its route) grouped by
        corridor, then coast, each in the order first listed: the nested choice's tree without
        its costs. A crossing's coast and corridor are its own, whichever route ends on it, so
        the grouping depends only on which crossings are listed and in what order; it is built
        once per such list."""
        key = tuple(via)
        layout = self._nests.get(key)
        if layout is None:
            corridors: dict[int, dict[int, list[int]]] = {}  # corridor -> coast -> crossings
            for crossing, route in via.items():
                corridors.setdefault(self.corridor[route], {}).setdefault(
                    self.coast[route], []
                ).append(crossing)
            groups = [list(coasts.items()) for coasts in corridors.values()]
            place = {
                c: (k, j) for k, g in enumerate(groups) for j, (_, cs) in enumerate(g) for c in cs
            }
            layout = self._nests[key] = Layout(list(corridors), groups, place)
        return layout


def build_plans(network: RouteNetwork, leg_cost: np.ndarray) -> RoutePlans:
    """Candidate routes from every location: for each leg out of it and each crossing into
    Europe, that leg, then the cheapest way under `leg_cost` (one reference cost per leg) to the
    crossing's coast, never coming back through the location, then the crossing. Every first
    step and every crossing it leads to is on the menu, so a person can always go on, sideways
    or back, and weigh any crossing it can reach; every suffix is added as a route."""
    legs = network.legs
    src, dst = legs["src"].to_numpy(), legs["dst"].to_numpy()
    n = network.n_locations
    weights = csr_matrix((np.maximum(leg_cost, 1e-6), (src, dst)), shape=(n, n))
    dist = dijkstra(weights, directed=True)
    leg_of = {
        (a, b): leg for leg, (a, b) in enumerate(zip(src.tolist(), dst.tolist(), strict=True))
    }
    is_destination = set(network.destinations().tolist())
    crossings = np.flatnonzero(np.isin(dst, list(is_destination))).tolist()
    ids: dict[tuple[int, ...], int] = {}
    routes: list[tuple[int, ...]] = []

    def add(route: tuple[int, ...]) -> int:
        """The route's id, adding it and every suffix of it first."""
        if route not in ids:
            if len(route) > 1:
                add(route[1:])
            ids[route] = len(routes)
            routes.append(route)
        return ids[route]

    def cheapest(pred: np.ndarray, a: int, b: int) -> list[int]:
        """Locations on the cheapest way from a to b (predecessors from a), a and b included."""
        nodes = [b]
        while nodes[-1] != a:
            nodes.append(int(pred[nodes[-1]]))
        return nodes[::-1]

    candidates: list[list[int]] = [[] for _ in range(n)]
    for here in range(n):
        if here in is_destination:
            continue
        found = set()
        out = network.out_legs[here].tolist()
        # The ways on from each next place, never back through here.
        around = weights.tolil()
        around[here, :] = 0
        around[:, here] = 0
        starts = [int(dst[leg]) for leg in out]
        far, back = dijkstra(
            around.tocsr(), directed=True, indices=starts, return_predecessors=True
        )
        for k, leg in enumerate(out):
            there = starts[k]
            if there in is_destination:
                found.add(add((leg,)))
                continue
            for crossing in crossings:
                coast = int(src[crossing])
                if coast == here or not np.isfinite(far[k, coast]):
                    continue
                nodes = cheapest(back[k], there, coast)
                way = tuple(leg_of[ab] for ab in itertools.pairwise(nodes))
                found.add(add((leg, *way, crossing)))
        candidates[here] = sorted(found)
    onward = [ids[r[1:]] if len(r) > 1 else NO_ROUTE for r in routes]
    rows = np.repeat(np.arange(len(routes)), [len(r) for r in routes])
    cols = np.fromiter(itertools.chain.from_iterable(routes), dtype=np.intp)
    incidence = csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(routes), network.n_legs))
    coasts = sorted({int(src[c]) for c in crossings})
    coast_taste = {node: FIRST_PLACE_TASTE + i for i, node in enumerate(coasts)}
    first_crossing = FIRST_PLACE_TASTE + len(coasts)
    crossing_taste = {leg: first_crossing + i for i, leg in enumerate(crossings)}
    return RoutePlans(
        legs=routes,
        leg_sets=[frozenset(r) for r in routes],
        first_leg=[r[0] for r in routes],
        crossing=[r[-1] for r in routes],
        coast=[int(src[r[-1]]) for r in routes],
        corridor=[ROUTES.index(legs["route"].iat[r[-1]]) for r in routes],
        onward=onward,
        candidates=candidates,
        position=[{r: i for i, r in enumerate(c)} for c in candidates],
        through=[_places_through(c, routes) for c in candidates],
        incidence=incidence,
        travel_cost=dist,
        coast_taste=coast_taste,
        crossing_taste=crossing_taste,
        n_tastes=first_crossing + len(crossings),
    )


def _places_through(candidates: list[int], routes: list[tuple[int, ...]]) -> dict[int, list[int]]:
    """Leg -> the places in `candidates` of the routes that use it."""
    places: dict[int, list[int]] = {}
    for i, route in enumerate(candidates):
        for leg in dict.fromkeys(routes[route]):
            places.setdefault(leg, []).append(i)
    return places

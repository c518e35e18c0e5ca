"""Route plans: the candidate routes every location offers, and what they cost each day."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from routesim import RouteModel
from routesim.agents.migrant import HOME, Migrant, nested_pick
from routesim.routes import FIRST_PLACE_TASTE, NO_ROUTE, RoutePlans, cheapest_by_crossing

from .conftest import small


@pytest.fixture(scope="module")
def model() -> RouteModel:
    model = RouteModel(small(warmup_days=0))
    model.step()
    return model


def test_every_candidate_is_a_path_to_europe_and_every_rest_a_route(model: RouteModel) -> None:
    plans, legs = model.plans, model.network.legs
    src, dst = legs["src"].tolist(), legs["dst"].tolist()
    for route, path in enumerate(plans.legs):
        assert all(dst[a] == src[b] for a, b in itertools.pairwise(path)), route
        places = [src[path[0]], *(dst[leg] for leg in path)]
        assert len(set(places)) == len(places)  # never twice through one place
        assert model.is_destination[places[-1]]
        onward = plans.onward[route]
        assert (onward == NO_ROUTE) == (len(path) == 1)
        if onward != NO_ROUTE:
            assert plans.legs[onward] == path[1:]
    for node, routes in enumerate(plans.candidates):
        assert bool(routes) != model.is_destination[node]  # a way on from every place
        assert all(model.route_start[r] == node for r in routes)


def test_each_origin_offers_more_than_one_corridor_and_the_road_back(model: RouteModel) -> None:
    plans, route_of = model.plans, model.leg_route
    for origin in ("Bamako", "Dakar", "Niamey", "Abidjan"):
        node = model.network.index[origin]
        corridors = {route_of[plans.legs[r][-1]] for r in plans.candidates[node]}
        assert {"central", "western", "atlantic"} <= corridors, origin
    tangier = model.network.index["Tangier"]
    back = model.network.leg_index[("Tangier", "Casablanca")]
    assert any(plans.first_leg[r] == back for r in plans.candidates[tangier])


def test_a_menu_costs_each_route_alone_where_skill_and_papers_allow(model: RouteModel) -> None:
    """The day's menu gives each person the cost of crossing a route's first leg alone where its
    skill and nationality let it, else with a smuggler; people of one skill level share it."""
    node = model.network.index["Agadez"]
    row = 1
    menu = model.menu(row, node)
    nationality = model.networks[row // len(model._risk_weight)]
    routes = model.plans.candidates[node]
    for skill in np.linspace(0.0, 0.999, 41):
        rule = [
            menu.alone[i]
            if model.can_go_alone(model.plans.first_leg[r], _Person(skill, nationality))
            else menu.smuggled[i]
            for i, r in enumerate(routes)
        ]
        assert menu.costs(float(skill)) == rule
    low, high = menu.levels[0], menu.levels[1]
    assert menu.costs(low) is menu.costs((low + high) / 2)  # one list per level


def test_every_menu_reaches_every_crossing_that_can_be_reached(model: RouteModel) -> None:
    """Each crossing into Europe is on the menu of every place that can reach its coast:
    Casablanca's people can weigh Laayoune's boats as well as Tangier's, not only the coast the
    reference cost favours for the corridor."""
    plans, net = model.plans, model.network
    crossings = set(plans.crossing)
    src = net.legs["src"].to_numpy()
    for node, routes in enumerate(plans.candidates):
        if model.is_destination[node]:
            continue
        reach = {
            c for c in crossings if src[c] == node or np.isfinite(plans.travel_cost[node, src[c]])
        }
        assert {plans.crossing[r] for r in routes} == reach, net.locations["name"].iat[node]
    casablanca = net.index["Casablanca"]
    assert net.index["Laayoune"] in {plans.coast[r] for r in plans.candidates[casablanca]}


@pytest.mark.parametrize("corridor_spread", [500.0, 250.0], ids=["no-nest", "corridor-nest"])
def test_a_crossing_counts_once_however_many_ways_to_it_are_listed(corridor_spread: float) -> None:
    """Crossings are weighed by their cheapest route: listing dearer ways to one changes
    nothing, and choices follow the nested logit (migrating, corridor, coast, crossing, each
    nest by its logsum), with or without a nest of the corridors below the top."""
    routes, crossings, costs = [0, 1, 2, 3], [20, 21, 22, 23], [1000.0, 1300.0, 1500.0, 900.0]
    least, via = cheapest_by_crossing(routes, crossings, costs)
    more = cheapest_by_crossing([*routes, 4, 5], [*crossings, 20, 20], [*costs, 1200.0, 1000.0])
    assert more == (least, via)
    assert least == dict(zip(crossings, costs, strict=True))
    # Routes 0 and 1 cross from coast 10, route 2 from coast 11 (one corridor), route 3 from
    # coast 12 in another corridor.
    plans = _Nests(coast=[10, 10, 11, 12], corridor=[0, 0, 0, 1])
    spreads, home = (500.0, corridor_spread, 200.0, 150.0), 1100.0
    rng = np.random.default_rng(3)
    n = 40_000
    tastes = rng.gumbel(size=(n, plans.n_tastes)).tolist()  # a new person each time
    picks = [nested_pick(least, via, plans, [(HOME, home)], spreads, t) for t in tastes]
    share = {k: picks.count(k) / n for k in (0, 1, 2, 3, HOME)}

    def logsum(c: np.ndarray, spread: float) -> float:
        return float(-spread * np.log(np.exp(-c / spread).sum()))

    def logit(c: np.ndarray, spread: float) -> np.ndarray:
        w = np.exp(-(c - c.min()) / spread)
        return w / w.sum()

    top, corridor, coast, crossing = spreads
    in_coast = logit(np.array([1000.0, 1300.0]), crossing)
    coasts = np.array([logsum(np.array([1000.0, 1300.0]), crossing), 1500.0])
    in_corridor = logit(coasts, coast)
    corridors = np.array([logsum(coasts, coast), 900.0])
    in_migrating = logit(corridors, corridor)
    upper = logit(np.array([logsum(corridors, corridor), home]), top)
    expected = {
        0: upper[0] * in_migrating[0] * in_corridor[0] * in_coast[0],
        1: upper[0] * in_migrating[0] * in_corridor[0] * in_coast[1],
        2: upper[0] * in_migrating[0] * in_corridor[1],
        3: upper[0] * in_migrating[1],
        HOME: upper[1],
    }
    for k, p in expected.items():
        assert share[k] == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / n)), k


class _Nests:
    """The parts of `RoutePlans` that `nested_pick` reads (its own `nests_of`), for routes 0..
    ending on crossings 20.. (route i on crossing 20 + i) from the coasts given."""

    def __init__(self, coast: list[int], corridor: list[int]) -> None:
        self.coast, self.corridor = coast, corridor
        self.coast_taste = {c: FIRST_PLACE_TASTE + i for i, c in enumerate(sorted(set(coast)))}
        first = FIRST_PLACE_TASTE + len(self.coast_taste)
        self.crossing_taste = {20 + i: first + i for i in range(len(coast))}
        self.n_tastes = first + len(coast)
        self._nests: dict = {}

    nests_of = RoutePlans.nests_of


def test_a_persons_tastes_last_so_it_switches_only_for_a_clear_gain() -> None:
    """Each person keeps its own tastes from one decision to the next: the same costs give it
    the same choice every time, and a corridor grown dearer loses only the people whose taste
    for it was within the rise, not a fresh draw of everyone (no wandering on noise)."""
    routes, crossings = [0, 1, 2], [20, 21, 22]
    plans = _Nests(coast=[10, 11, 12], corridor=[0, 1, 2])
    spreads = (1000.0, 1000.0, 300.0, 100.0)
    rng = np.random.default_rng(5)
    people = rng.gumbel(size=(4000, plans.n_tastes)).tolist()

    def choices(costs: list[float]) -> list[int]:
        least, via = cheapest_by_crossing(routes, crossings, costs)
        home = [(HOME, 5000.0)]
        return [nested_pick(least, via, plans, home, spreads, t) for t in people]

    before = choices([1000.0, 1500.0, 2000.0])
    assert choices([1000.0, 1500.0, 2000.0]) == before  # no fresh noise
    after = choices([1300.0, 1500.0, 2000.0])  # the first corridor 300 EUR dearer
    moved = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert moved and all(b == 0 for b, _ in moved)  # only its people move, and only some
    share_before, share_after = before.count(0) / len(people), after.count(0) / len(people)
    assert len(moved) == pytest.approx((share_before - share_after) * len(people))


def test_own_failures_reprice_only_the_crossings_they_touch() -> None:
    """The hot path (the day's per-crossing summary, with only the crossings of routes through
    legs one failed on looked at again) gives what weighing every route with them gives."""
    model = RouteModel(small(warmup_days=0))
    for _ in range(120):
        model.step()
    people = [
        a for a in model.agents_by_type[Migrant] if a.memory and not model.is_destination[a.node]
    ]
    assert len(people) > 20
    shift = model.params.migrants.switching_cost_eur
    for person in people:
        menu = model.menu(person.row, person.node)
        failed = person._failure_costs()
        least, via, _ = person._after_failures(menu, *menu.by_crossing(person.skill), failed)
        full, full_via = person._by_crossing_own(menu, NO_ROUTE, shift, np.inf, 0.0)
        assert via == full_via
        assert least == pytest.approx(full)


class _Person:
    def __init__(self, skill: float, nationality: str) -> None:
        self.skill, self.nationality = skill, nationality


def test_policies_change_what_routes_cost_not_which_routes_there_are() -> None:
    closed = RouteModel(
        small(
            warmup_days=0,
            policies=[{"where": {"country": "TUN", "mode": "sea"}, "enforcement": 0.95}],
        )
    )
    open_ = RouteModel(small(warmup_days=0), network=closed.network)
    assert closed.plans is open_.plans  # derived once per network
    for m in (closed, open_):
        for _ in range(60):
            m.step()
    sfax = closed.network.index["Sfax"]
    leg = closed.network.leg_index[("Sfax", "Lampedusa")]
    via = [r for r in closed.plans.candidates[sfax] if closed.plans.first_leg[r] == leg]
    row = 1  # the first network of origin, middle risk class
    for r in via:
        dearer, usual = closed.route_cost(row, r), open_.route_cost(row, r)
        assert np.isfinite(dearer) and dearer > usual

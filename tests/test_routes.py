"""Route plans: the candidate routes every location offers, and what they cost each day."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from routesim import RouteModel
from routesim.routes import NO_ROUTE

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

"""Route plans: the candidate routes every location offers, and what they cost each day."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from routesim import RouteModel
from routesim.routes import NO_ROUTE, path_size

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


def test_every_crossing_into_europe_is_on_the_menu_wherever_it_can_be_reached(
    model: RouteModel,
) -> None:
    """People choose where to leave from: from Casablanca, the boat from Laayoune is on the
    menu although the reference cost prefers Senegal's cheaper boats, 2,000 km further on."""
    plans, net = model.plans, model.network
    crossings = np.flatnonzero(net.legs["to_kind"] == "destination")
    reach = plans.travel_cost
    for node, routes in enumerate(plans.candidates):
        if model.is_destination[node]:
            continue
        last = {plans.legs[r][-1] for r in routes}
        for crossing in crossings:
            coast = model.leg_src[crossing]
            if coast == node or np.isfinite(reach[node, coast]):
                assert crossing in last, (node, crossing)
    casablanca = net.index["Casablanca"]
    direct = (
        net.leg_index[("Casablanca", "Laayoune")],
        net.leg_index[("Laayoune", "Canary Islands")],
    )
    assert direct in [plans.legs[r] for r in plans.candidates[casablanca]]


def test_routes_that_share_legs_count_as_about_one_alternative() -> None:
    """Path size: a route alone on its legs counts 1; k routes differing only in a cheap
    detour count about 1/k each, so listing more ways to one coast does not draw people to it."""
    cost = np.array([100.0, 1000.0, 1.0, 1.0, 500.0])
    routes = [(0, 1), (2, 3, 1), (4,)]  # two ways to one boat (leg 1), and another boat
    sizes = path_size([0, 1, 2], routes, cost)
    assert sizes[2] == pytest.approx(1.0)
    assert sizes[0] == pytest.approx((100 + 500) / 1100)
    assert sizes[1] == pytest.approx((1 + 1 + 500) / 1002)
    assert sizes[0] + sizes[1] == pytest.approx(1.0, abs=0.11)  # the boat's two ways: ~ one


def test_the_choice_weighs_each_candidate_by_its_path_size(model: RouteModel) -> None:
    """The day's candidate table adds the logit scale times -ln(path size) to each route:
    a route's logit weight is its path size times its weight by cost."""
    node = model.network.index["Casablanca"]
    row = 1
    table = model.menu(row, node)
    routes = model.plans.candidates[node]
    noise = model.params.migrants.choice_noise_eur
    sizes = np.exp(-np.asarray(model.plans.overlap[node]))
    plain = model._route_cost_smuggled[row, routes]
    np.testing.assert_allclose(np.asarray(table.smuggled) - plain, -noise * np.log(sizes))
    assert (sizes < 1).any() and (sizes <= 1 + 1e-12).all()


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

"""The run itself: conservation every day, reproducibility, the output contract, and each
mechanism of the issue switched off to show that the tests would notice it missing."""

from __future__ import annotations

import gc
import json
import math
import pickle
import shutil

import numpy as np
import pandas as pd
import pytest

import routesim
from routesim import RouteModel
from routesim.agents.migrant import CAUGHT, Migrant
from routesim.agents.smuggler import Smuggler, full_cost
from routesim.information import SELF, SMUGGLED, Information, personal
from routesim.network import RouteNetwork
from routesim.outcomes import ARRIVALS_COLUMNS, EXTRA_METRICS, LEG_COLUMNS, METRICS
from routesim.routes import NO_ROUTE

from .conftest import arrival_share, open_finding, small

ALL_MODES = ["road", "desert", "sea", "air"]


def run_model(**changes) -> RouteModel:
    model = RouteModel(small(**changes))
    model.run_model()
    return model


def test_conservation_holds_every_day() -> None:
    """Every person is in exactly one state; every euro is held by someone, every day."""
    model = RouteModel(small())
    while model.day < model.params.days:
        model.step()
        assert model.conservation_errors() == [], f"day {model.day}"
    flows = model.ledger.flows
    assert flows["fee"] > 0 and flows["bribe"] > 0 and flows["right_of_way"] > 0


def test_same_seed_same_outputs_and_different_seeds_differ() -> None:
    a, b = routesim.run(small(), seed=11), routesim.run(small(), seed=11)
    assert a.summary == b.summary
    pd.testing.assert_frame_equal(a.daily, b.daily)
    pd.testing.assert_frame_equal(a.legs, b.legs)
    pd.testing.assert_frame_equal(a.arrivals, b.arrivals)
    c = routesim.run(small(), seed=12)
    assert c.metrics != a.metrics


def test_output_contract(small_result: routesim.RunResult, tmp_path) -> None:
    r = small_result
    assert list(r.daily.columns) == ["day", *METRICS, *EXTRA_METRICS]
    assert list(r.legs.columns) == list(LEG_COLUMNS)
    assert len(r.daily) == r.summary["days"] and r.daily["day"].tolist()[:2] == [0, 1]
    for key in ("scenario", "seed", "config_hash", "routesim_version", "days", "scale"):
        assert key in r.summary
    assert set(METRICS) <= set(r.metrics)
    assert set(r.legs["route"]) <= {"central", "western", "atlantic", "none"}
    # daily rows are end-of-day values of the summary's metrics
    last = r.daily.iloc[-1]
    for name in METRICS:
        assert last[name] == pytest.approx(r.metrics[name])
    # who arrives where: every arrival by a route is in the route's metric, by nationality
    assert list(r.arrivals.columns) == list(ARRIVALS_COLUMNS)
    by_route = r.arrivals.groupby("route")["arrived"].sum()
    for route in ("central", "western", "atlantic"):
        assert by_route.get(route, 0.0) == pytest.approx(r.metrics[f"arrived_{route}"])
    assert by_route.sum() > 0 and r.arrivals["nationality"].nunique() > 3
    out = r.save(tmp_path / "run")
    assert sorted(p.name for p in out.iterdir()) == [
        "arrivals.csv",
        "daily.csv",
        "legs.csv",
        "summary.json",
    ]
    back = routesim.RunResult.load(out)
    pd.testing.assert_frame_equal(back.arrivals, r.arrivals, check_dtype=False)
    assert json.loads((out / "summary.json").read_text())["metrics"] == r.metrics
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary folders left


def test_a_network_given_to_a_run_must_be_the_scenarios_own(tmp_path) -> None:
    """Runs may share a loaded network (sweeps do), but never run on another one silently."""
    scenario = small(days=1, warmup_days=0)
    packaged = RouteNetwork.folder_for(None)
    copy = shutil.copytree(packaged, tmp_path / "data")
    with pytest.raises(ValueError, match="the network given is"):
        RouteModel(scenario, RouteNetwork.load(copy))
    assert RouteModel(scenario, RouteNetwork.load(None)).network.folder == packaged


def test_counts_are_people_whatever_the_scale() -> None:
    coarse = routesim.run(small(scale=50), seed=5).metrics
    fine = routesim.run(small(scale=10), seed=5).metrics
    assert 0.7 < coarse["departed"] / fine["departed"] < 1.3
    assert coarse["departed"] % 50 == 0


# --- migrants --------------------------------------------------------------------------------


def test_people_set_out_at_the_expected_rate() -> None:
    model = RouteModel(small(warmup_days=0, days=200))
    model.run_model()
    expected = model.people_setting_out_per_day * 200
    created = len(model.agents_by_type[Migrant]) * model.scale
    assert created == pytest.approx(expected, rel=0.05)


def test_a_run_collects_garbage_less_often_and_restores_the_collector() -> None:
    before = gc.get_threshold()
    during = []
    RouteModel(small(days=2, warmup_days=0)).run_model(
        progress=lambda: during.append(gc.get_threshold())
    )
    assert during[0][0] > before[0]
    assert gc.get_threshold() == before


def test_conditions_change_only_through_policies() -> None:
    """Per-leg lists are derived from the condition arrays; writing an array directly would
    leave them stale, so it is refused."""
    model = RouteModel(small())
    leg = model.network.leg_index[("Zuwara", "Lampedusa")]
    with pytest.raises(ValueError, match="read-only"):
        model.conditions.enforcement[leg] = 0.0
    model.conditions.set(np.array([leg]), "enforcement", 0.0)
    assert model.conditions.interception(leg, 1.0) == 0.0


def _board(n_networks: int = 1, n_legs: int = 3, **changes) -> Information:
    settings = {
        "delay_days": 5,
        "memory_days": 60,
        "prior_people": 200.0,
        "spillover": 0.0,
        "prior_risks": np.zeros((n_legs, 2, 3)),
        "prior_fee": np.full(n_legs, 100.0),
    }
    return Information(n_networks, n_legs, **{**settings, **changes})


def test_perceptions_arrive_after_the_delay() -> None:
    info = _board()
    info.record(0, 1, SMUGGLED, people=1000, died=100, fees=1000 * 900.0)
    for _ in range(5):
        info.advance()
        assert info.perceived_risks()[0, 1, SMUGGLED, 0] == 0.0
    info.advance()
    assert info.perceived_risks()[0, 1, SMUGGLED, 0] == pytest.approx(100 / 1200)
    assert info.perceived_fee()[1] == pytest.approx((200 * 100 + 900_000) / 1200)
    assert info.perceived_risks()[0, 1, SELF, 0] == 0.0


def test_news_travels_among_compatriots_and_a_little_beyond() -> None:
    info = _board(n_networks=2, spillover=0.1, delay_days=0)
    info.record(0, 1, SELF, people=1000, intercepted=800)
    info.advance()
    own, other = info.perceived_risks()[:, 1, SELF, 1]
    assert own == pytest.approx((0.9 * 800 + 0.1 * 800) / (200 + 0.9 * 1000 + 0.1 * 1000))
    assert other == pytest.approx(0.1 * 800 / (200 + 0.1 * 1000))  # the rest heard of it too


def test_which_routes_a_network_knows_is_its_own_news() -> None:
    """The crossings a network has heard of, which tell it the routes it knows, are its own
    compatriots' alone: others' news of a leg's risks reaches it a little (the spillover), the
    routes others take do not make them its own. A crossing is a departure that got across:
    people who died, were stopped or abused on the leg tell of no way through."""
    info = _board(n_networks=2, spillover=0.1, delay_days=0)
    info.record(0, 1, SMUGGLED, people=600, died=10, intercepted=300, abused=20)
    info.record(0, 1, SELF, people=200, intercepted=100)
    info.advance()
    assert info.heard_crossings()[:, 1].tolist() == [370.0, 0.0]
    assert (info.heard_crossings()[:, [0, 2]] == 0.0).all()


def test_a_corridor_weighs_by_its_share_of_the_crossings_compatriots_take() -> None:
    """A corridor costs the corridors' spread times minus the log of its weight: its share of
    the crossings into Europe a network has heard of (each corridor with the news prior's
    worth of people), to `follow_compatriots`."""
    scenario = small(warmup_days=0, migrants={"follow_compatriots": 0.7})
    model = RouteModel(scenario)
    legs, info = model.network.legs, model.info
    central = model.network.leg_index[("Tripoli", "Lampedusa")]
    atlantic = model.network.leg_index[("Mbour", "Canary Islands")]
    assert legs["route"].iat[central] == "central" and legs["route"].iat[atlantic] == "atlantic"
    info.record(0, central, SMUGGLED, people=3000, intercepted=1000)
    info.record(0, atlantic, SMUGGLED, people=1000)
    for _ in range(model.params.migrants.info_delay_days + 1):
        info.advance()
    heard = info.heard_crossings()[0]
    assert heard[central] == pytest.approx(2 * heard[atlantic])  # who got across, faded alike
    by_corridor = np.array([heard[central], 0.0, heard[atlantic]])
    prior = model.params.migrants.news_prior_people
    share = (by_corridor + prior) / (by_corridor.sum() + 3 * prior)
    expected = -0.7 * model.spreads[1] * np.log(share)
    assert model._corridor_unknown()[0, :3] == pytest.approx(expected)
    assert model._corridor_unknown()[1, :3] == pytest.approx(
        [-0.7 * model.spreads[1] * np.log(1 / 3)] * 3
    )


@open_finding(
    "Open finding of issue 14: since a corridor weighs by the crossings compatriots make, not "
    "their departures, the weight cuts Egyptians' and Bangladeshis' share of the Atlantic's "
    "arrivals at this size by a third, not by half (8.1 % to 5.3 %, seeds 3 and 4; 6.5 % to "
    "5.1 % after a year's warm-up): fewer crossings than departures are heard of, so the news "
    "prior (news_prior_people per corridor) weighs more. On the shipped baseline they are "
    "1.4 % of the Canaries' arrivals (reported under 5 %; the fit's check)"
)
def test_people_follow_their_compatriots_routes() -> None:
    """Weighing corridors by their compatriots' crossings, fewer people who fly to Libya
    (Egyptians, Bangladeshis) cross the Sahara back south to the Atlantic. At a spread between
    corridors wide enough for such detours to be common (6,000 EUR; 10 % of the Atlantic's
    arrivals without the weight, at this size), so that the weight, not the fit, is tested."""

    def flown_to_libya_on_the_atlantic(follow: float) -> float:
        migrants = {"follow_compatriots": follow, "choice_noise_eur": 6000}
        scenario = small(migrants=migrants)
        runs = [routesim.run(scenario, seed=seed).arrivals for seed in (3, 4)]
        return float(np.mean([arrival_share(a, "atlantic", ["EGY", "BGD"]) for a in runs]))

    assert flown_to_libya_on_the_atlantic(1.0) < 0.5 * flown_to_libya_on_the_atlantic(0.0)


def test_beliefs_reach_a_new_level_whatever_the_old_reputation() -> None:
    """A leg whose interceptions rise from 10 % to 80 % is believed at 80 % in the end, even
    with little news a day: the reputation follows the news instead of anchoring beliefs."""
    prior = np.zeros((1, 2, 3))
    prior[0, :, 1] = 0.1
    info = _board(n_legs=1, prior_risks=prior, delay_days=0, memory_days=30)
    for _ in range(720):
        info.record(0, 0, SELF, people=5, intercepted=4)
        info.advance()
    assert info.perceived_risks()[0, 0, SELF, 1] == pytest.approx(0.8, abs=0.01)
    for _ in range(720):  # nobody goes: the last belief stays, it does not drift back
        info.advance()
    assert info.perceived_risks()[0, 0, SELF, 1] == pytest.approx(0.8, abs=0.01)


def test_own_interceptions_weigh_more_than_hearsay() -> None:
    assert personal(0.3, 0, hearsay_weight=10, own_weight=3) == 0.3
    once = personal(0.3, 1, hearsay_weight=10, own_weight=3)
    twice = personal(0.3, 2, hearsay_weight=10, own_weight=3)
    assert once == pytest.approx((3 + 3) / 13) and 0.3 < once < twice < 1


def test_people_short_of_money_work_borrow_or_go_home() -> None:
    poor = {"network": {}, "migrants": {"borrow_propensity": 1.0}}
    model = run_model(**poor)
    flows = model.ledger.flows
    assert flows["wage"] > 0  # waited and worked
    assert flows["debt_repayment"] > 0  # travelled on credit and repaid through exploitation
    assert model.outcomes.count["returned_home"] > 0
    no_credit = run_model(migrants={"borrow_propensity": 0.0})
    assert no_credit.ledger.flows["debt_repayment"] == 0


def test_giving_up_depends_on_what_migrating_is_worth() -> None:
    """Going home is weighed against what reaching Europe is worth to a person, on its actual
    situation: nobody turns back by rule."""
    keen = run_model(migrants={"migration_value_eur": 1e6}).outcomes.count
    doubtful = run_model(migrants={"migration_value_eur": 3_000}).outcomes.count
    assert doubtful["returned_home"] > 2 * keen["returned_home"]
    assert doubtful["stayed_home"] > 2 * keen["stayed_home"]


def _trafficked_share(model: RouteModel, female: bool) -> float:
    people = [
        m
        for m in model.agents_by_type[Migrant]
        if m.female == female and not m.minor and m.travelled
    ]
    return sum(m.trafficked for m in people) / len(people)


def test_women_and_children_face_more_exploitation() -> None:
    """Among the people who set out in one run, women are exploited more often than men, and
    not when their vulnerability is set to men's."""
    base = run_model(migrants={"borrow_propensity": 0.0})
    equal = run_model(
        migrants={"borrow_propensity": 0.0, "female_vulnerability": 1.0, "minor_vulnerability": 1.0}
    )
    ratio = _trafficked_share(base, True) / _trafficked_share(base, False)
    assert ratio > 1.2
    assert _trafficked_share(equal, True) / _trafficked_share(equal, False) < ratio


def test_risk_aversion_changes_choices() -> None:
    bold = routesim.run(small(migrants={"risk_aversion": 0.1}), seed=4).metrics
    timid = routesim.run(small(migrants={"risk_aversion": 4.0}), seed=4).metrics
    assert bold["sea_death_rate"] != timid["sea_death_rate"]
    assert bold["arrived"] != timid["arrived"]


# --- smugglers -------------------------------------------------------------------------------


def test_fee_prices_in_patrols_and_right_of_way() -> None:
    model = RouteModel(small())
    leg = model.network.leg_index[("Agadez", "Sebha")]
    org = model.params.smugglers.organisations["small_network"]

    def cost() -> float:
        return full_cost(model, leg, org, 0.0, 0.8).cost

    base = cost()
    model.market.pressure[leg] = 0.9  # smugglers have learnt that patrols stop more convoys
    assert cost() > base
    patrolled = cost()
    model.conditions.set(np.array([leg]), "armed_control", 0.0)  # no right-of-way to pay
    assert cost() < patrolled


def test_bribing_pays_only_when_patrols_bite() -> None:
    model = RouteModel(small())
    leg = model.network.leg_index[("Tripoli", "Lampedusa")]
    org = model.params.smugglers.organisations["small_network"]
    model.market.pressure[leg] = 0.0
    assert not full_cost(model, leg, org, 0.0, 0.8).bribes
    model.market.pressure[leg] = 0.9
    assert full_cost(model, leg, org, 0.0, 0.8).bribes
    model.conditions.set(np.array([leg]), "corruption", 0.0)  # nobody to bribe
    assert not full_cost(model, leg, org, 0.0, 0.8).bribes


def test_tactic_turns_risky_when_patrols_rise() -> None:
    model = RouteModel(small())
    leg = model.network.leg_index[("Agadez", "Sebha")]
    org = model.params.smugglers.organisations["individual"]
    model.market.pressure[leg] = 0.05
    assert full_cost(model, leg, org, 15_000, 0.8).tactic_name == "main_track"
    model.market.pressure[leg] = 1.0
    assert full_cost(model, leg, org, 15_000, 0.8).tactic_name == "remote_track"


def test_markup_follows_demand() -> None:
    model = RouteModel(small())
    smuggler = next(s for s in model.market.active if s.mode == "sea")
    before = smuggler.markup
    smuggler.passengers = []
    smuggler.first_booking = model.day
    smuggler.depart(full=True)
    assert smuggler.markup > before
    smuggler.busy = False
    smuggler.depart(full=False)
    assert smuggler.markup < before * 1.1


def test_smugglers_enter_where_people_queue_and_leave_when_arrested() -> None:
    model = run_model(smugglers={"initial_per_leg": 0})
    assert model.outcomes.count["smuggled_crossings"] > 0  # entrants came for the queues
    smugglers = list(model.agents_by_type[Smuggler])
    arrested = [s for s in smugglers if s.arrested]
    assert arrested and all(s not in model.market.active for s in arrested)


def test_least_organised_are_arrested_most() -> None:
    """Pooled over four seeds: one small run's ratio swings by a quarter (1.8 to 2.6)."""
    arrests: dict[str, int] = {}
    trips: dict[str, int] = {}
    for seed in (3, 4, 5, 6):
        model = run_model(seed=seed, authorities={"arrest_rate": 1.0})
        for s in model.agents_by_type[Smuggler]:
            arrests[s.organisation] = arrests.get(s.organisation, 0) + s.arrested
            trips[s.organisation] = trips.get(s.organisation, 0) + s.trips
    per_trip = {org: arrests[org] / trips[org] for org in trips}
    assert per_trip["individual"] > 2 * per_trip["structured"]


def test_tramadol_on_niger_libya_legs() -> None:
    busy = {  # enough people through Agadez in a small run
        "policies": [{"where": {"country": "NER", "mode": "desert"}, "enforcement": 0.0}],
        "migrants": {"origin_flow": {"Niamey": 5.0, "Kano": 5.0}},
    }
    assert run_model(**busy).ledger.flows["tramadol"] > 0
    none = run_model(**busy, smugglers={"tramadol_eur_per_trip": 0})
    assert none.ledger.flows["tramadol"] == 0


# --- armed groups and authorities ------------------------------------------------------------


def test_armed_groups_tax_kidnap_and_extort() -> None:
    model = run_model(armed_groups={"kidnap_rate": 0.3})
    flows, count = model.ledger.flows, model.outcomes.count
    assert flows["right_of_way"] > 0 and flows["extortion"] > 0
    assert count["kidnapped"] > 0 and flows["ransom"] > 0
    none = run_model(
        armed_groups={"kidnap_rate": 0.3},
        policies=[{"where": {"mode": ALL_MODES}, "armed_control": 0.0}],
    )
    assert none.outcomes.count["kidnapped"] == 0 and none.ledger.flows["right_of_way"] == 0


def test_pullbacks_detain_and_corruption_takes_bribes() -> None:
    model = run_model()
    count = model.outcomes.count
    assert count["intercepted"] > 0 and count["detained"] > 0
    assert model.ledger.flows["bribe"] > 0
    clean = run_model(policies=[{"where": {"mode": ALL_MODES}, "corruption": 0.0}])
    assert clean.ledger.flows["bribe"] == 0


def test_no_enforcement_no_interceptions() -> None:
    model = run_model(policies=[{"where": {"mode": ALL_MODES}, "enforcement": 0.0}])
    assert model.outcomes.count["intercepted"] == 0


def test_legal_pathway_quota_is_issued() -> None:
    # Below the Malians who choose the pathway at the fitted flows (about 3,200 a year at this
    # size: 95 applications of 25 people in 270 days), so the queue never
    # empties and the quota, not demand, sets what is issued.
    quota = 2_000
    result = routesim.run(
        small(policies=[{"legal_pathways": {"origin": "MLI", "quota_per_year": quota}}])
    )
    issued = result.metrics["arrived_legal"]
    expected = quota * result.summary["days"] / 365
    assert 0.8 * expected <= issued <= 1.05 * expected


def test_closing_visa_free_travel_stops_regular_flights() -> None:
    open_ = routesim.run(small()).legs
    closed = routesim.run(small(policies=[{"where": {"mode": "air"}, "visa_free": False}])).legs
    air_open = open_[open_["mode"] == "air"]
    air_closed = closed[closed["mode"] == "air"]
    self_open = (air_open["departures"] * (1 - air_open["smuggled_share"].fillna(1))).sum()
    self_closed = (air_closed["departures"] * (1 - air_closed["smuggled_share"].fillna(1))).sum()
    assert self_open > 0 and self_closed == 0


def test_policy_takes_effect_on_its_day() -> None:
    day = 40
    result = routesim.run(
        small(policies=[{"day": day, "where": {"mode": ALL_MODES}, "enforcement": 0.0}])
    )
    daily = result.daily.set_index("day")["intercepted"].diff().fillna(0)
    assert daily.loc[: day - 1].sum() > 0
    late = daily.loc[day + 10 :]  # trips under way on the day may still be stopped
    assert late.sum() == 0


def test_a_warmed_up_model_goes_on_as_any_scenario_with_the_same_warm_up() -> None:
    closure = {"id": "closed", "where": {"country": "TUN", "mode": "sea"}, "enforcement": 0.9}
    base = small(name="a")
    later = small(name="b", policies=[{**closure, "day": 5}])
    # the name, the seed and policies from day 1 on do not change what the warm-up does
    assert later.warmup_key() == base.warmup_key() == small(seed=99).warmup_key()
    for differs in (small(policies=[closure]), small(migrants={"risk_aversion": 2.0})):
        assert differs.warmup_key() != base.warmup_key()
    warmed = RouteModel(base)
    warmed.run_model(until=0)
    assert warmed.day == 0
    copy = pickle.loads(pickle.dumps(warmed))
    copy.carry_on_as(later)
    copy.run_model()
    alone = RouteModel(later)
    alone.run_model()
    assert copy.metrics() == alone.metrics() != run_model(name="a").metrics()
    with pytest.raises(ValueError, match="same warm-up"):
        pickle.loads(pickle.dumps(warmed)).carry_on_as(small(policies=[closure]))
    with pytest.raises(ValueError, match="end of its warm-up"):
        alone.carry_on_as(later)


def test_patrol_effort_multiplies_patrols_not_the_chance() -> None:
    """Tripled patrols: each of three stops a trip with the chance one patrol does, so the chance
    goes 1 - (1 - e)^3, from what is in force when the entry takes effect (here a level set
    earlier on the same legs), and never above 1."""
    gao = {"leg": ["Gao", "Tamanrasset"]}
    model = RouteModel(
        small(
            policies=[
                {"day": 0, "where": gao, "enforcement": 0.2},
                {"day": 0, "where": gao, "patrol_effort": 3},
                {"day": 0, "where": {"leg": ["Agadez", "Tamanrasset"]}, "patrol_effort": 0.5},
            ]
        )
    )
    net = model.network
    gao_leg = net.leg_index[("Gao", "Tamanrasset")]
    agadez_leg = net.leg_index[("Agadez", "Tamanrasset")]
    before = RouteModel(small()).conditions.enforcement_on(agadez_leg)  # Niger's law in force
    assert model.conditions.enforcement_on(gao_leg) == pytest.approx(1 - 0.8**3)
    assert model.conditions.enforcement_on(agadez_leg) == pytest.approx(1 - (1 - before) ** 0.5)
    with pytest.raises(ValueError, match="not both"):
        small(policies=[{"where": gao, "enforcement": 0.2, "patrol_effort": 3}])


def test_identical_in_a_fresh_interpreter(tmp_path) -> None:
    """Same scenario and seed give the same numbers in another process (no hidden state)."""
    import subprocess
    import sys

    here = routesim.run(small(), seed=21)
    scenario = tmp_path / "small.yaml"
    scenario.write_text(json.dumps(small().model_dump(mode="json")))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "routesim.cli",
            "run",
            str(scenario),
            "--seed",
            "21",
            "--quiet",
            "--out",
            str(tmp_path / "o"),
        ],
        check=True,
    )
    there = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert there["metrics"] == pytest.approx(here.metrics, rel=0, abs=0)
    assert there["config_hash"] == here.summary["config_hash"]


def stranded(model: RouteModel) -> list:
    """People on their way with no way forward: no wake-up, no booking, no trip, no visa."""
    from routesim.outcomes import IN_TRANSIT

    booked = {id(m) for s in model.market.active for m in s.passengers}
    aboard = {id(m) for trips in model.trips.ending.values() for t in trips for m in t.passengers}
    return [
        m
        for m in model.agents_by_type[Migrant]
        if m.state in IN_TRANSIT
        and not (m.wake_day is not None and m.wake_day >= model.day)
        and id(m) not in booked
        and id(m) not in aboard
    ]


@pytest.mark.parametrize(
    "policies",
    [
        [],
        [{"legal_pathways": {"origin": "MLI", "quota_per_year": 20}}],  # a queue that barely moves
        [
            {"legal_pathways": {"origin": "SEN", "quota_per_year": 5000}},
            {
                "day": 60,
                "legal_pathways": {
                    "origin": "SEN",
                    "quota_per_year": 5000,
                    "destination": "Lampedusa",
                },
            },
        ],  # the quota moves country
    ],
)
def test_nobody_is_stranded(policies: list) -> None:
    model = RouteModel(small(policies=policies))
    while model.day < model.params.days:
        model.step()
        if model.day % 20 == 0:
            assert stranded(model) == []


def test_a_booked_migrant_is_not_also_served_by_a_visa_queue() -> None:
    """One queue place at a time: booking a seat voids a place in the visa queue."""
    model = RouteModel(
        small(
            warmup_days=0,
            policies=[{"legal_pathways": {"origin": "MLI", "quota_per_year": 36_500}}],
        )
    )
    network = model.networks.index("MLI")
    migrant = Migrant(
        model, model.network.index["Bamako"], "MLI", network, 5_000.0, False, False, 1, 0.5, 1e4
    )
    model.apply_for_visa(migrant)
    smuggler = next(s for s in model.market.active if model.leg_src[s.leg] == migrant.node)
    smuggler.accept(migrant, on_credit=True)
    for authority in model.authorities.values():
        authority.step()
    assert migrant.state == "waiting" and migrant in smuggler.passengers


def _migrant_at(model: RouteModel, place: str, nationality: str = "MLI") -> Migrant:
    network = model.networks.index(nationality)
    node = model.network.index[place]
    return Migrant(model, node, nationality, network, 2_000.0, False, False, 1, 0.5, 1e4)


def test_interception_sends_people_where_the_country_sends_them() -> None:
    """What an interception does comes from interceptions.csv: Libyan pullbacks to detention
    where the boat left, Moroccan displacement to the south or the Algerian border, Algerian
    expulsions to Niger; and the person remembers it, which calls its plan into question."""
    model = RouteModel(small(warmup_days=0))
    index = model.network.index
    libya = model.network.leg_index[("Zuwara", "Lampedusa")]
    pulled_back = [_migrant_at(model, "Zuwara") for _ in range(5)]
    model.authorities["LBY"].intercept(pulled_back, libya)
    assert {m.node for m in pulled_back} == {index["Zuwara"]}
    assert {m.state for m in pulled_back} == {"detained"}
    assert all(m.memory == {libya: [1, 0]} and m.revise for m in pulled_back)
    assert _taken_to(model, "MAR", ("Nador", "Andalusia"), 60) == {"Tiznit", "Oujda", "Nador"}
    assert _taken_to(model, "DZA", ("Tamanrasset", "Sebha"), 40) == {"Agadez", "Tamanrasset"}


def _taken_to(model: RouteModel, country: str, leg: tuple[str, str], trips: int) -> set[str]:
    """Where `trips` one-person trips stopped on `leg` were taken."""
    places = set()
    for _ in range(trips):
        people = [_migrant_at(model, leg[0])]
        model.authorities[country].intercept(people, model.network.leg_index[leg])
        places.add(model.network.locations["name"].iloc[people[0].node])
    return places


def test_alone_or_with_a_smuggler_is_a_close_choice_of_ones_own() -> None:
    """On a leg one may cross alone or with a smuggler, the choice follows a logit at the
    crossings' spread (the nest below a crossing) over people, and each person's own tastes:
    the same person, on the same day, makes the same choice."""
    model = RouteModel(small())
    for _ in range(30):
        model.step()
    spread = model.spreads[-1]
    row = _migrant_at(model, "Sfax", "TUN").row

    def alone_share(leg: int) -> float:  # P(alone) by the logit at the crossings' spread
        costs = model._leg_cost[row, leg]
        return 1 / (1 + math.exp(min(700, (costs[SELF] - costs[SMUGGLED]) / spread)))

    # the sea leg where this day's choice is closest to even: where the logit shows best
    sea = (model.network.legs["mode"] == "sea").to_numpy()
    both = np.flatnonzero(model.offers_self & model.offers_smuggled & sea)
    leg = int(min(both, key=lambda leg: abs(alone_share(int(leg)) - 0.5)))
    place = model.network.legs["from"].iat[leg]
    people = [_migrant_at(model, place, "TUN") for _ in range(6000)]
    for person in people:
        person.skill = 1.0  # may cross alone
    picks = [model.pick_channel(person, leg, math.inf)[0] for person in people]
    assert picks == [model.pick_channel(person, leg, math.inf)[0] for person in people]
    costs = model._leg_cost[people[0].row, leg]
    expected = alone_share(leg)
    share = picks.count(SELF) / len(picks)
    assert 0.01 < expected < 0.99, (costs, spread)  # a real choice on this leg and day
    assert share == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / 6000))


def test_a_failure_of_ones_own_makes_that_leg_dearer_not_home_cheaper() -> None:
    """After an interception, the routes through that leg cost more to the person who was
    stopped than to its compatriots; what going home costs does not change."""
    model = RouteModel(small())
    for _ in range(30):
        model.step()
    leg = model.network.leg_index[("Zuwara", "Lampedusa")]
    person = _migrant_at(model, "Zuwara")
    home = model.home_cost(person)
    assert model.own_failure_cost(person, leg, 0, 0) == 0
    assert model.own_failure_cost(person, leg, 1, 0) > 0
    assert model.own_failure_cost(person, leg, 2, 0) > model.own_failure_cost(person, leg, 1, 0)
    person.remember(leg, CAUGHT)
    assert model.home_cost(person) == home


def test_a_fare_years_of_work_away_calls_the_plan_into_question() -> None:
    """Short of a fare by more than one spell of work, a person weighs the months of work each
    route would take (and going home) before settling down to work; a fare within one spell is
    simply worked for."""
    model = RouteModel(small())
    for _ in range(30):
        model.step()
    tripoli = model.network.index["Tripoli"]
    spell = model.params.migrants.max_work_days

    def short_by(spells: float) -> list[str]:
        """What 40 penniless people do whose next fare is `spells` spells of work away."""
        states = []
        for _ in range(40):
            person = _migrant_at(model, "Tripoli")
            person.value = 0.0  # migrating is worth little to it: the months of work decide
            route = model.plans.candidates[tripoli][0]
            person.route, person.cash = route, 0.0
            price = model.first_leg_price(route, person)
            model.wage[tripoli] = price / (spells * spell)
            person._short_of_money(price)
            states.append(person.state)
        return states

    assert set(short_by(0.5)) == {"working"}
    assert short_by(20).count("returned_home") > 30


def test_working_for_a_fare_weighs_the_whole_route_and_keeps_to_it() -> None:
    """Short of money, a person weighs the work that all of a route's fares need, not only the
    next one: a cheap bus to another coast whose boat costs as much is no way out. And a plan
    chosen knowing it must be worked for is kept one leg on (no new choice at every stop), so
    the penniless do not shuttle between two coasts they cannot leave."""
    model = RouteModel(small())
    for _ in range(30):
        model.step()
    sfax, tunis = (model.network.index[p] for p in ("Sfax", "Tunis"))
    bus = model.network.leg_index[("Sfax", "Tunis")]
    boat = model.plans.candidates[sfax][
        [model.plans.legs[r] for r in model.plans.candidates[sfax]].index(
            (model.network.leg_index[("Sfax", "Lampedusa")],)
        )
    ]
    via_tunis = model.plans.candidates[sfax][model.plans.through[sfax][bus][0]]
    spell = model.params.migrants.max_work_days

    def penniless_at_sfax() -> Migrant:
        person = _migrant_at(model, "Sfax", "TUN")
        person.route = boat
        person.cash = model.first_leg_price(via_tunis, person)  # the bus fare, no more
        return person

    fare = model.first_leg_price(boat, penniless_at_sfax())
    model.wage[sfax] = model.wage[tunis] = fare / (4 * spell)  # the boat: four spells away
    to_tunis = 0
    for _ in range(300):
        person = penniless_at_sfax()
        person._short_of_money(fare)
        to_tunis += person.route != NO_ROUTE and model.plans.first_leg[person.route] == bus
    routes_via_tunis = len(model.plans.through[sfax][bus])
    share_of_menu = routes_via_tunis / len(model.plans.candidates[sfax])
    assert to_tunis / 300 < share_of_menu  # no pull towards the cheap first leg (was 0.65)

    kept = 0
    for _ in range(40):
        person = penniless_at_sfax()
        person.route = person.saving_for = via_tunis
        person.cross(tunis)
        onward = person.route
        person._short_of_money(model.first_leg_price(onward, person) + 10 * fare)
        kept += person.state == "working" and person.route == onward
    assert kept == 40

"""Scenario files: validation, `extends`, overrides, and property-based checks over configs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from routesim import RouteModel, Scenario, ScenarioError
from routesim.scenario import MigrantParams, SmugglerParams, apply_override

from .conftest import SCENARIOS


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_scenarios_load_and_build(path: Path) -> None:
    scenario = Scenario.load(path)
    RouteModel(scenario.with_updates(warmup_days=0, days=1, scale=100))
    first = path.read_text().lstrip().splitlines()[0]
    assert first.startswith("#"), "every scenario says what it represents"


def test_extends_merges_and_appends_policies(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.yaml",
        "name: b\nscale: 5\nmigrants: {risk_aversion: 2}\n"
        "policies:\n  - {id: a, where: {mode: sea}, enforcement: 0.1}\n",
    )
    child = write(
        tmp_path,
        "child.yaml",
        "name: c\nextends: base.yaml\n"
        "migrants: {value_of_life_eur: 1000}\n"
        "policies:\n  - {id: b, day: 5, where: {mode: air}, enforcement: 0.2}\n",
    )
    s = Scenario.load(child)
    assert s.name == "c" and s.scale == 5
    assert s.migrants.risk_aversion == 2 and s.migrants.value_of_life_eur == 1000
    assert [p.id for p in s.policies] == ["a", "b"]


def test_overrides_by_id_position_and_path() -> None:
    s = Scenario.load(
        SCENARIOS / "central-interception.yaml",
        [
            "policies.libya_surge.enforcement=0.95",
            "policies.0.enforcement=0.4",
            "migrants.risk_aversion=3",
            "days=30",
        ],
    )
    by_id = {p.id: p for p in s.policies}
    assert by_id["libya_surge"].enforcement == 0.95
    assert s.policies[0].enforcement == 0.4
    assert s.migrants.risk_aversion == 3 and s.days == 30


def test_config_hash_follows_content_not_file() -> None:
    a = Scenario.load(SCENARIOS / "baseline.yaml")
    b = Scenario.load(SCENARIOS / "baseline.yaml", ["migrants.risk_aversion=1.5"])
    assert a.config_hash() == Scenario.load(SCENARIOS / "baseline.yaml").config_hash()
    assert a.config_hash() != b.config_hash()


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("name: x\ndays: [1\n", "line", "malformed YAML"),
        ("name: x\nfoo: 1\n", "foo", "unknown key (allowed: name,"),
        ("name: x\ndays: ten\n", "days", "integer"),
        ("name: x\ndays: -5\n", "days", "greater than or equal to 1"),
        ("name: x\nscale: 0\n", "scale", "greater than or equal to 1"),
        (
            "name: x\nmigrants: {risk_aversoin: 2}\n",
            "migrants.risk_aversoin",
            "allowed: people_per",
        ),
        ("name: x\npolicies:\n  - {day: 3}\n", "policies.0", "needs an action"),
        ("name: x\npolicies:\n  - {enforcement: 0.5}\n", "policies.0", "needs `where`"),
        (
            "name: x\npolicies:\n  - {where: {mode: sea}, enforcement: 1.5}\n",
            "policies.0.enforcement",
            "less than or equal to 1",
        ),
        ("- just\n- a list\n", "", "must be a mapping"),
    ],
)
def test_bad_scenarios_name_file_and_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ScenarioError) as err:
        Scenario.load(path)
    message = str(err.value)
    assert message.startswith(str(path)) and key in message and words in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("policy", "key"),
    [
        ("{where: {location: Atlantis}, enforcement: 0.5}", "policies.0.where.location"),
        ("{where: {country: XYZ}, enforcement: 0.5}", "policies.0.where.country"),
        ("{where: {leg: [Agadez, Lampedusa]}, enforcement: 0.5}", "policies.0.where.leg"),
        (
            "{legal_pathways: {origin: SEN, quota_per_year: 5, destination: Agadez}}",
            "policies.0.legal_pathways.destination",
        ),
    ],
)
def test_policies_naming_unknown_places_fail_before_running(
    tmp_path: Path, policy: str, key: str
) -> None:
    path = write(tmp_path, "bad.yaml", f"name: x\npolicies:\n  - {policy}\n")
    scenario = Scenario.load(path)
    with pytest.raises(ScenarioError) as err:
        RouteModel(scenario)
    assert key in str(err.value) and str(path) in str(err.value)


def test_circular_extends(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: a\nextends: b.yaml\n")
    write(tmp_path, "b.yaml", "name: b\nextends: a.yaml\n")
    with pytest.raises(ScenarioError, match="circular extends"):
        Scenario.load(tmp_path / "a.yaml")


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("nothing", "expected PATH=VALUE"),
        ("policies.nosuch.enforcement=1", "no entry with id 'nosuch'"),
        ("policies.99.enforcement=1", "index out of range"),
    ],
)
def test_bad_overrides(item: str, words: str) -> None:
    with pytest.raises(ScenarioError, match=words):
        Scenario.load(SCENARIOS / "baseline.yaml", [item])


# --- property-based -----------------------------------------------------------------------

LOCATIONS = ["Agadez", "Sebha", "Zuwara", "Sfax", "Tangier", "Mbour", "Gao", "Tobruk"]
COUNTRIES = ["LBY", "TUN", "MAR", "NER", "MLI", "SEN", "MRT", "DZA"]
wheres = st.one_of(
    st.fixed_dictionaries({"country": st.sampled_from(COUNTRIES)}),
    st.fixed_dictionaries({"mode": st.sampled_from(["road", "desert", "sea", "air"])}),
    st.fixed_dictionaries({"location": st.sampled_from(LOCATIONS)}),
    st.fixed_dictionaries(
        {"country": st.sampled_from(COUNTRIES), "mode": st.sampled_from(["sea", "desert"])}
    ),
)
shares = st.floats(0, 1, allow_nan=False)
leg_policies = st.builds(
    lambda w, day, key, v: {"where": w, "day": day, key: v},
    wheres,
    st.integers(0, 20),
    st.sampled_from(["enforcement", "search_and_rescue", "corruption", "armed_control"]),
    shares,
)
legal = st.builds(
    lambda o, q, day: {"day": day, "legal_pathways": {"origin": o, "quota_per_year": q}},
    st.sampled_from(["SEN", "MLI", "GIN", "CIV", "NGA"]),
    st.integers(0, 50_000),
    st.integers(0, 20),
)
configs = st.fixed_dictionaries(
    {
        "name": st.just("prop"),
        "days": st.integers(1, 25),
        "warmup_days": st.integers(0, 25),
        "scale": st.sampled_from([50, 100, 200]),
        "seed": st.integers(0, 2**31),
        "migrants": st.fixed_dictionaries(
            {
                "risk_aversion": st.floats(0, 5),
                "value_of_time_eur_per_day": st.floats(0, 50),
                "borrow_propensity": shares,
                "info_delay_days": st.integers(0, 60),
                "people_per_year": st.floats(0.2, 3),
            }
        ),
        "smugglers": st.fixed_dictionaries(
            {
                "markup_initial": st.floats(0, 2),
                "markup_adaptation": shares,
                "max_wait_days": st.integers(1, 20),
                "entry_rate": shares,
            }
        ),
        "policies": st.lists(st.one_of(leg_policies, legal), max_size=4),
    }
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_any_valid_config_runs_and_conserves(config: dict) -> None:
    """Whatever valid config: the run completes, every person is in one state, money adds up."""
    try:
        model = RouteModel(Scenario.from_dict(config))
    except ScenarioError as err:  # a random `where` may select no legs: rejected by design
        assume("selects no legs" not in str(err))
        raise
    while model.day < config["days"]:
        model.step()
        assert model.conservation_errors() == []
    metrics = model.outcomes.metrics(model.ledger.flows)
    assert all(v >= 0 for v in metrics.values())
    assert 0 <= metrics["smuggler_use_share"] <= 1


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["days", "scale", "seed", "warmup_days", "name", "bogus"]),
        st.one_of(st.integers(-10, 10), st.text(max_size=3), st.none(), st.floats(allow_nan=True)),
        min_size=1,
    )
)
def test_invalid_configs_raise_only_scenario_errors(config: dict) -> None:
    """Bad values are ScenarioErrors naming a key, never another exception."""
    config = {"name": "x", **config}
    try:
        Scenario.from_dict(config)
    except ScenarioError as err:
        assert err.key or err.message


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(
        ["migrants.risk_aversion", "smugglers.entry_rate", "days", "armed_groups.ransom_eur"]
    ),
    st.floats(0, 1, allow_nan=False),
)
def test_override_sets_the_value(path: str, value: float) -> None:
    data = Scenario.load(SCENARIOS / "baseline.yaml").model_dump(mode="python")
    apply_override(data, f"{path}={value!r}")
    node = data
    for key in path.split("."):
        node = node[key]
    assert node == value


def test_overriding_one_default_keeps_its_siblings() -> None:
    s = Scenario.load(
        SCENARIOS / "baseline.yaml",
        ["smugglers.capacity.desert=40", "smugglers.tactics.sea.overloaded.hazard=3"],
    )
    assert s.smugglers.capacity["desert"] == 40 and s.smugglers.capacity["sea"] == 60
    assert s.smugglers.tactics["sea"]["overloaded"].hazard == 3
    assert "seaworthy" in s.smugglers.tactics["sea"]
    with pytest.raises(ScenarioError, match=r"smugglers\.capacity\.boat: unknown key"):
        Scenario.load(SCENARIOS / "baseline.yaml", ["smugglers.capacity.boat=3"])


@pytest.mark.parametrize("params", [MigrantParams, SmugglerParams])
def test_behavioural_parameters_say_what_they_mean_and_where_they_come_from(params) -> None:
    """Every migrant parameter, and each smuggler parameter given a description, names its
    source or says it is an assumption (or free in the calibration)."""
    described = {
        name: field.description
        for name, field in params.model_fields.items()
        if field.description is not None
    }
    if params is MigrantParams:
        assert set(described) == set(params.model_fields)
    assert described
    for name, text in described.items():
        assert any(w in text for w in ("assumption", "calibration", "UNODC", "20")), name

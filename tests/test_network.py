"""The packaged route network: coverage the issue asks for, sources on every row, clear errors."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from routesim.network import COLUMNS, NetworkError, RouteNetwork
from routesim.scenario import Where

from .conftest import edited_network


@pytest.fixture(scope="module")
def net() -> RouteNetwork:
    return RouteNetwork.load()


def test_network_covers_the_routes(net: RouteNetwork) -> None:
    assert net.n_locations >= 35
    names = set(net.locations["name"])
    for place in (
        "Agadez",
        "Gao",
        "Sebha",
        "Zuwara",
        "Tripoli",
        "Benghazi",
        "Tobruk",
        "Sfax",
        "Tangier",
        "Nador",
        "Ceuta",
        "Melilla",
        "Nouakchott",
        "Mbour",
        "Laayoune",
        "Canary Islands",
        "Kedougou",
        "Djado",
        "Cairo",
        "Dhaka",
    ):
        assert place in names, place
    legs = set(zip(net.legs["from"], net.legs["to"], strict=True))
    for leg in (
        ("Agadez", "Sebha"),
        ("Gao", "Tamanrasset"),
        ("Zuwara", "Lampedusa"),
        ("Tobruk", "Calabria"),
        ("Sfax", "Lampedusa"),
        ("Tangier", "Ceuta"),
        ("Nador", "Melilla"),
        ("Tangier", "Andalusia"),
        ("Oran", "Andalusia"),
        ("Mbour", "Canary Islands"),
        ("Nouakchott", "Canary Islands"),
        ("Laayoune", "Canary Islands"),
        ("Cairo", "Benghazi"),
        ("Dhaka", "Benghazi"),
        ("Dakar", "Casablanca"),
        ("Bamako", "Tunis"),
    ):
        assert leg in legs, leg
    assert set(net.legs["mode"]) == {"road", "desert", "sea", "air"}
    assert {"gold_mine", "origin", "coast", "destination", "hub"} == set(net.locations["kind"])


def test_every_row_cites_a_source(net: RouteNetwork) -> None:
    for table in (
        net.locations,
        net.legs,
        net.origins,
        net.countries,
        net.armed_groups,
        net.interceptions,
    ):
        assert (table["source"].str.len() > 10).all()


def test_land_legs_run_both_ways(net: RouteNetwork) -> None:
    """A plan can be revised backwards: every road or desert leg between two places that are not
    destinations has its reverse (same mode and length), and none leads out of a destination."""
    legs = net.legs.set_index(["from", "to"])
    for leg in (
        ("Tangier", "Casablanca"),
        ("Nador", "Oujda"),
        ("Nador", "Casablanca"),
        ("Sfax", "Tunis"),
        ("Sfax", "Tripoli"),
        ("Zuwara", "Tripoli"),
        ("Tripoli", "Sebha"),
        ("Sebha", "Agadez"),
        ("Agadez", "Niamey"),
    ):
        assert leg in legs.index, leg
    land = net.legs[
        net.legs["mode"].isin(["road", "desert"])
        & (net.legs["from_kind"] != "destination")
        & (net.legs["to_kind"] != "destination")
    ]
    for f, t, mode, km in zip(
        land["from"], land["to"], land["mode"], land["distance_km"], strict=True
    ):
        assert (t, f) in legs.index, (t, f)
        assert legs.loc[(t, f), "mode"] == mode and legs.loc[(t, f), "distance_km"] == km
    assert not (net.legs["from_kind"] == "destination").any()


def test_sahel_and_sahara_cross_links(net: RouteNetwork) -> None:
    legs = net.legs.set_index(["from", "to"])
    for f, t in (
        ("Niamey", "Bamako"),
        ("Bamako", "Niamey"),
        ("Ouagadougou", "Bamako"),
        ("Bamako", "Ouagadougou"),
    ):
        row = legs.loc[(f, t)]
        assert row["mode"] == "road" and row["ecowas"] == 1 and row["smuggler_needed"] == 0
    assert legs.loc[("Gao", "Bamako"), "mode"] == legs.loc[("Gao", "Niamey"), "mode"] == "road"
    for f, t in (("Tamanrasset", "Gao"), ("Sebha", "Tamanrasset")):
        assert legs.loc[(f, t), "mode"] == "desert", (f, t)
    for f, t in (
        ("Tiznit", "Casablanca"),
        ("Casablanca", "Tiznit"),
        ("Tiznit", "Laayoune"),
        ("Laayoune", "Tiznit"),
        ("Casablanca", "Laayoune"),
    ):
        assert legs.loc[(f, t), "mode"] == "road", (f, t)
    assert net.locations.set_index("name").loc["Tiznit", "country"] == "MAR"


def test_interceptions_send_people_somewhere_known(net: RouteNetwork) -> None:
    caught = net.interceptions
    assert set(caught["mode"]) <= {"road", "desert", "sea", "air"}
    assert set(caught["sent_to"]) - {""} <= set(net.locations["name"])
    sums = caught.groupby(["country", "mode"])["share"].sum()
    assert np.allclose(sums, 1.0)
    libya = caught[(caught["country"] == "LBY") & (caught["mode"] == "sea")]
    assert list(libya["sent_to"]) == [""]  # back into detention where the boat left
    morocco = caught[(caught["country"] == "MAR") & (caught["mode"] == "sea")]
    assert {"Tiznit", "Oujda"} <= set(morocco["sent_to"])
    assert (caught["detention_days"].dropna() >= 0).all()


def test_interceptions_to_an_unknown_place_is_an_error(tmp_path) -> None:
    folder = edited_network(tmp_path, "interceptions.csv", _set(1, "sent_to", "Atlantis"))
    with pytest.raises(NetworkError, match=r"interceptions.csv: row 3, sent_to: .*'Atlantis'"):
        RouteNetwork.load(folder)


def test_interception_shares_must_sum_to_one(tmp_path) -> None:
    folder = edited_network(tmp_path, "interceptions.csv", _set(1, "share", "0.6"))
    with pytest.raises(NetworkError, match=r"interceptions.csv: row 3, share: shares of MAR sea"):
        RouteNetwork.load(folder)


def test_interception_country_and_detention_are_checked(tmp_path) -> None:
    folder = edited_network(tmp_path / "a", "interceptions.csv", _set(0, "country", "XXX"))
    with pytest.raises(NetworkError, match=r"interceptions.csv: row 2, country: unknown value"):
        RouteNetwork.load(folder)
    folder = edited_network(tmp_path / "b", "interceptions.csv", _set(0, "detention_days", "-1"))
    with pytest.raises(NetworkError, match=r"interceptions.csv: row 2, detention_days: out of"):
        RouteNetwork.load(folder)
    folder = edited_network(tmp_path / "c", "countries.csv", _set(0, "detention_days", ""))
    with pytest.raises(NetworkError, match=r"countries.csv: row 2, detention_days: value missing"):
        RouteNetwork.load(folder)


def test_reported_fees_come_from_the_evidence(net: RouteNetwork) -> None:
    fees = net.legs.dropna(subset=["fee_low_eur"]).set_index(["from", "to"])
    assert fees.loc[("Nouakchott", "Canary Islands"), "fee_high_eur"] == 1525
    assert fees.loc[("Tobruk", "Calabria"), "fee_low_eur"] == 600
    assert (fees["fee_low_eur"] <= fees["fee_high_eur"]).all()
    assert len(fees) >= 10


@pytest.mark.parametrize("name", list(COLUMNS))
def test_missing_column_is_a_clear_error(tmp_path, name: str) -> None:
    dropped = [c for c in COLUMNS[name] if c != "source"][1]
    folder = edited_network(tmp_path, name, lambda t: t.drop(columns=[dropped]))
    with pytest.raises(NetworkError) as err:
        RouteNetwork.load(folder)
    assert name in str(err.value) and dropped in str(err.value)


def _set(row: int, column: str, value: str):
    def edit(table: pd.DataFrame) -> pd.DataFrame:
        table.loc[row, column] = value
        return table

    return edit


def test_bad_value_names_row_and_column(tmp_path) -> None:
    folder = edited_network(tmp_path, "legs.csv", _set(3, "base_hazard", "1.5"))
    with pytest.raises(NetworkError, match=r"legs.csv: row 5, base_hazard: out of range"):
        RouteNetwork.load(folder)


def test_unknown_leg_endpoint(tmp_path) -> None:
    folder = edited_network(tmp_path, "legs.csv", _set(0, "to", "Atlantis"))
    with pytest.raises(NetworkError, match="Atlantis"):
        RouteNetwork.load(folder)


def test_a_scenario_can_use_its_own_network(tmp_path) -> None:
    """Users recalibrate by editing copies of the CSVs: here, half the people set out."""
    import routesim
    from routesim import Scenario

    def halve(origins: pd.DataFrame) -> pd.DataFrame:
        origins["people_per_year"] = (origins["people_per_year"].astype(float) / 2).astype(str)
        return origins

    folder = edited_network(tmp_path, "origins.csv", halve)
    config = {"name": "own", "scale": 50, "warmup_days": 0, "days": 60, "seed": 2}
    own = routesim.run(Scenario.from_dict({**config, "network": {"data_dir": str(folder)}}))
    packaged = routesim.run(Scenario.from_dict(config))
    assert 0.35 < own.metrics["departed"] / packaged.metrics["departed"] < 0.65


def test_run_hash_follows_the_data_not_the_folder(tmp_path) -> None:
    from routesim import Scenario

    same = tmp_path / "copy"
    shutil.copytree(RouteNetwork.load().folder, same)
    changed = edited_network(tmp_path / "b", "origins.csv", lambda t: t.iloc[:-1])
    hashes = [
        Scenario.from_dict({"name": "x"}).config_hash(RouteNetwork.load(d).digest)
        for d in (None, same, changed)
    ]
    assert hashes[0] == hashes[1] != hashes[2]


def test_a_route_s_departures_for_europe_are_one_selection(net: RouteNetwork) -> None:
    western = net.select(Where(route="western", into_europe=True))
    pairs = {(net.legs["from"][i], net.legs["to"][i]) for i in western}
    assert ("Tangier", "Ceuta") in pairs and ("Algiers", "Balearics") in pairs
    assert ("Casablanca", "Tangier") not in pairs  # on the route, but not into Europe
    assert set(net.legs["to_kind"][western]) == {"destination"}

"""The `routesim` command as a user meets it: help, a run, and one-line errors for mistakes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from routesim.cli import main
from routesim.outcomes import ARRIVALS_COLUMNS, LEG_COLUMNS, METRICS

from .conftest import SCENARIOS, edited_network

FAST = ["--days", "20", "--scale", "100", "--set", "warmup_days=20"]


def test_help_teaches() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "routesim.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "routesim run scenarios/baseline.yaml" in out and "run" in out
    run_help = subprocess.run(
        [sys.executable, "-m", "routesim.cli", "run", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for words in ("--seed", "--set PATH=VALUE", "summary.json", "examples:"):
        assert words in run_help


def test_run_writes_the_four_files_and_a_table(tmp_path: Path, capsys) -> None:
    out = tmp_path / "base"
    assert (
        main(["run", str(SCENARIOS / "baseline.yaml"), "--seed", "4", "--out", str(out), *FAST])
        == 0
    )
    printed = capsys.readouterr().out
    assert "arrived by the Central Mediterranean" in printed and "wrote" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 4 and summary["days"] == 20 and summary["scale"] == 100
    assert set(METRICS) <= set(summary["metrics"])
    daily = pd.read_csv(out / "daily.csv")
    assert list(daily.columns[: len(METRICS) + 1]) == ["day", *METRICS] and len(daily) == 20
    assert list(pd.read_csv(out / "legs.csv").columns) == list(LEG_COLUMNS)
    assert list(pd.read_csv(out / "arrivals.csv").columns) == list(ARRIVALS_COLUMNS)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_runs(tmp_path: Path, path: Path) -> None:
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet", *FAST]) == 0
    assert (tmp_path / "o" / "summary.json").exists()


def test_same_seed_same_summary_through_the_cli(tmp_path: Path) -> None:
    for name in ("a", "b"):
        main(
            [
                "run",
                str(SCENARIOS / "baseline.yaml"),
                "--seed",
                "9",
                "--quiet",
                "--out",
                str(tmp_path / name),
                *FAST,
            ]
        )
    a, b = (json.loads((tmp_path / n / "summary.json").read_text()) for n in ("a", "b"))
    assert a == b


BAD = {
    "malformed.yaml": ("name: x\ndays: [1\n", "malformed YAML"),
    "unknown.yaml": ("name: x\nfoo: 1\n", "foo: unknown key"),
    "wrongtype.yaml": ("name: x\ndays: ten\n", "days:"),
    "negative.yaml": ("name: x\ndays: -5\n", "days:"),
    "badplace.yaml": (
        "name: x\npolicies:\n  - {where: {location: Atlantis}, enforcement: 0.5}\n",
        "policies.0.where.location: unknown location 'Atlantis'",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_one_line_exit_2_and_no_output(tmp_path: Path, name: str) -> None:
    text, words = BAD[name]
    scenario = tmp_path / name
    scenario.write_text(text)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "routesim.cli", "run", str(scenario), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(scenario) in lines[0] and words in lines[0]
    assert "Traceback" not in proc.stderr and not out.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--days", "-3"], "argument --days: must be at least 1"),
        (["--scale", "x"], "argument --scale: expected a whole number"),
        (["--set", "policies.nosuch.enforcement=1"], "no entry with id 'nosuch'"),
        (["--set", "migrants.risk_aversion=lots"], "migrants.risk_aversion"),
    ],
)
def test_bad_command_line_values(tmp_path: Path, args: list[str], words: str, capsys) -> None:
    try:
        code = main(["run", str(SCENARIOS / "baseline.yaml"), "--out", str(tmp_path / "o"), *args])
    except SystemExit as exit_:  # argparse's own checks
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]
    assert not (tmp_path / "o").exists()


def test_a_csv_missing_a_column(tmp_path: Path) -> None:
    data = edited_network(tmp_path, "legs.csv", lambda t: t.drop(columns=["base_hazard"]))
    scenario = tmp_path / "own.yaml"
    scenario.write_text(f"name: own\nnetwork: {{data_dir: {data.name}}}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "routesim.cli", "run", str(scenario), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "legs.csv: base_hazard: missing column" in line and "\n" not in line

"""routesim: agent-based simulation of migrant smuggling from West and North Africa to Europe.

import routesim
result = routesim.run("scenarios/baseline.yaml", seed=1)
result.summary["metrics"]["arrived_central"], result.daily, result.legs

table = routesim.sweep("experiments/central-interception.yaml")   # or load_results(DIR) later
from routesim import plots; fig = plots.response(table, ["dead"])   # figures

fit = routesim.calibrate("experiments/calibrate-2021.yaml")          # fit, write, check, report
fit.table                                                  # per target: reported vs simulated
"""

from routesim.calibration import Calibration, calibrate
from routesim.experiment import Experiment
from routesim.model import RouteModel
from routesim.network import RouteNetwork
from routesim.outcomes import METRICS, RunResult
from routesim.runner import SharedWarmups, run
from routesim.scenario import Scenario, ScenarioError
from routesim.sensitivity import sobol_indices
from routesim.store import load_arrivals, load_daily, load_legs, load_results
from routesim.sweep import sweep
from routesim.targets import load_targets

__all__ = [
    "METRICS",
    "Calibration",
    "Experiment",
    "RouteModel",
    "RouteNetwork",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SharedWarmups",
    "calibrate",
    "load_arrivals",
    "load_daily",
    "load_legs",
    "load_results",
    "load_targets",
    "run",
    "sobol_indices",
    "sweep",
]

"""routesim: agent-based simulation of migrant smuggling from West and North Africa to Europe.

import routesim
result = routesim.run("scenarios/baseline.yaml", seed=1)
result.summary["metrics"]["arrived_central"], result.daily, result.legs
"""

from routesim.model import RouteModel
from routesim.network import RouteNetwork
from routesim.outcomes import METRICS, RunResult
from routesim.runner import run
from routesim.scenario import Scenario, ScenarioError

__all__ = ["METRICS", "RouteModel", "RouteNetwork", "RunResult", "Scenario", "ScenarioError", "run"]

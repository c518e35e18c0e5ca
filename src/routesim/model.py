"""RouteModel: builds the world from a scenario and runs its days in one fixed order.

A day (`step`): policies due today take effect; new migrants appear at origins; authorities issue
visas; smugglers depart full or overdue trips, leave, or enter; migrants whose wake-up day is today
decide; trips that end today resolve their hazards; news of today's outcomes starts travelling;
data is collected. Migrants with nothing to decide sleep on a day calendar (a dict of day -> agents)
rather than on Mesa's event list: wake-ups must happen inside the day's order above, and a list
append is far cheaper than a heap event per agent, so a day costs what its decisions cost.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import gc
import math
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import mesa
import numpy as np
import pandas as pd

from routesim.agents.armed_group import ArmedGroup
from routesim.agents.authority import Authority
from routesim.agents.migrant import Migrant, best_by_taste
from routesim.agents.smuggler import Smuggler
from routesim.conditions import NO_GROUP, LegConditions
from routesim.information import SELF, SMUGGLED, Information, personal
from routesim.ledger import Ledger
from routesim.market import Market
from routesim.network import ROUTES, RouteNetwork
from routesim.outcomes import (
    ARRIVED,
    EXTRA_METRICS,
    IN_TRANSIT,
    METRICS,
    WAITING,
    Outcomes,
)
from routesim.routes import CHANNEL_TASTE, Menu, RoutePlans, build_plans, reference_price
from routesim.scenario import Policy, Scenario, ScenarioError, Tactic
from routesim.trips import Trips


class Calendar:
    """Agents to wake, by day. Insertion order is kept, so runs are reproducible."""

    def __init__(self) -> None:
        self._days: dict[int, list[Any]] = defaultdict(list)

    def add(self, day: int, agent: Any) -> None:
        self._days[day].append(agent)

    def pop(self, day: int) -> list[Any]:
        return self._days.pop(day, [])


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Let CPython's cyclic garbage collector run less often while a run is under way.

    A run creates hundreds of thousands of agents that live to its end, and almost no cyclic
    garbage; with the default thresholds (700, 10, 10) the collector walks every live agent 16
    times a run at `scale: 1` and frees nothing (about 9 % of the run). Young objects are now
    collected every 10,000 allocations instead of 700, and older ones far less often; the
    thresholds are restored after. The setting is per process: two runs in threads of one
    process share it, and the last to finish restores it.
    """
    before = gc.get_threshold()
    gc.set_threshold(10_000, 50, 1_000)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _cumulative(shares: np.ndarray) -> np.ndarray:
    """Cumulative shares along the last axis, built as rng.choice(p=shares) builds them, so that
    `cdf.searchsorted(rng.random(size), side="right")` draws exactly what rng.choice would
    (without checking p again on every call)."""
    cdf = shares.cumsum(axis=-1)
    cdf /= cdf[..., -1:]
    return cdf


def fear(chance: Any, weight: Any) -> Any:
    """A chance of interception as a person of risk attitude `weight` sees it: its odds times
    the weight (the bold see less, the timid more), so it stays below 1 whatever the weight,
    and the cost of trying again after each interception stays finite. Works on arrays."""
    odds = weight * chance
    return odds / (1 - chance + odds + 1e-12)


def _read_metric(model: RouteModel, name: str) -> float:
    return model.today[name]


class RouteModel(mesa.Model):
    """The route world for one scenario and seed. `run_model()` runs warm-up and `days`."""

    def __init__(self, scenario: Scenario, network: RouteNetwork | None = None) -> None:
        super().__init__(rng=scenario.seed)
        self.params = scenario
        self.scale = scenario.scale
        where = scenario.network.data_dir
        own = RouteNetwork.folder_for(where)
        if network is not None and network.folder.resolve() != own.resolve():
            raise ValueError(f"the network given is {network.folder}, the scenario's is {own}")
        self.network = net = network or RouteNetwork.load(where)
        self.day = -scenario.warmup_days
        self._read_network(net)
        self.conditions = LegConditions(net, scenario.authorities)
        self._policies = self._check_policies(scenario.policies)
        self.outcomes = Outcomes(net.legs, self.scale)
        self.ledger = Ledger()
        self.calendar = Calendar()
        self.trips = Trips(self)
        self.authorities = {
            row.iso3: Authority(
                self, row.iso3, int(row.detention_days), frozenset(row.visa_free_for.split())
            )
            for row in net.countries.itertuples()
        }
        self.armed_groups: dict[str, ArmedGroup] = {}
        self._group_list: list[ArmedGroup] = []
        self._group_at_node: dict[int, int] = {}
        for row in net.armed_groups.itertuples():
            leg = net.leg_index[(row.leg_from, row.leg_to)]
            self._give_leg(leg, row.group, row.control, row.right_of_way_eur)
        self._visa_holder: dict[str, Authority] = {}
        self._apply_due_policies()  # day-0 policies shape what people and smugglers expect
        self.info = self._news_board()
        self.market = Market(
            self, pressure=self.conditions.enforcement * self.conditions.efficiency
        )
        self.datacollector = mesa.DataCollector(
            model_reporters={
                name: functools.partial(_read_metric, name=name) for name in METRICS + EXTRA_METRICS
            }
        )
        self.today: dict[str, float] = {}
        self._fees_at_midyear: dict[Smuggler, float] = {}
        for leg in np.flatnonzero(self.offers_smuggled):
            for _ in range(scenario.smugglers.initial_per_leg):
                self.market.enter(int(leg))

    # --- building the world -------------------------------------------------------------------

    def _read_network(self, net: RouteNetwork) -> None:
        legs, locs = net.legs, net.locations
        self.leg_src: list[int] = legs["src"].tolist()
        self.leg_dst: list[int] = legs["dst"].tolist()
        self.leg_mode: list[str] = legs["mode"].tolist()
        self.leg_route: list[str] = legs["route"].tolist()
        self.leg_days: list[int] = [max(1, round(d)) for d in legs["days"]]
        self.leg_smuggler_cost: list[float] = legs["smuggler_cost_eur"].tolist()
        self.leg_self_cost: np.ndarray = legs["self_cost_eur"].to_numpy()
        self.leg_needed: np.ndarray = legs["smuggler_needed"].to_numpy()
        self._skill_needed: list[float] = self.leg_needed.tolist()  # read per decision
        self.leg_from_country: list[str] = legs["from_country"].tolist()
        self.leg_to_country: list[str] = legs["to_country"].tolist()
        self.wage: list[float] = locs["wage_eur_day"].tolist()
        self.is_destination: list[bool] = (locs["kind"] == "destination").tolist()
        self.is_gold_mine: list[bool] = (locs["kind"] == "gold_mine").tolist()
        is_air = (legs["mode"] == "air").to_numpy()
        ecowas_free = (legs["ecowas"] == 1).to_numpy() & (self.leg_needed == 0)
        self.offers_self = is_air | (self.leg_needed < 1)
        self.offers_smuggled = ~ecowas_free
        self._offers = (self.offers_self.tolist(), self.offers_smuggled.tolist())
        mix = net.countries.set_index("iso3")[["share_structured", "share_small_network"]]
        structured = legs["from_country"].map(mix["share_structured"]).to_numpy(dtype=float)
        small = legs["from_country"].map(mix["share_small_network"]).to_numpy(dtype=float)
        organisation_mix = np.stack(
            [np.clip(1 - structured - small, 0, 1), small, structured], axis=1
        )
        organisation_mix /= organisation_mix.sum(axis=1, keepdims=True)
        self.organisation_cdf = _cumulative(organisation_mix)  # who enters a leg: Market.enter
        origins = net.origins
        self._origin_node = [net.index[n] for n in origins["location"]]
        self._origin_nationality = [self._country_of(n) for n in origins["location"]]
        # News travels among compatriots: one network of origin per nationality.
        self.networks = sorted(set(self._origin_nationality))
        self._origin_network = [self.networks.index(c) for c in self._origin_nationality]
        self._origin_rate = (
            origins["people_per_year"].to_numpy()
            * self._origin_factors(origins["location"])
            / 365.0
            * self.params.migrants.people_per_year
            / self.scale
        )
        self._origin_cash = origins["cash_median_eur"].to_numpy()
        mp = self.params.migrants
        corridor = mp.choice_noise_eur * mp.corridor_noise_share
        coast = corridor * mp.coast_noise_share
        # The logit scales of the nested choice (`migrant.nested_pick`): migrating (against home
        # and a visa), corridors, a corridor's coasts, a coast's crossings.
        self.spreads = (mp.choice_noise_eur, corridor, coast, coast * mp.crossing_noise_share)
        # Alone or with a smuggler on a leg: the nest below a crossing, as close substitutes.
        self._channel_spread = self.spreads[-1]
        self._risk_cdf = _cumulative(np.array(mp.risk_class_shares))
        self._risk_weight = np.array(mp.risk_classes) * mp.risk_aversion
        self._tactics = {m: list(t.values()) for m, t in self.params.smugglers.tactics.items()}
        self._read_routes(net)
        self._origin_female = origins["female_share"].to_numpy()
        self._origin_minor = origins["minor_share"].to_numpy()

    def _read_routes(self, net: RouteNetwork) -> None:
        """Candidate routes (found once per network and reference cost), and what an
        interception on each leg does: where people are sent, for how many days, and what
        that costs them in time and in the way back."""
        mp = self.params.migrants
        vot = mp.value_of_time_eur_per_day
        reference = (
            reference_price(net)
            + vot * np.asarray(self.leg_days)
            + mp.value_of_life_eur * net.legs["base_hazard"].to_numpy()
        )
        key = ("plans", vot, mp.value_of_life_eur)
        plans = net.memo.get(key)
        if plans is None:
            plans = net.memo[key] = build_plans(net, reference)
        self.plans: RoutePlans = plans
        self.route_start: list[int] = [self.leg_src[leg] for leg in plans.first_leg]
        detention = dict(zip(net.countries["iso3"], net.countries["detention_days"], strict=True))
        rules: dict[tuple[str, str], list[tuple[int, float, int]]] = defaultdict(list)
        for row in net.interceptions.itertuples():
            node = net.index[row.sent_to] if row.sent_to else -1
            days = detention[row.country] if np.isnan(row.detention_days) else row.detention_days
            rules[(row.country, row.mode)].append((node, float(row.share), int(days)))
        self._sent_to: list[tuple[list[int], list[float], list[int]]] = []
        held = np.zeros(net.n_legs)
        sent = np.zeros((net.n_legs, net.n_locations))
        for leg in range(net.n_legs):
            country, src = self.leg_from_country[leg], self.leg_src[leg]
            rule = rules.get((country, self.leg_mode[leg])) or [(-1, 1.0, int(detention[country]))]
            nodes = [src if node < 0 else node for node, _, _ in rule]
            shares = np.array([share for _, share, _ in rule])
            days = [d for _, _, d in rule]
            self._sent_to.append((nodes, _cumulative(shares).tolist(), days))
            held[leg] = float(shares @ np.array(days, dtype=float)) * vot
            np.add.at(sent[leg], nodes, shares)
        self._held_cost = held  # the days an interception holds people, at the value of time
        self._sent = sent  # (legs, locations): where those stopped on a leg are taken
        # Each location's candidate routes, end to end, where each location's begin (a location
        # without any: the padding route, which costs inf), and the crossings they end on.
        listed = [c or [plans.n_routes] for c in plans.candidates]
        self._candidate_flat = np.concatenate(listed)
        self._candidate_starts = np.cumsum([0] + [len(c) for c in listed[:-1]])
        self._candidate_crossings = [[plans.crossing[r] for r in c] for c in plans.candidates]
        self._candidate_arrays = [np.asarray(c, dtype=np.intp) for c in plans.candidates]
        # From what skill a network's people cross each candidate's first leg alone, and those
        # thresholds in order, by (network, location) (`menu`; a policy may change them).
        self._alone_rules: dict[tuple[int, int], tuple[list[float], list[float]]] = {}
        # The crossings into Europe, and the corridor each is in (one-hot over ROUTES).
        crossing_legs = sorted(set(plans.crossing))
        self._crossing_legs = np.array(crossing_legs)
        onehot = np.zeros((len(crossing_legs), len(ROUTES)))
        for i, leg in enumerate(crossing_legs):
            onehot[i, ROUTES.index(self.leg_route[leg])] = 1.0
        self._crossing_corridor = onehot
        self._corridor_prior = (onehot.sum(axis=0) > 0) * self.params.migrants.news_prior_people
        self._best_onward: np.ndarray | None = None  # (rows, locations), yesterday's

    def sent_to(self, leg: int) -> tuple[int, int]:
        """Where the people of a trip stopped on `leg` are taken, and for how many days they are
        held there (0: released): the practice reported for the leg's country and mode."""
        nodes, cdf, days = self._sent_to[leg]
        if len(nodes) == 1:
            return nodes[0], days[0]
        k = bisect.bisect_right(cdf, self.rng.random())
        return nodes[k], days[k]

    @property
    def people_setting_out_per_day(self) -> float:
        """Expected number of people who appear at all origins per day (at any scale)."""
        return float(self._origin_rate.sum()) * self.scale

    def _origin_factors(self, locations: pd.Series) -> np.ndarray:
        """Each origin's flow multiplier (`migrants.origin_flow`; 1 where not named)."""
        factors = self.params.migrants.origin_flow
        unknown = sorted(set(factors) - set(locations))
        if unknown:
            raise ScenarioError(
                self.params.source,
                f"migrants.origin_flow.{unknown[0]}",
                f"not an origin (origins: {', '.join(locations)})",
            )
        return locations.map(lambda name: factors.get(name, 1.0)).to_numpy(dtype=float)

    def _country_of(self, location: str) -> str:
        return str(self.network.locations["country"].iloc[self.network.index[location]])

    def _news_board(self) -> Information:
        """What people believe of each leg before hearing from anyone: its reputation, from the
        network data alone (base hazard, the enforcement and armed control the CSVs report),
        not from the policies in force, which reach beliefs only through what they cause."""
        p, net = self.params, self.network
        legs = net.legs
        efficiency = np.array([p.authorities.interception_efficiency[m] for m in legs["mode"]])
        caught = legs["enforcement"].to_numpy() * efficiency
        held = np.zeros(net.n_legs)
        for row in net.armed_groups.itertuples():
            held[net.leg_index[(row.leg_from, row.leg_to)]] = row.control
        risks = np.stack(
            [legs["base_hazard"].to_numpy(), caught, held * p.armed_groups.kidnap_rate], axis=-1
        )
        mp = p.migrants
        return Information(
            len(self.networks),
            net.n_legs,
            mp.info_delay_days,
            mp.info_memory_days,
            mp.news_prior_people,
            mp.news_spillover,
            prior_risks=np.stack([risks, risks], axis=1),
            prior_fee=self._prior_fee(net),
        )

    @staticmethod
    def _prior_fee(net: RouteNetwork) -> np.ndarray:
        """Reputation of a leg's price before anyone is heard from: the reported midpoint."""
        legs = net.legs
        mid = (legs["fee_low_eur"] + legs["fee_high_eur"]) / 2
        return mid.fillna(legs["smuggler_cost_eur"] * 2).to_numpy()

    def _give_leg(self, leg: int, group_name: str, control: float, right_of_way: float) -> None:
        group = self.armed_groups.get(group_name)
        if group is None:
            group = self.armed_groups[group_name] = ArmedGroup(self, group_name)
        self.conditions.give(leg, list(self.armed_groups).index(group_name), control, right_of_way)
        self._group_list = list(self.armed_groups.values())
        self._refresh_group_at_node()

    def _refresh_group_at_node(self) -> None:
        best: dict[int, tuple[float, int]] = {}
        for leg in np.flatnonzero(self.conditions.armed_owner >= 0):
            control = float(self.conditions.armed_control[leg])
            for node in (self.leg_src[leg], self.leg_dst[leg]):
                if control > 0 and control > best.get(node, (0.0, NO_GROUP))[0]:
                    best[node] = (control, int(self.conditions.armed_owner[leg]))
        self._group_at_node = {node: g for node, (_, g) in best.items()}

    # --- policies -------------------------------------------------------------------------------

    def _check_policies(self, policies: list[Policy]) -> list[tuple[int, int, Policy]]:
        """Resolve every policy against the network now, so a bad name fails before the run."""
        src = self.params.source
        due = []
        for i, policy in enumerate(policies):
            try:
                if policy.where is not None and len(self.network.select(policy.where, src)) == 0:
                    raise ScenarioError(
                        src,
                        "where",
                        "selects no legs (check country, mode, location and leg against legs.csv)",
                    )
                if policy.legal_pathways is not None:
                    lp = policy.legal_pathways
                    countries = set(self.network.countries["iso3"])
                    if lp.origin not in countries:
                        raise ScenarioError(
                            src, "legal_pathways.origin", f"unknown country {lp.origin!r}"
                        )
                    node = self.network.require_location(
                        lp.destination, src, "legal_pathways.destination"
                    )
                    if not self.is_destination[node]:
                        raise ScenarioError(
                            src,
                            "legal_pathways.destination",
                            f"{lp.destination!r} is not a destination",
                        )
            except ScenarioError as err:
                raise ScenarioError(err.source, f"policies.{i}.{err.key}", err.message) from None
            effective = policy.day if policy.day > 0 else -self.params.warmup_days
            due.append((effective, i, policy))
        return sorted(due, key=lambda d: (d[0], d[1]))

    def _apply_due_policies(self) -> None:
        while self._policies and self._policies[0][0] <= self.day:
            _, _, policy = self._policies.pop(0)
            self.apply_policy(policy)

    def apply_policy(self, policy: Policy) -> None:
        """Put one timeline entry into force (later entries win where they overlap)."""
        self._alone_rules.clear()
        if policy.where is not None:
            legs = self.network.select(policy.where, source=self.params.source)
            for key, value in policy.leg_actions.items():
                if key == "armed_control":
                    for leg in legs:
                        owner = int(self.conditions.armed_owner[leg])
                        name = policy.armed_group or (
                            self._group_list[owner].name
                            if owner >= 0
                            else f"armed_groups_{self.leg_from_country[leg]}"
                        )
                        row = (
                            self.conditions.right_of_way[leg]
                            or self.params.armed_groups.right_of_way_eur
                        )
                        self._give_leg(int(leg), name, float(value), row)
                elif key == "patrol_effort":
                    missed = 1 - self.conditions.enforcement[legs]
                    self.conditions.set(legs, "enforcement", 1 - missed ** float(value))
                else:
                    self.conditions.set(legs, key, value)
        if policy.legal_pathways is not None:
            lp = policy.legal_pathways
            dest = self.network.index[lp.destination]
            holder = self.authorities[self._country_of(lp.destination)]
            previous = self._visa_holder.pop(lp.origin, None)
            if previous is not None and (previous is not holder or lp.quota_per_year == 0):
                for m in previous.close_quota(lp.origin):  # later entries win
                    m.sleep(1, WAITING)
            if lp.quota_per_year > 0:
                holder.open_quota(lp.origin, lp.quota_per_year, dest)
                self._visa_holder[lp.origin] = holder

    # --- what agents ask of the world ------------------------------------------------------------

    def authority_of(self, leg: int) -> Authority:
        return self.authorities[self.leg_from_country[leg]]

    def armed_group_on(self, leg: int) -> ArmedGroup | None:
        owner = self.conditions.holder_on(leg)
        return None if owner == NO_GROUP else self._group_list[owner]

    def armed_group_at(self, node: int) -> ArmedGroup | None:
        g = self._group_at_node.get(node)
        return None if g is None else self._group_list[g]

    def side_business_eur(self, leg: int) -> float:
        """Tramadol carried on the same vehicles, Niger -> Libya (UNODC 2023)."""
        if self.leg_from_country[leg] == "NER" and self.leg_to_country[leg] == "LBY":
            return self.params.smugglers.tramadol_eur_per_trip
        return 0.0

    def can_go_alone(self, leg: int, migrant: Migrant) -> bool:
        need, visa = self._alone_terms(leg)
        return migrant.skill >= need and (visa is None or migrant.nationality in visa)

    def _alone_terms(self, leg: int) -> tuple[float, frozenset[str] | None]:
        """Who may cross `leg` alone today: the skill it asks (skill is the means to cross
        alone) and, on a visa-free flight, the nationalities it is visa-free for; nobody flies
        without a smuggler's papers where there is no visa-free entry."""
        need, visa = self._skill_needed[leg], None
        if self.leg_mode[leg] == "air":
            if self.conditions.visa_free_on(leg):
                visa = self.authorities[self.leg_to_country[leg]].visa_free_for
            else:
                need = math.inf
        return need, visa

    @property
    def legal_ticket_eur(self) -> float:
        return self.params.migrants.legal_ticket_eur

    def legal_wait_days(self, migrant: Migrant) -> float | None:
        if migrant.node != migrant.origin:
            return None
        holder = self._visa_holder.get(migrant.nationality)
        return None if holder is None else holder.expected_wait(migrant.nationality)

    def apply_for_visa(self, migrant: Migrant) -> None:
        """Queue for a visa; reconsider if it has not come when the wait people hear of is over."""
        holder = self._visa_holder[migrant.nationality]
        wait = holder.expected_wait(migrant.nationality) or 0.0
        holder.quotas[migrant.nationality].queue.append((migrant, migrant.join_queue()))
        migrant.sleep(int(wait) + self.params.migrants.patience_days, WAITING)

    def grant_visa(self, migrant: Migrant, destination: int) -> None:
        out = self.outcomes
        self.ledger.pay(
            migrant,
            self.ledger.outside["suppliers"],
            min(migrant.cash, self.legal_ticket_eur) * self.scale,
            "transport",
        )
        migrant.leave_home()
        migrant.node = destination
        migrant.leave_queues()
        out.add("arrived_legal")
        migrant.finish(ARRIVED)

    def route_cost(self, row: int, route: int) -> float:
        """Today's perceived cost of one route for one row (network of origin x risk class)."""
        return float(self._route_cost[row, route])

    def route_costs_on(self, row: int, route: int) -> list[float]:
        """Today's perceived cost of a route and of each rest of it (after its first leg, its
        second, ...), for one row: what a person choosing it expects, to tell later news from."""
        onward, costs = self.plans.onward, []
        while route >= 0:
            costs.append(float(self._route_cost[row, route]))
            route = onward[route]
        return costs

    def menu(self, row: int, node: int) -> Menu:
        """Today's candidate routes from `node` (`plans.candidates[node]`, in that order) for
        one row: from what skill its people cross each first leg alone (never, on a flight
        their nationality may not take alone), the cost if they do, and if not. Built once a
        day per (row, location) in use: most decisions read only its cheapest route to each of
        the 22 crossings (`Menu.by_crossing`), not the 64 routes of an average menu.
        A row's people share a nationality (the network of origin is the nationality)."""
        key = row * self.network.n_locations + node
        menu = self._menus.get(key)
        if menu is None:
            network = row // len(self._risk_weight)
            rules = self._alone_rules.get((network, node))
            if rules is None:  # changes only with a policy (visa-free flights)
                nationality = self.networks[network]
                alone_from = []
                for r in self.plans.candidates[node]:
                    need, visa = self._alone_terms(self.plans.first_leg[r])
                    alone_from.append(need if visa is None or nationality in visa else math.inf)
                levels = sorted({t for t in alone_from if math.isfinite(t)})
                rules = self._alone_rules[(network, node)] = (alone_from, levels)
            routes = self._candidate_arrays[node]
            menu = self._menus[key] = Menu(
                self.plans.candidates[node],
                self._candidate_crossings[node],
                *rules,
                self._route_cost_alone[row, routes].tolist(),
                self._route_cost_smuggled[row, routes].tolist(),
            )
        return menu

    def home_cost(self, migrant: Migrant) -> float:
        """What going home costs from where a person is: the way back, or a flight home."""
        if migrant.node == migrant.origin:
            return 0.0
        back = float(self.plans.travel_cost[migrant.node, migrant.origin])
        return min(back, self.params.migrants.return_flight_eur)

    def own_failure_cost(self, migrant: Migrant, leg: int, caught: int, waited: int) -> float:
        """What one's own interceptions and vain waits on `leg` add to its cost, over what one's
        compatriots' news says: the interception chance as one perceives it (and fears it),
        times what an interception sets one back; each vain wait, the days it took."""
        mp = self.params.migrants
        extra = waited * mp.value_of_time_eur_per_day * mp.patience_days
        if caught:
            heard = float(self._heard_caught[migrant.network, leg])
            own = personal(heard, caught, mp.hearsay_weight, mp.own_experience_weight)
            weight = float(self._risk_weight[migrant.risk_class])
            setback = self._setback[migrant.row, leg].tolist()
            needed = self._skill_needed[leg]
            met = needed * setback[SMUGGLED] + (1 - needed) * setback[SELF]
            extra += (fear(own, weight) - fear(heard, weight)) * met
        return extra

    def own_tactic(self, migrant: Migrant, leg: int) -> tuple[Tactic, float]:
        """How a person crossing alone runs the crossing: the tactic of the leg's mode with the
        lowest cost as it sees it (the boat's or car's cost, the interception chance it
        perceives times what an interception sets it back, the death risk at its risk
        attitude). Patrols make the cheap, hidden, dangerous way pay, as they do for smugglers.
        Returns the tactic and how visible the crossing is to patrols."""
        mp = self.params.migrants
        tactics = self._tactics[self.leg_mode[leg]]
        if len(tactics) == 1:
            return tactics[0], self._self_detection(tactics[0])
        caught = float(self._self_risks[migrant.network, leg, 1])
        memory = migrant.memory
        if memory is not None and leg in memory and memory[leg][0]:
            caught = personal(caught, memory[leg][0], mp.hearsay_weight, mp.own_experience_weight)
        setback = float(self._setback[migrant.row, leg, SELF])
        weight = float(self._risk_weight[migrant.risk_class])
        death = float(self._self_risks[migrant.network, leg, 0]) * mp.value_of_life_eur * weight
        cost = self.leg_self_cost[leg]
        affordable = [t for t in tactics if cost * t.cost_factor <= migrant.cash + 1e-9]
        seen = self._self_detection

        def judged(t: Tactic) -> float:  # the chance heard of taken as a standard crossing's
            return (
                cost * t.cost_factor + fear(caught * seen(t), weight) * setback + death * t.hazard
            )

        best = min(affordable or [min(tactics, key=lambda t: t.cost_factor)], key=judged)
        return best, seen(best)

    def _self_detection(self, tactic: Tactic) -> float:
        """How visible a self-organised crossing run with `tactic` is to patrols: it gains only
        part of what the tactic hides (`migrants.self_evasion`); smugglers gain all of it."""
        return 1 - self.params.migrants.self_evasion * (1 - tactic.detection)

    def first_leg_price(self, route: int, migrant: Migrant) -> float:
        """The lowest price at which this person can set off on a route today."""
        leg = self.plans.first_leg[route]
        price = self._price_list[leg]
        best = math.inf
        if self._open_alone(leg, migrant):
            best = price[SELF]
        if self._offers[SMUGGLED][leg]:
            best = min(best, price[SMUGGLED])
        return best

    def first_prices(self, menu: Menu, skill: float) -> list[float]:
        """`first_leg_price` of each of a menu's routes for a person of `skill` (and of the
        menu's nationality), as one list that people of the same skill level share today."""

        def build() -> list[float]:
            offers_self, offers_smuggled = self._offers
            prices = []
            for route, need in zip(menu.routes, menu.alone_from, strict=True):
                leg = self.plans.first_leg[route]
                price = self._price_list[leg]
                best = price[SELF] if offers_self[leg] and skill >= need else math.inf
                if offers_smuggled[leg]:
                    best = min(best, price[SMUGGLED])
                prices.append(best)
            return prices

        return menu.shared("first_prices", skill, build)

    @property
    def rest_fare(self) -> list[float]:
        """By route: what the rest of it (after its first leg) costs in fares today, as people
        crossing those legs pay them."""
        if self._rest_fare is None:
            price = np.asarray(self._price_list)
            fare = self._as_travellers(price[:, SMUGGLED], price[:, SELF])
            first = self.plans.first_leg
            self._rest_fare = (self.plans.incidence @ fare - fare[first]).tolist()
        return self._rest_fare

    def _open_alone(self, leg: int, migrant: Migrant) -> bool:
        """Someone crosses `leg` alone today and this person could."""
        return self._offers[SELF][leg] and self.can_go_alone(leg, migrant)

    def pick_channel(self, migrant: Migrant, leg: int, budget: float) -> tuple[int, float]:
        """Alone or with a smuggler on `leg` (a logit on today's costs), among the channels open
        to this person and, if `budget` is finite, within it: (channel, price)."""
        price = self._price_list[leg]
        alone = self._open_alone(leg, migrant)
        smuggled = self._offers[SMUGGLED][leg]
        if alone != smuggled:  # one way across: no choice to weigh
            channel = SELF if alone else SMUGGLED
            return channel, price[channel]
        costs = self._leg_cost[migrant.row, leg].tolist()
        options = [c for c in (SELF, SMUGGLED) if price[c] <= budget]
        taste = migrant.taste
        channel = options[
            best_by_taste(
                [costs[c] for c in options],
                self._channel_spread,
                [float(taste[CHANNEL_TASTE + c]) for c in options],
            )
        ]
        return channel, price[channel]

    # --- the day --------------------------------------------------------------------------------

    def _plan(self) -> None:
        """Once a day: the perceived cost of each leg, by channel, for every network of origin
        and risk class, and of every candidate route (the sum of its legs).

        A leg costs its price, its days, its risks of death and abuse (weighted by risk
        attitude), and the chance of interception times what an interception does: the fee is
        lost, people are held for days, and they must go on from where they are taken (a
        detention centre, a town far from the coast, the start of the leg) instead of from the
        leg's end: the best route from there, as it looked yesterday, less the best from the
        leg's end. Where a good road leads on from where people are taken, an interception costs
        little; where the only way on is the patrolled leg again, each attempt costs the next.
        A patrolled coast grows dearer with its patrols, and thins, but stays on the map.
        """
        mp = self.params.migrants
        risks = self.info.perceived_risks()  # (networks, legs, channels, 3)
        quote = self.market.quote()
        closed = np.flatnonzero(np.isnan(quote) & self.offers_smuggled)
        quote[closed] = [self.market.asking(int(leg)) for leg in closed]
        fee = np.nan_to_num(quote, nan=0.0)  # legs where nobody smuggles
        price = np.stack([self.leg_self_cost, fee], axis=1)  # (legs, channels)
        loss = price + self._held_cost[:, None]
        base = price + mp.value_of_time_eur_per_day * np.asarray(self.leg_days)[:, None]
        dead, caught, abused = risks[..., 0], risks[..., 1], risks[..., 2]
        harm = dead * mp.value_of_life_eur + abused * mp.abuse_cost_eur
        harm = harm + caught * mp.interception_harm_eur
        weight = self._risk_weight[None, :, None, None]
        networks, classes = len(self.networks), len(self._risk_weight)
        fixed = base + weight * harm[:, None]  # (networks, classes, legs, channels)
        feared = fear(caught[:, None], weight)  # the chance of interception as each class sees it
        for _ in range(1 if self._best_onward is not None else 3):  # yesterday's, or settle
            if self._best_onward is None:
                onward = np.zeros((networks * classes, self.network.n_legs))
            else:
                best = self._best_onward
                onward = np.maximum(best @ self._sent.T - best[:, self.leg_dst], 0.0)
            setback = loss + onward.reshape(networks, classes, -1, 1)
            cost = (fixed + feared * setback).reshape(-1, *price.shape)
            alone = np.where(self.offers_self, cost[..., SELF], np.inf)
            smuggled = np.where(self.offers_smuggled, cost[..., SMUGGLED], np.inf)
            cheapest = np.minimum(alone, smuggled)
            with np.errstate(invalid="ignore"):  # inf * 0 where a leg has no smuggler option
                expected = np.where(
                    self.leg_needed > 0, self._as_travellers(smuggled, cheapest), cheapest
                )
            routes = np.asarray((self.plans.incidence @ expected.T).T)
            padded = np.concatenate([routes, np.full((len(routes), 1), np.inf)], axis=1)
            best = np.minimum.reduceat(
                padded[:, self._candidate_flat], self._candidate_starts, axis=1
            )
            best[:, self.is_destination] = 0.0
            # Taken where no route leads on (none in the packaged network): as bad as giving up.
            self._best_onward = np.where(np.isfinite(best), best, mp.migration_value_eur)
        self._route_cost = routes
        # A route's cost for a person who can cross its first leg alone, and for one who
        # cannot: the first leg is the person's own choice, the rest as people like it fare.
        first = self.plans.first_leg
        with np.errstate(invalid="ignore"):  # inf - inf where a first leg is closed to all
            rest = np.where(np.isfinite(routes), routes - expected[:, first], np.inf)
        self._route_cost_alone = rest + cheapest[:, first]
        self._route_cost_smuggled = rest + smuggled[:, first]
        self._unknown = None
        if mp.follow_compatriots > 0:  # a corridor one's compatriots are not heard to take
            unknown = np.repeat(self._corridor_unknown(), classes, axis=0)[:, self.plans.corridor]
            self._unknown = unknown
            self._route_cost_alone = self._route_cost_alone + unknown
            self._route_cost_smuggled = self._route_cost_smuggled + unknown
        self._leg_cost = cost
        self._price_list = price.tolist()
        self._rest_fare: list[float] | None = None  # `rest_fare`, when first asked today
        # Read by `own_tactic` and `own_failure_cost`: the chance heard of (alone, and as a
        # traveller on each leg meets it, with a smuggler where one is needed) and what an
        # interception sets one back, by row (network x class), leg and channel.
        self._self_risks = risks[:, :, SELF]
        self._heard_caught = self._as_travellers(caught[..., SMUGGLED], caught[..., SELF])
        self._setback = (setback + mp.interception_harm_eur).reshape(*cost.shape)
        self._menus: dict[int, Menu] = {}

    def _corridor_unknown(self) -> np.ndarray:
        """(networks, ROUTES): what a corridor costs a network's people for being less known
        to them, as the corridors' spread times minus the log of its weight in the choice:
        its share of the crossings into Europe the network has heard of lately (each corridor
        with `news_prior_people` more), to the power `follow_compatriots`."""
        heard = self.info.heard_crossings()[:, self._crossing_legs]  # (networks, crossings)
        by_corridor = heard @ self._crossing_corridor + self._corridor_prior
        share = by_corridor / by_corridor.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore"):  # a corridor with no crossing: never weighed
            return -self.params.migrants.follow_compatriots * self.spreads[1] * np.log(share)

    def offer_cost(self, row: int, route: int) -> float:
        """A route's cost as a person weighs it against others today: its perceived cost, and
        the weight of its corridor among its compatriots' routes."""
        cost = float(self._route_cost[row, route])
        if self._unknown is not None:
            cost += float(self._unknown[row, route])
        return cost

    def _as_travellers(self, smuggled: np.ndarray, alone: np.ndarray) -> np.ndarray:
        """A per-leg quantity as the people crossing the leg meet it: with a smuggler where
        one is needed (the leg's `smuggler_needed` share), the other way otherwise."""
        needed = self.leg_needed
        return needed * smuggled + (1 - needed) * alone

    def _spawn(self) -> None:
        """New people set out from each origin (Poisson around its yearly flow). A day's arrivals
        from all origins are created in one call: at `scale: 10` each origin sends a few a day,
        and each call builds an AgentSet."""
        rng = self.rng
        value = math.log(self.params.migrants.migration_value_eur)
        spread = self.params.migrants.migration_value_spread
        columns: list[list[Any]] = [[] for _ in range(10)]
        node, nationality, network, cash, female, minor, risk, skill, worth, taste = columns
        for k, rate in enumerate(self._origin_rate):
            n = int(rng.poisson(rate))
            if n == 0:
                continue
            node += [self._origin_node[k]] * n
            nationality += [self._origin_nationality[k]] * n
            network += [self._origin_network[k]] * n
            cash += rng.lognormal(math.log(self._origin_cash[k]), 0.6, n).tolist()
            female += (rng.random(n) < self._origin_female[k]).tolist()
            minor += (rng.random(n) < self._origin_minor[k]).tolist()
            # rng.choice(p=risk_class_shares) draws exactly this, after checking p on every call.
            risk += self._risk_cdf.searchsorted(rng.random(n), side="right").tolist()
            skill += rng.random(n).tolist()
            worth += rng.lognormal(value, spread, n).tolist()
        if not node:
            return
        taste += list(rng.gumbel(size=(len(node), self.plans.n_tastes)).astype(np.float32))
        arrivals = Migrant.create_agents(self, len(node), *columns)
        for m in arrivals:
            self.calendar.add(self.day, m)
        self.outcomes.spawned(len(node))

    def step(self) -> None:
        if self.day == 0:
            self._end_warmup()
        self._apply_due_policies()
        self._spawn()
        for authority in self.authorities.values():
            authority.step()
        self.market.step()
        self._plan()
        for agent in self.calendar.pop(self.day):
            if agent.wake_day == self.day:  # else the wake-up was cancelled or moved
                agent.wake_day = None  # one wake-up per booking, even if booked twice
                agent.wake()
        self.trips.resolve_today()
        self.info.advance()
        if self.day == self.params.days // 2:
            self._fees_at_midyear = {s: s.fee for s in self.market.active}
        if self.day >= 0:
            self.today = {"day": self.day, **self.metrics()}
            self.datacollector.collect(self)
        self.day += 1

    def metrics(self) -> dict[str, float]:
        """Every metric as of now (DESIGN §5 and the extra ones)."""
        return {
            **self.outcomes.metrics(self.ledger.flows),
            "smugglers_raising_fees_share": self._raising_fees_share(),
        }

    def _raising_fees_share(self) -> float:
        """Of the smugglers active at mid-year and still active, the share whose posted fee is
        now higher than it was then (what MMC 2022 asked 356 smugglers about 2021's second
        half); 0 before mid-year."""
        still = [(s, fee) for s, fee in self._fees_at_midyear.items() if s.active]
        if not still:
            return 0.0
        return sum(s.fee > fee for s, fee in still) / len(still)

    def _end_warmup(self) -> None:
        """Start the books of the run proper; people on their way are carried in."""
        out = self.outcomes
        out.reset()
        self.ledger.reset_flows()
        for m in self.agents_by_type.get(Migrant, ()):
            if m.state in IN_TRANSIT and m.smuggled:
                out.add("ever_smuggled")

    def run_model(self, progress: Any = None, until: int | None = None) -> None:
        """Run the warm-up and the scenario's days, or only up to day `until` (0: the end of the
        warm-up); `progress` is called once per day if given."""
        end = self.params.days if until is None else min(until, self.params.days)
        with fewer_collections():
            while self.day < end:
                self.step()
                if progress is not None:
                    progress()

    def carry_on_as(self, scenario: Scenario) -> None:
        """Go on from the end of the warm-up as a run of `scenario`, which has the same warm-up
        (`Scenario.warmup_key` and seed): its own policies from day 1 replace this model's, so
        a copy of one warmed-up model serves several scenarios, as if each had run alone."""
        if self.day != 0 or (scenario.warmup_key(), scenario.seed) != (
            self.params.warmup_key(),
            self.params.seed,
        ):
            raise ValueError(
                "carry_on_as needs a model at the end of its warm-up (day 0) and a scenario "
                "with the same warm-up (warmup_key and seed)"
            )
        self.params = scenario
        self._policies = [d for d in self._check_policies(scenario.policies) if d[2].day > 0]

    # --- checks ---------------------------------------------------------------------------------

    def conservation_errors(self) -> list[str]:
        """Every person in exactly one state; every euro held by someone. Empty when all holds."""
        errors = []
        counted: dict[str, float] = defaultdict(float)
        at_origin = 0.0
        holdings = 0.0
        for agent in self.agents:
            if isinstance(agent, Migrant):
                counted[agent.state] += self.scale
                if not agent.travelled and agent.state in IN_TRANSIT:
                    at_origin += self.scale
            holdings += agent.holdings()  # type: ignore[attr-defined]
        if abs(at_origin - self.outcomes.at_origin) > 1e-9:
            errors.append(f"at origin: counters say {self.outcomes.at_origin}, agents {at_origin}")
        for state, people in self.outcomes.in_state.items():
            if abs(counted[state] - people) > 1e-9:
                errors.append(f"state {state}: counters say {people}, agents say {counted[state]}")
        if self.day > 0:
            m = self.metrics()
            ended = m["arrived"] + m["dead"] + m["returned_home"] + m["in_transit"]
            if abs(m["departed"] - ended) > 1e-9:
                errors.append(
                    f"departed {m['departed']} != arrived + dead + returned + in transit {ended}"
                )
        for s in self.agents_by_type.get(Smuggler, ()):
            free = s.seats - len(s.passengers) if s.active and not s.busy else 0
            if s.seats_left != free:
                errors.append(f"smuggler {s.unique_id}: {s.seats_left} seats left, {free} free")
        holdings += sum(a.holdings() for a in self.ledger.outside.values())
        if abs(holdings - self.ledger.endowed) > 1e-6 * max(1.0, self.ledger.endowed):
            errors.append(f"money: held {holdings:.2f} != endowed {self.ledger.endowed:.2f}")
        if any(a.cash < -1e-9 for a in self.agents_by_type.get(Migrant, ())):
            errors.append("a migrant holds negative cash")
        return errors

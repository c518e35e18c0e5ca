"""The scenario: what world to simulate and which policies change it, validated before a run.

A scenario is a YAML file (see README). Files may `extend` another file: mappings merge deeply and
`policies` are appended, so a policy scenario states only what differs from the baseline. Any scalar
can be overridden by its dotted path (`policies.libya_coast_guard.enforcement=0.9`).
Every error names the file, the key path and what is allowed, in one line.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Mode = Literal["road", "desert", "sea", "air"]
Route = Literal["central", "western", "atlantic", "none"]
ORGANISATIONS = ("individual", "small_network", "structured")


class ScenarioError(ValueError):
    """A user mistake in an input (scenario, sweep file, network, command line): printed as one
    line naming the file, the key and what is allowed, never as a traceback."""

    def __init__(self, source: str | Path, key: str, message: str) -> None:
        self.source, self.key, self.message = str(source), key, message
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- policies -------------------------------------------------------------------------------


class Where(_Strict):
    """Selects legs: all given criteria must hold (a leg's country is its departure country)."""

    country: str | list[str] | None = None
    mode: Mode | list[Mode] | None = None
    leg: tuple[str, str] | None = None
    location: str | list[str] | None = None
    route: Route | list[Route] | None = None  # the leg's route (legs.csv `route`)
    into_europe: bool | None = None  # legs that end in Europe (at a destination), or not

    @model_validator(mode="after")
    def _not_empty(self) -> Where:
        given = (self.country, self.mode, self.leg, self.location, self.route, self.into_europe)
        if all(v is None for v in given):
            raise ValueError(
                "give at least one of country, mode, leg, location, route, into_europe"
            )
        return self


class LegalPathways(_Strict):
    """Regular visas for nationals of `origin` (ISO3), issued evenly over the year."""

    origin: str
    quota_per_year: Annotated[int, Field(ge=0)]
    destination: str = "Andalusia"


LEG_ACTIONS = (
    "enforcement",
    "patrol_effort",
    "search_and_rescue",
    "corruption",
    "armed_control",
    "visa_free",
)


class Policy(_Strict):
    """One entry of the policy timeline; takes effect at the start of `day` (0 = from the start)."""

    id: str | None = None
    day: Annotated[int, Field(ge=0)] = 0
    where: Where | None = None
    enforcement: Share | None = None
    # Patrol effort multiplied on the legs, relative to what is in force when the entry takes
    # effect: `k` patrols, each stopping a standard trip with the chance `e` one does, stop it
    # with 1 - (1 - e)^k. "Tripled patrols" is effort 3; a chance is not tripled.
    patrol_effort: Positive | None = None
    search_and_rescue: Share | None = None
    corruption: Share | None = None
    armed_control: Share | None = None
    armed_group: str | None = None
    visa_free: bool | None = None
    legal_pathways: LegalPathways | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Policy:
        acts = [a for a in LEG_ACTIONS if getattr(self, a) is not None]
        if not acts and self.legal_pathways is None:
            raise ValueError(
                f"a policy needs an action: one of {', '.join(LEG_ACTIONS)}, legal_pathways"
            )
        if acts and self.where is None:
            raise ValueError(f"{acts[0]} needs `where` to say which legs it applies to")
        if self.armed_group is not None and self.armed_control is None:
            raise ValueError("armed_group goes with armed_control")
        if self.enforcement is not None and self.patrol_effort is not None:
            raise ValueError("give enforcement (a level) or patrol_effort (a multiplier), not both")
        return self

    @property
    def leg_actions(self) -> dict[str, float | bool]:
        return {k: getattr(self, k) for k in LEG_ACTIONS if getattr(self, k) is not None}


# --- behavioural parameters ------------------------------------------------------------------


def _param(default: Any, why: str, **bounds: Any) -> Any:
    """A behavioural parameter: its default, and what it means with its source or "assumption"
    (in the JSON schema of `Scenario`; the tests check that every one says where it is from)."""
    return Field(default, description=why, **bounds)


class MigrantParams(_Strict):
    """How people weigh money, time and risk (EUR), choose and revise route plans, and learn."""

    people_per_year: Positive = _param(
        1.0, "multiplier on every origin's yearly flow (origins.csv); free in the calibration"
    )
    origin_flow: dict[str, Positive] = _param(
        {},
        "multiplier on named origins' yearly flows (origins.csv location: factor; others 1); "
        "free in the calibration",
    )
    risk_aversion: NonNegative = _param(
        1.0, "multiplier on the risk terms of the generalised cost; assumption"
    )
    risk_classes: tuple[NonNegative, NonNegative, NonNegative] = _param(
        (0.4, 1.0, 2.5),
        "risk attitudes: multipliers on the risk terms for the bold, the middle and the timid; "
        "assumption",
    )
    risk_class_shares: tuple[Share, Share, Share] = _param(
        (0.3, 0.4, 0.3), "share of people in each risk class (sums to 1); assumption"
    )
    value_of_life_eur: NonNegative = _param(
        40_000.0, "weight of a death risk of 1 in the generalised cost; assumption"
    )
    value_of_time_eur_per_day: NonNegative = _param(
        10.0,
        "cost of a day on the way (food, lodging, time: waiting, detention, travel): MMC 2022 "
        "finds smuggling about 60 % of a journey's cost, so the rest of a journey of about 120 "
        "days and 1,800 EUR of fees is about 1,200 EUR, 10 EUR a day; free in the calibration",
    )
    interception_harm_eur: NonNegative = _param(
        300.0,
        "what an interception costs a person beyond the fee lost, the days lost and the fare "
        "back (violence, injury at fences, theft), weighted by risk attitude; assumption",
    )
    follow_compatriots: NonNegative = _param(
        0.0,
        "how much people weigh each corridor by how often their own compatriots are heard to "
        "cross into Europe by it lately (news_prior_people added to each corridor): a "
        "corridor's weight in the choice is its share of those crossings to this power, so "
        "people take the routes their networks know, and a route others of theirs have turned "
        "to becomes known as news of it spreads (chain migration: Massey et al. 1993, "
        "Population and Development Review 19(3); networks and route knowledge: Dekker et al. "
        "2018, Social Media + Society 4(1)); 0: off; free in the calibration",
    )
    abuse_cost_eur: NonNegative = _param(
        3_000.0, "weight of being kidnapped or exploited on a leg; assumption"
    )
    choice_noise_eur: Positive = _param(
        350.0,
        "logit scale of people's tastes: how much choices between migrating, a visa and going "
        "home scatter around the cheapest (corridor_noise_share: between corridors; "
        "coast_noise_share and crossing_noise_share: within a corridor; alone or with a "
        "smuggler on a leg: as crossings). Each person draws its tastes once and keeps them "
        "from one decision to the next (Revelt and Train 1998, Review of Economics and "
        "Statistics 80(4): mixed logit of repeated choices); free in the calibration",
    )
    migration_value_eur: Positive = _param(
        12_000.0,
        "median of what reaching Europe is worth to a person (EUR): whenever a plan is chosen "
        "or revised, going home (or staying) forgoes it, against what the plans cost; "
        "assumption",
    )
    migration_value_spread: NonNegative = _param(
        0.8, "log-normal spread of the value of reaching Europe between people; assumption"
    )
    corridor_noise_share: float = _param(
        1.0,
        "how much choices among corridors scatter, as a share of choice_noise_eur: below 1 "
        "corridors are closer substitutes for each other than for a visa or going home, so a "
        "closed route's people turn to another rather than home (a nested logit: Ben-Akiva "
        "and Lerman 1985, ch. 10); 1, no such nest; assumption",
        gt=0,
        le=1,
    )
    coast_noise_share: float = _param(
        0.5,
        "how much choices among one corridor's coasts scatter, as a share of the corridors' "
        "spread (choice_noise_eur x corridor_noise_share): below 1 a corridor's coasts are "
        "closer substitutes for each other than for another corridor (a nested logit: "
        "Ben-Akiva and Lerman 1985, ch. 10); assumption",
        gt=0,
        le=1,
    )
    crossing_noise_share: float = _param(
        0.5,
        "how much choices among the crossings from one coast (Tangier to Ceuta or to Andalusia) "
        "scatter, as a share of the coasts' spread: below 1 they are closer substitutes for "
        "each other than for another coast (the same smugglers' market, the same departure "
        "beaches); assumption",
        gt=0,
        le=1,
    )
    switching_cost_eur: NonNegative = _param(
        400.0,
        "what changing a route plan costs (new contacts, a new smuggler, a new story); it keeps "
        "people on a plan unless another is clearly better; assumption",
    )
    revision_threshold_eur: NonNegative = _param(
        300.0,
        "how much dearer a plan's remainder must look (by news since it was chosen) before a "
        "person reconsiders it without an event of its own; assumption",
    )
    return_flight_eur: NonNegative = _param(
        400.0,
        "the most going home costs from anywhere (a flight or an assisted voluntary return); "
        "assumption",
    )
    own_experience_weight: NonNegative = _param(
        3.0,
        "how many crossings heard of one's own interception on a leg counts for, against "
        "`hearsay_weight` for all the news one has; assumption",
    )
    hearsay_weight: Positive = _param(
        10.0,
        "how many crossings of one's own all the news one has heard of a leg counts for; "
        "assumption",
    )
    news_prior_people: Positive = _param(
        200.0,
        "weight of a leg's reputation against fresh news, in people (a few boats' worth); the "
        "reputation itself follows the news over `info_memory_days`; assumption",
    )
    news_spillover: Share = _param(
        0.1,
        "share of one origin network's news that reaches the others (news travels mostly among "
        "compatriots, by phone and social media); assumption",
    )
    info_delay_days: int = _param(
        14,
        "days before an outcome is heard of at home and along the way; assumption",
        ge=0,
        le=365,
    )
    info_memory_days: int = _param(
        90,
        "days over which news fades and a leg's reputation follows it; assumption",
        ge=1,
        le=3650,
    )
    max_work_days: int = _param(
        120, "longest spell of work to pay for the next leg; assumption", ge=1
    )
    patience_days: int = _param(7, "days waiting for a seat before reconsidering; assumption", ge=1)
    self_evasion: Share = _param(
        0.5,
        "how much of a tactic's lower visibility to patrols a self-organised crossing achieves "
        "(a remote beach at night without a smuggler's spotters, knowledge of patrols and "
        "bribes); assumption",
    )
    female_vulnerability: NonNegative = _param(
        3.0,
        "relative exploitation risk of women; assumption (UNODC 2023: mostly women and "
        "children are trafficked)",
    )
    minor_vulnerability: NonNegative = _param(
        2.0, "relative exploitation risk of children; assumption (UNODC 2023)"
    )
    borrow_propensity: Share = _param(
        0.5, "share of people short of money who accept travel on credit; assumption"
    )
    legal_ticket_eur: NonNegative = _param(
        400.0, "flight and visa fees on a legal pathway; assumption"
    )
    gold_mine_exploitation: Share = _param(
        0.04,
        "chance a work spell at a gold mine ends in forced labour; assumption (UNODC 2023: many "
        "end up in forced labour at gold fields)",
    )

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> MigrantParams:
        if abs(sum(self.risk_class_shares) - 1.0) > 1e-9:
            raise ValueError("risk_class_shares must sum to 1")
        return self


class PerMode(_Strict):
    """One value per mode of travel; `values[mode]` reads it."""

    road: NonNegative
    desert: NonNegative
    sea: NonNegative
    air: NonNegative

    def __getitem__(self, mode: str) -> float:
        return float(getattr(self, mode))


class SharePerMode(PerMode):
    road: Share
    desert: Share
    sea: Share
    air: Share


class Organisation(_Strict):
    capacity_factor: Positive
    arrest_evasion: Share
    exploitation: Share  # chance per vulnerable passenger-leg of being sold or exploited
    bribe_access: Share  # how far its bribes reach (petty checkpoint vs senior officials)
    offers_credit: bool


class Tactic(_Strict):
    """A way to run a trip: trades cost and detection against danger (the smuggler picks)."""

    cost_factor: Positive = 1.0
    detection: NonNegative = 1.0
    hazard: NonNegative = 1.0
    load: Positive = 1.0
    asset_factor: NonNegative = 1.0


def _default_organisations() -> dict[str, Organisation]:
    """Assumptions to calibrate: structured groups carry more, evade arrest, bribe higher up,
    exploit more and offer travel on credit (UNODC 2023: Libyan sea-departure groups, Nigerian
    networks with end-to-end control of trafficking victims)."""
    table = {  # capacity, arrest evasion, exploitation, bribe access, credit
        "individual": (0.6, 0.1, 0.01, 0.3, False),
        "small_network": (1.0, 0.45, 0.03, 0.6, False),
        "structured": (1.6, 0.8, 0.08, 1.0, True),
    }
    return {
        name: Organisation(
            capacity_factor=c, arrest_evasion=e, exploitation=x, bribe_access=b, offers_credit=k
        )
        for name, (c, e, x, b, k) in table.items()
    }


def _default_tactics() -> dict[str, dict[str, Tactic]]:
    return {
        "sea": {
            "seaworthy": Tactic(),
            # A cheap dinghy, packed, launched at night from a remote beach.
            "overloaded": Tactic(
                cost_factor=0.9, detection=0.75, hazard=2.5, load=1.4, asset_factor=0.35
            ),
        },
        "desert": {
            "main_track": Tactic(),
            "remote_track": Tactic(cost_factor=1.3, detection=0.45, hazard=3.0),
        },
        "road": {"road": Tactic()},
        "air": {"forged_documents": Tactic()},
    }


class SmugglerParams(_Strict):
    """How smugglers price, load and take risks. Capacities are people per trip."""

    capacity: PerMode = PerMode(road=20, desert=35, sea=60, air=10)  # pickups and trucks
    asset_eur: PerMode = PerMode(road=4_000, desert=15_000, sea=20_000, air=0)
    markup_initial: NonNegative = 0.6
    markup_adaptation: Share = 0.08
    markup_bounds: tuple[NonNegative, NonNegative] = (0.05, 3.0)
    max_wait_days: Annotated[int, Field(ge=1)] = 6
    idle_exit_days: Annotated[int, Field(ge=1)] = 60
    initial_per_leg: Annotated[int, Field(ge=0)] = 2
    entry_rate: Share = 0.5  # chance per day that a fully profitable, busy leg draws an entrant
    arrest_cost_eur: NonNegative = 60_000.0  # what a smuggler prices in for being arrested
    death_aversion_eur: NonNegative = 15_000.0  # reputation lost per passenger death
    kidnap_aversion_eur: NonNegative = 1_000.0  # reputation lost per passenger kidnapped
    tramadol_eur_per_trip: NonNegative = 1_500.0  # side business on Niger - Libya legs (UNODC)
    cost_floor_share: Share = _param(
        0.2,
        "a trip never costs less per person than this share of the leg's direct cost (crew, "
        "fuel), whatever side income it brings; assumption",
    )
    pressure_learning_rate: Share = _param(
        0.05,
        "weight of one trip's outcome in what smugglers on a leg believe of its interception "
        "risk; assumption",
    )
    organisations: dict[str, Organisation] = Field(default_factory=_default_organisations)
    tactics: dict[Mode, dict[str, Tactic]] = Field(default_factory=_default_tactics)

    @model_validator(mode="after")
    def _complete(self) -> SmugglerParams:
        missing = set(ORGANISATIONS) - set(self.organisations)
        if missing:
            raise ValueError(f"organisations must define {', '.join(ORGANISATIONS)}")
        for mode in ("road", "desert", "sea", "air"):
            if not self.tactics.get(mode):
                raise ValueError(f"tactics.{mode} needs at least one tactic")
        if self.markup_bounds[0] > self.markup_bounds[1]:
            raise ValueError("markup_bounds must be [low, high] with low <= high")
        return self


class ArmedGroupParams(_Strict):
    kidnap_rate: Share = 0.04  # per person-crossing at full control without protection
    protection: Share = 0.85  # how much a paid right-of-way cuts the kidnapping risk
    ransom_eur: NonNegative = 1_200.0
    captivity_days: Annotated[int, Field(ge=1)] = 30
    family_pays: Share = 0.7  # chance a family raises the ransom it is asked for
    forced_labour_days: Annotated[int, Field(ge=1)] = 90
    captivity_death_rate: Share = 0.01
    right_of_way_eur: NonNegative = 50.0  # per person, on legs a policy hands to a group
    extortion_eur: NonNegative = 400.0  # asked of each detainee held where a group controls


class AuthorityParams(_Strict):
    # Scales every leg's enforcement by mode: 1 means a leg's `enforcement` is the chance that a
    # standard self-organised crossing is stopped.
    interception_efficiency: SharePerMode = SharePerMode(road=1, desert=1, sea=1, air=1)
    arrest_rate: Share = 0.5  # chance an intercepted trip's operator is arrested (before evasion)
    investigation_rate: Share = 0.03  # chance per trip of an arrest from investigation
    bribe_eur_per_person: NonNegative = 15.0  # asked where every official is corrupt
    bribe_efficacy: Share = 0.4
    exploitation_base: Share = 0.002  # chance of exploitation at a work site without a smuggler


class NetworkFiles(_Strict):
    """Folder holding the network CSVs; the packaged 2021 network when not given."""

    data_dir: str | None = None


class Scenario(_Strict):
    name: str
    description: str = ""
    days: Annotated[int, Field(ge=1, le=36_500)] = 365
    warmup_days: Annotated[int, Field(ge=0, le=3_650)] = 1095
    scale: Annotated[int, Field(ge=1, le=10_000)] = 1
    seed: Annotated[int, Field(ge=0)] = 0
    network: NetworkFiles = NetworkFiles()
    migrants: MigrantParams = MigrantParams()
    smugglers: SmugglerParams = SmugglerParams()
    armed_groups: ArmedGroupParams = ArmedGroupParams()
    authorities: AuthorityParams = AuthorityParams()
    policies: list[Policy] = []

    source: str = Field(default="<memory>", exclude=True)

    @model_validator(mode="after")
    def _unique_ids(self) -> Scenario:
        ids = [p.id for p in self.policies if p.id is not None]
        twice = next((i for i in ids if ids.count(i) > 1), None)
        if twice is not None:
            raise ValueError(
                f"policies: two policies have id {twice!r}; an id names one policy (give the "
                "other its own id)"
            )
        return self

    def config_hash(self, network_digest: str = "") -> str:
        """A short hash of everything that shapes the run: the settings and, given its digest,
        the network data; not the file names or folders they came from."""
        settings = self.model_dump(mode="json", exclude={"network": {"data_dir"}})
        payload = json.dumps(settings, sort_keys=True) + network_digest
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def warmup_key(self) -> str:
        """A hash of everything the warm-up depends on: all but the name, the description, the
        seed and the policies that start after it (day 1 on). Two runs whose scenarios have the
        same key and the same seed pass through identical warm-ups, which they can share."""
        settings = self.model_dump(mode="json", exclude={"name", "description", "seed"})
        settings["policies"] = [p for p in settings["policies"] if p["day"] < 1]
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]

    def policy_days(self) -> list[tuple[int, str]]:
        """The days within the run (after day 0) on which policies take effect, each with the
        ids (or positions) of those policies: where plots mark a change."""
        marks: dict[int, list[str]] = {}
        for i, policy in enumerate(self.policies):
            if 0 < policy.day < self.days:
                marks.setdefault(policy.day, []).append(policy.id or f"policy {i}")
        return [(day, ", ".join(ids)) for day, ids in sorted(marks.items())]

    def with_overrides(self, overrides: Sequence[str]) -> Scenario:
        """A copy with `PATH=VALUE` overrides applied over every value, defaults included."""
        data = self.model_dump(mode="python")
        for item in overrides:
            apply_override(data, item, source=self.source)
        return Scenario.from_dict(data, source=self.source)

    def with_values(self, values: Mapping[str, Any]) -> Scenario:
        """A copy with each existing dotted path (`policies.niger_law.enforcement`) set to its
        value: what a sweep's design point changes."""
        data = self.model_dump(mode="python")
        for path, value in values.items():
            set_value(data, path, value, create=False)
        return Scenario.from_dict(data, source=self.source)

    def value_at(self, path: str) -> Any:
        """The value at a dotted path; a ScenarioError names the path if there is none."""
        node: Any = self.model_dump(mode="python")
        keys = _split(path)
        for i, key in enumerate(keys):
            node = _child(node, key, ".".join(keys[: i + 1]), create=False)
        return node

    def with_updates(self, **changes: Any) -> Scenario:
        """A copy with top-level fields changed, validated again."""
        data = self.model_dump(mode="python")
        data.update(changes)
        return Scenario.from_dict(data, source=self.source)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | Path = "<memory>") -> Scenario:
        data = dict(data)
        data.pop("extends", None)
        return validate(cls, data, source)

    @classmethod
    def load(cls, path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
        """Read a scenario file, follow `extends`, apply `PATH=VALUE` overrides and validate."""
        path = Path(path)
        scenario = cls.from_dict(_read_with_extends(path, seen=()), source=path)
        return scenario.with_overrides(overrides) if overrides else scenario


# --- validation, YAML, extends, overrides -----------------------------------------------------


def validate[M: BaseModel](model: type[M], data: dict[str, Any], source: str | Path) -> M:
    """`model` validated from `data` read from `source`; the first problem as a ScenarioError."""
    try:
        return model.model_validate({**data, "source": str(source)})
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = f"unknown key (allowed: {_allowed_keys(model, first['loc'])})"
        raise ScenarioError(source, key, msg) from None


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(path, "", "file not found") from None
    except OSError as err:
        raise ScenarioError(path, "", f"cannot read file ({err.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "YAML"
        problem = getattr(err, "problem", None) or "malformed YAML"
        raise ScenarioError(path, where, f"malformed YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(path, "", "the file must be a mapping of keys to values")
    return data


def _read_with_extends(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    if path.resolve() in seen:
        raise ScenarioError(path, "extends", "circular extends")
    data = read_yaml(path)
    parent = data.get("extends")
    data_dir = (
        data.get("network", {}).get("data_dir") if isinstance(data.get("network"), dict) else None
    )
    if isinstance(data_dir, str):
        data["network"] = {**data["network"], "data_dir": str((path.parent / data_dir).resolve())}
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(path, "extends", "must be a file path relative to this file")
    base = _read_with_extends(path.parent / parent, (*seen, path.resolve()))
    return merge(base, {k: v for k, v in data.items() if k != "extends"})


def merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `child` into `base`: mappings merge, `policies` append, other values replace."""
    out = copy.deepcopy(base)
    for key, value in child.items():
        if key == "policies" and isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = out[key] + copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_override(data: dict[str, Any], item: str, source: str | Path = "--set") -> None:
    """Set one scalar by dotted path; list items are addressed by position or by their `id`."""
    if "=" not in item:
        raise ScenarioError("--set", item, "expected PATH=VALUE, e.g. migrants.risk_aversion=2")
    path, raw = item.split("=", 1)
    set_value(data, path, _parse_value(raw), create=True)


def set_value(data: dict[str, Any], path: str, value: Any, create: bool) -> None:
    """Set one value by dotted path; with `create`, missing mappings on the way are made (and
    validation then names an unknown key), without it every key must exist."""
    keys = _split(path)
    node: Any = data
    for i, key in enumerate(keys[:-1]):
        node = _child(node, key, ".".join(keys[: i + 1]), create=create)
    last = keys[-1]
    if isinstance(node, list):
        node[_index(node, last, path)] = value
    elif isinstance(node, dict):
        if not create and last not in node:
            raise ScenarioError("--set", path, _no_such_key(node))
        node[last] = value
    else:
        raise ScenarioError("--set", path, "cannot set a key inside a scalar")


def _split(path: str) -> list[str]:
    keys = [k for k in path.strip().split(".") if k]
    if not keys:
        raise ScenarioError("--set", path, "empty parameter path")
    return keys


def _no_such_key(node: dict[str, Any]) -> str:
    return f"no such key (allowed: {', '.join(node)})"


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _parse_value(raw: str) -> Any:
    """A command-line value as YAML would read it, plus numbers YAML 1.1 misses (1e-3)."""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return value


def _child(node: Any, key: str, path: str, create: bool) -> Any:
    if isinstance(node, list):
        return node[_index(node, key, path)]
    if isinstance(node, dict):
        if key not in node or (create and node[key] is None):
            if not create:
                raise ScenarioError("--set", path, _no_such_key(node))
            node[key] = {}
        return node[key]
    raise ScenarioError("--set", path, "cannot descend into a scalar")


def _index(items: list[Any], key: str, path: str) -> int:
    if key.lstrip("-").isdigit():
        idx = int(key)
        if -len(items) <= idx < len(items):
            return idx
        raise ScenarioError("--set", path, f"index out of range (there are {len(items)} entries)")
    for idx, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == key:
            return idx
    ids = [str(i.get("id")) for i in items if isinstance(i, dict) and i.get("id")]
    allowed = ", ".join(ids) if ids else "none have ids"
    raise ScenarioError("--set", path, f"no entry with id {key!r} (ids: {allowed})")


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """The keys allowed at the place an unknown key was found, to put in the error."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if field is None and hasattr(current, "model_fields"):
            continue  # a key of a mapping of models (a calibration's treatments): the same model
        current = _model_in(field.annotation) if field else None
    if current is None or not hasattr(current, "model_fields"):
        return "see the README"
    return ", ".join(k for k in current.model_fields if k != "source")


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None

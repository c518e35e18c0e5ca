"""Route-flow maps: every leg at its places' longitude and latitude, as wide as the people who set
off on it and coloured by its death rate or smuggled share; or the change from a baseline.

Country outlines are Natural Earth 1:110m (public domain, `data/maps/countries.csv`), drawn in
an equirectangular projection; places far outside the map (Dhaka) are named where their legs
leave it. Routes are told apart by line style (and named), so colour is free for the measure.
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd
from adjustText import adjust_text
from matplotlib import colormaps as plt_colormaps
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Colormap, ListedColormap, LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator

from routesim import figures
from routesim.outcomes import PLACE_COLUMNS

ROUTES = {  # route -> (line style, name on the map)
    "central": ("-", "Central Mediterranean"),
    "western": ((0, (3, 1.2)), "Western Mediterranean"),
    "atlantic": ((0, (1, 0.8)), "Atlantic"),
    "none": ((0, (5, 1.5, 1, 1.5)), "other (ECOWAS roads, air)"),
}
KINDS = {  # location kind -> (marker, legend name)
    "origin": ("o", "origin"),
    "hub": ("s", "transit hub"),
    "gold_mine": ("D", "gold-mining site"),
    "coast": ("^", "departure coast"),
    "destination": ("*", "destination"),
}
COLOR_BY = {
    "death_rate": ("deaths per person setting off", "magma_r"),
    "smuggled_share": ("share who set off with a smuggler", "cividis_r"),
}
MORE, FEWER = "#E66100", "#5D3A9B"  # a colour-blind-safe pair that also differs in greyscale
NOISE = "#b0b0b0"  # a change within replicate noise
UNRATED = "#8c8c8c"  # a leg too few people took to give it a rate
NO_DEATHS = "#56B4E9"  # a rated leg on which nobody died (below the log colour scale)
MIN_PEOPLE = 200  # people setting off (all runs together) below which a leg gets no rate
MAX_WIDTH = 9.0  # points, for the busiest leg
MAP_REGION = (-30.0, 45.0, -5.0, 50.0)  # lon, lon, lat, lat the outlines cover


def flows(
    legs: pd.DataFrame,
    by: str | None = None,
    color: Literal["death_rate", "smuggled_share"] = "death_rate",
    difference: bool = False,
    title: str | None = None,
) -> Figure:
    """Route-flow map of `legs` (from `load_legs`): one map per group of runs (`by`: the
    scenarios, or a swept parameter), legs as wide as the people setting off on them (mean per
    run) and coloured by `color`; with `difference=True`, each group after the first is drawn
    as its change from the first (more people in orange, fewer in purple, grey within noise).
    Places are drawn where each run's own network put them (the legs table carries them)."""
    if color not in COLOR_BY:
        allowed = ", ".join(COLOR_BY)
        raise figures.error(legs, "--color", f"{color!r} is not a leg measure (allowed: {allowed})")
    if legs.empty:
        raise figures.error(
            legs,
            "",
            "no per-leg tables to map (a sweep keeps them with `legs: true` in its file; "
            "run and compare folders have them)",
        )
    missing = [c for c in PLACE_COLUMNS if c not in legs.columns]
    if missing:
        raise figures.error(
            legs, "", f"the leg tables lack {', '.join(missing)} (an older routesim): run again"
        )
    by = figures.grouping(legs, by)
    groups = figures.groups(legs, by)

    def name(label: str) -> str:
        return f"{by} = {label}" if by and by != "scenario" else label

    noise = ""
    if difference:
        if len(groups) < 2:
            raise figures.error(legs, "--difference", "needs two groups of runs (see --by)")
        (base_label, base), rest = groups[0], groups[1:]
        panels = [
            (f"{name(label)} minus {base_label}", change(g, base), _places(g)) for label, g in rest
        ]
        if legs.groupby("point")["run_id"].nunique().min() < 2:
            noise = "; one run per group: noise unknown, every change coloured"
    else:
        panels = [(name(label), mean_flows(g), _places(g)) for label, g in groups]
    extent = _extent(_places(legs))
    busiest = max(float(t["people"].abs().max()) for _, t, _ in panels) or 1.0
    with figures.style():
        cols = min(len(panels), 2)
        rows = -(-len(panels) // cols)
        fig = Figure(figsize=_figure_size(extent, cols, rows), layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        axes = axes[: len(panels)]
        shade = None if difference else color
        norm = None if difference else _color_scale(color, [t for _, t, _ in panels])
        outlines = _outlines()
        for ax, (label, table, places) in zip(axes, panels, strict=True):
            _basemap(ax, outlines, set(places["country"]), extent)
            mappable = _draw_legs(ax, table, places, busiest, shade, norm)
            _draw_places(ax, places, extent)
            ax.set_title(label if by or difference else "", fontsize=9)
        _legend(fig, busiest, difference, color)
        if not difference and mappable is not None:
            zero = "min" if isinstance(norm, LogNorm) else "neither"
            bar = fig.colorbar(mappable, ax=axes, shrink=0.6, pad=0.01, extend=zero)
            bar.set_label(COLOR_BY[color][0])
            if isinstance(norm, LogNorm):
                bar.ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            bar.ax.yaxis.set_major_formatter(FuncFormatter(_percent))
        what = "change in people setting off" if difference else "people setting off (width)"
        pooled = figures.pooled(legs, by)
        figures.title(fig, legs, title, f"{what} on each leg, mean per run{pooled}{noise}")
    return fig


def _percent(x: float, _: Any = None) -> str:
    """A rate for the colour bar: 0.05%, 0.2%, 5%, 50%."""
    return f"{x * 100:.0f}%" if x >= 0.1 else f"{x * 100:.2g}%"


KEYS = ["leg_from", "leg_to", "mode", "route"]


def mean_flows(runs: pd.DataFrame) -> pd.DataFrame:
    """Per leg, the mean people per run setting off, and the pooled death rate and smuggled
    share (people-weighted over all runs; none where fewer than MIN_PEOPLE set off in all)."""
    n = runs["run_id"].nunique()
    runs = runs.assign(_smuggled=runs["smuggled_share"].fillna(0) * runs["departures"])
    sums = runs.groupby(KEYS, sort=False)[["departures", "deaths", "_smuggled"]].sum()
    rated = sums["departures"].where(sums["departures"] >= MIN_PEOPLE)
    table = pd.DataFrame(
        {
            "people": sums["departures"] / n,
            "death_rate": sums["deaths"] / rated,
            "smuggled_share": sums["_smuggled"] / rated,
        }
    )
    return table.reset_index()


def change(runs: pd.DataFrame, base_runs: pd.DataFrame) -> pd.DataFrame:
    """Per leg, the change in mean people per run from `base_runs`, and whether it stands out
    from replicate noise (`clear`: more than two standard errors; unknown with one run)."""
    a, b = _per_run(runs), _per_run(base_runs)
    table = a.merge(b, "outer", left_index=True, right_index=True, suffixes=("", "_base"))
    table = table.fillna({"mean": 0.0, "mean_base": 0.0})
    se = np.hypot(table["se"].fillna(0.0), table["se_base"].fillna(0.0))
    people = table["mean"] - table["mean_base"]
    clear = (people.abs() > 2 * se) | (table["se"].isna() & table["se_base"].isna())
    return pd.DataFrame({"people": people, "clear": clear}).reset_index()


def _per_run(runs: pd.DataFrame) -> pd.DataFrame:
    """Per leg, the mean and standard error over runs of the people setting off."""
    per_run = runs.pivot_table(
        index=KEYS, columns="run_id", values="departures", aggfunc="sum", fill_value=0.0
    )
    return pd.DataFrame({"mean": per_run.mean(axis=1), "se": per_run.sem(axis=1)})


def _places(legs: pd.DataFrame) -> pd.DataFrame:
    """Each place the legs touch: its country, kind, longitude and latitude."""
    fields = ["country", "kind", "lon", "lat"]
    ends = [
        legs[[f"leg_{end}", *(f"{end}_{c}" for c in fields)]].set_axis(["name", *fields], axis=1)
        for end in ("from", "to")
    ]
    places = pd.concat(ends).drop_duplicates("name").set_index("name")
    return places.astype({"lon": float, "lat": float})


def _extent(places: pd.DataFrame) -> tuple[float, float, float, float]:
    """The places inside the outlines' region, with a margin: lon min, max, lat min, max."""
    lon0, lon1, lat0, lat1 = MAP_REGION
    inside = places[places.lon.between(lon0, lon1) & places.lat.between(lat0, lat1)]
    return (
        inside.lon.min() - 2.5,
        inside.lon.max() + 2.5,
        inside.lat.min() - 2.0,
        inside.lat.max() + 2.5,
    )


def _outlines() -> pd.DataFrame:
    with resources.files("routesim").joinpath("data/maps/countries.csv").open() as handle:
        return pd.read_csv(handle, comment="#")


def _figure_size(
    extent: tuple[float, float, float, float], cols: int, rows: int
) -> tuple[float, float]:
    """Inches for `cols` x `rows` maps of `extent`, a colour bar beside, the legend below."""
    width = 6.4 if cols == 1 else 5.6
    height = width * (extent[3] - extent[2]) * _aspect(extent) / (extent[1] - extent[0])
    return width * cols + 1.0, height * rows + 1.5


def _aspect(extent: tuple[float, float, float, float]) -> float:
    """Equirectangular: a degree of longitude is cos(latitude) of a degree of latitude."""
    return float(1 / np.cos(np.radians((extent[2] + extent[3]) / 2)))


def _basemap(
    ax: Axes,
    outlines: pd.DataFrame,
    countries: set[str],
    extent: tuple[float, float, float, float],
) -> None:
    """Land in light grey with white borders on a white sea, the network's countries named."""
    for _, shape in outlines.groupby(["country", "part"], sort=False):
        ax.fill(
            shape.lon, shape.lat, facecolor="#e8e8e8", edgecolor="white", linewidth=0.6, zorder=0
        )
    for country, shape in outlines.groupby("country"):
        if country not in countries:
            continue
        biggest = shape[shape.part == shape.part.mode().iloc[0]]
        x, y = biggest.lon.mean(), biggest.lat.mean()
        if extent[0] < x < extent[1] and extent[2] < y < extent[3]:
            ax.text(
                x,
                y,
                shape.name.iloc[0].upper(),
                fontsize=6.5,
                color="0.55",
                ha="center",
                va="center",
                style="italic",
                zorder=1,
            )
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect(_aspect(extent))
    ax.set_facecolor("white")
    ax.grid(False)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_formatter(
        lambda x, _: f"{abs(x):g}°{'E' if x > 0 else 'W' if x < 0 else ''}"
    )
    ax.yaxis.set_major_formatter(lambda y, _: f"{y:g}°N")
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)


def _path(a: np.ndarray, b: np.ndarray, curved: bool) -> np.ndarray:
    """A leg's line; air legs bow to one side so they do not hide the land legs below them."""
    if not curved:
        return np.array([a, b])
    t = np.linspace(0, 1, 24)[:, None]
    normal = np.array([-(b - a)[1], (b - a)[0]]) * 0.18
    control = (a + b) / 2 + normal
    return (1 - t) ** 2 * a + 2 * (1 - t) * t * control + t**2 * b


def _color_scale(color: str, tables: list[pd.DataFrame]) -> Normalize:
    """One colour scale for every map of a figure: death rates on a log scale from the lowest
    non-zero rate, shares from 0 to 1."""
    if color != "death_rate":
        return Normalize(0, 1)
    rates = pd.concat([t["death_rate"] for t in tables])
    positive = rates[rates > 0]
    low = max(float(positive.min()) if len(positive) else 1e-4, 1e-5)
    return LogNorm(low, max(float(rates.max()), low * 10))


def _colormap(color: str) -> Colormap:
    """The measure's colour map without its palest end (it would vanish on the grey land);
    legs with too few people to rate are grey."""
    full = plt_colormaps[COLOR_BY[color][1]]
    colours = ListedColormap(full(np.linspace(0.18, 1.0, 256)))
    return colours.with_extremes(bad=UNRATED, under=NO_DEATHS)


def _draw_legs(
    ax: Axes,
    table: pd.DataFrame,
    places: pd.DataFrame,
    busiest: float,
    color: str | None,
    norm: Normalize | None,
) -> Any:
    """The legs, widest last (on top); `color` None: a change, coloured by its sign. Returns
    the colour mapping for the colour bar."""
    xy = places[["lon", "lat"]]
    table = table[table["people"].abs() > 0].sort_values("people", key=np.abs)
    cmap = _colormap(color) if color else None
    mappable = None
    for route, (style, _name) in ROUTES.items():
        part = table[table["route"] == route]
        if part.empty:
            continue
        segments = [
            _path(xy.loc[r.leg_from].to_numpy(), xy.loc[r.leg_to].to_numpy(), r.mode == "air")
            for r in part.itertuples()
        ]
        widths = 0.4 + MAX_WIDTH * part["people"].abs().to_numpy() / busiest
        lines = LineCollection(
            segments, linewidths=widths, linestyles=style, capstyle="butt", zorder=3, alpha=0.9
        )
        if color is None:
            sign = np.where(part["people"] > 0, MORE, FEWER)
            lines.set_color(np.where(part["clear"], sign, NOISE))
        else:
            values = part[color].to_numpy(float)
            if isinstance(norm, LogNorm):  # no death: below the scale, in its own colour
                values = np.where(values == 0, norm.vmin / 10, values)
            lines.set_array(np.ma.masked_invalid(values))
            lines.set_cmap(cmap)
            lines.set_norm(norm)
            mappable = lines
        ax.add_collection(lines)
    return mappable


def _draw_places(ax: Axes, places: pd.DataFrame, extent: tuple[float, float, float, float]) -> None:
    """Markers by kind; destinations named; places off the map named at the map's edge."""
    inside = places.lon.between(extent[0], extent[1]) & places.lat.between(extent[2], extent[3])
    for kind, (marker, _name) in KINDS.items():
        shown = places[inside & (places.kind == kind)]
        ax.scatter(
            shown.lon,
            shown.lat,
            marker=marker,
            s=60 if marker == "*" else 16,
            facecolor="white",
            edgecolor="black",
            linewidth=0.7,
            zorder=5,
        )
    named = places[inside & (places.kind == "destination")]
    halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
    texts = [
        ax.text(place.lon, place.lat, f" {name}", fontsize=6.5, zorder=6, path_effects=halo)
        for name, place in named.iterrows()
    ]
    FigureCanvasAgg(ax.figure)  # adjustText measures the labels with a renderer
    markers = places[inside]  # labels keep off every place, not only their own
    adjust_text(
        texts,
        x=markers.lon.to_numpy(),
        y=markers.lat.to_numpy(),
        ax=ax,
        expand=(1.3, 1.6),
        iter_lim=300,
    )

    for name, place in places[~inside].iterrows():
        x = float(np.clip(place.lon, extent[0], extent[1]))
        y = float(np.clip(place.lat, extent[2], extent[3]))
        ax.annotate(
            f"from {name} →" if place.lon > extent[1] else f"{name}",
            (x, y),
            xytext=(-3, 4),
            textcoords="offset points",
            ha="right",
            fontsize=6.5,
            zorder=6,
        )


def _legend(fig: Figure, busiest: float, difference: bool, color: str) -> None:
    """Routes (line styles), widths (people) and places (markers), below the maps."""
    handles: list[Any] = [
        Line2D([], [], color="0.2", linestyle=style, linewidth=2.2, label=name)
        for style, name in ROUTES.values()
    ]
    for people in _nice_widths(busiest):
        label = f"{people:,.0f} people" if not difference else f"±{people:,.0f} people"
        handles.append(
            Line2D([], [], color="0.4", linewidth=0.4 + MAX_WIDTH * people / busiest, label=label)
        )
    if not difference:
        handles.append(
            Line2D([], [], color=UNRATED, linewidth=4, label=f"under {MIN_PEOPLE} people: no rate")
        )
        if color == "death_rate":
            handles.append(Line2D([], [], color=NO_DEATHS, linewidth=4, label="no deaths"))
    else:
        handles += [
            Line2D([], [], color=MORE, linewidth=4, label="more people"),
            Line2D([], [], color=FEWER, linewidth=4, label="fewer people"),
            Line2D([], [], color=NOISE, linewidth=4, label="within replicate noise"),
        ]
    handles += [
        Line2D(
            [],
            [],
            marker=marker,
            linestyle="",
            markerfacecolor="white",
            markeredgecolor="black",
            markersize=8 if marker == "*" else 5,
            label=name,
        )
        for marker, name in KINDS.values()
    ]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=4,
        fontsize=7,
        frameon=False,
        handlelength=3.5,
    )


def _nice_widths(busiest: float) -> list[float]:
    """Three round people counts spanning the widths drawn."""
    top = 10 ** np.floor(np.log10(busiest))
    top = max(m * top for m in (1, 2, 5) if m * top <= busiest)
    return [top / 10, top / 2, top]

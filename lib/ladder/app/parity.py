"""Dev/prod parity: Python, packages, setting names and OS per host, compared in one table."""

from __future__ import annotations

import io
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..core import facts
from ..core.hosts import Host

q = shlex.quote
CATEGORIES = ("os", "python", "env var", "package")
MISSING = "—"
SET = "set"
COLOURS = {"same": "", "differs": "background-color: #f8d7da", "missing": "background-color: #fff3cd"}

# Prints name==version of every installed distribution; needs no pip.
PACKAGES_SCRIPT = (
    "import importlib.metadata as m\n"
    "for d in m.distributions():\n"
    "    name = d.metadata['Name']\n"
    "    if name: print(f'{name}=={d.version}')\n"
)
# Prints only the name of each KEY=value line.
ENV_NAMES_SED = r"s/^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=.*/\2/p"
_ENV_NAME = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(?:=|$)")


@dataclass(frozen=True)
class Facts:
    """What parity compares on one host. Setting values are never read, only their names."""

    host: str
    os: str
    python: str
    packages: dict[str, str] = field(default_factory=dict)
    env_names: tuple[str, ...] = ()
    venv: str | None = None  # the virtualenv the packages were read from, when one was found


def normalize(name: str) -> str:
    """A package name as pip compares it (PEP 503): lower case, runs of -_. as one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_python_version(output: str) -> str:
    """The version from `python --version` or `platform.python_version()` output."""
    m = re.search(r"(\d+\.\d+(?:\.\d+)?\S*)", output)
    return m.group(1) if m else output.strip()


def parse_packages(output: str) -> dict[str, str]:
    """`pip freeze`-style lines as {normalized name: version}; editable and URL installs keep their source."""
    out: dict[str, str] = {}
    for raw in output.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-e "):
            egg = re.search(r"#egg=([A-Za-z0-9._-]+)", line)
            if egg:
                out[normalize(egg.group(1))] = "editable"
            continue
        name, sep, version = line.partition("==")
        if not sep:
            name, sep, version = line.partition(" @ ")
            version = f"@ {version}" if sep else ""
        out.setdefault(normalize(name.strip()), version.strip())
    return dict(sorted(out.items()))


def parse_env_names(text: str) -> tuple[str, ...]:
    """Setting names from env-file text (KEY=value, export KEY=value) or a list of names; values are dropped."""
    names = []
    for line in text.splitlines():
        m = _ENV_NAME.match(line)
        if m and not line.lstrip().startswith("#"):
            names.append(m.group(1))
    return tuple(sorted(set(names)))


def os_name(release: dict[str, str]) -> str:
    """A short OS name from /etc/os-release fields."""
    if release.get("PRETTY_NAME"):
        return release["PRETTY_NAME"]
    return " ".join(v for v in (release.get("ID", ""), release.get("VERSION_ID", "")) if v) or "unknown"


def get_python_version(host: Host, python: str) -> str:
    """The version of the interpreter that runs the app."""
    out = host.run(f"{q(python)} -c 'import platform; print(platform.python_version())'", timeout=20)
    return parse_python_version(out.stdout)


def get_packages(host: Host, python: str) -> dict[str, str]:
    """Packages installed for an interpreter (its venv, if it is in one), as {name: version}."""
    return parse_packages(host.run(f"{q(python)} -c {q(PACKAGES_SCRIPT)}", timeout=60).stdout)


def get_env_names(host: Host, env_file: str) -> tuple[str, ...]:
    """The setting names in an env file; the names are cut out on the host, so values never leave it."""
    cmd = f"[ ! -e {q(env_file)} ] || sed -n -E {q(ENV_NAMES_SED)} {q(env_file)}"
    return parse_env_names(host.run(cmd, timeout=10).stdout)


def get_facts(host: Host, *, python: str, env_file: str) -> Facts:
    """Every parity fact of one host: OS, the app's Python and its packages, setting names."""
    return Facts(
        host=host.name,
        os=os_name(facts.get_os_release(host)),
        python=get_python_version(host, python),
        packages=get_packages(host, python),
        env_names=get_env_names(host, env_file),
    )


def _rows(f: Facts) -> dict[tuple[str, str], str]:
    rows = {("os", "OS"): f.os, ("python", "Python"): f.python}
    rows.update({("env var", n): SET for n in f.env_names})
    rows.update({("package", n): v for n, v in f.packages.items()})
    return rows


def difference(values: Sequence[str], hosts: Sequence[str]) -> str:
    """'same', 'differs', or 'missing on <hosts>' for one row's values."""
    absent = [h for h, v in zip(hosts, values) if v == MISSING]
    if absent:
        return "missing on " + ", ".join(absent)
    return "same" if len(set(values)) == 1 else "differs"


def compare(dev: Facts, prod: Facts | Sequence[Facts]) -> pd.DataFrame:
    """One row per compared item with each host's value and a 'match' and 'difference' column; differences first."""
    others = [prod] if isinstance(prod, Facts) else list(prod)
    everyone = [dev, *others]
    names = [f.host for f in everyone]
    if len(set(names)) != len(names):
        raise ValueError(f"host names must be unique to compare them: {names}")
    values = [_rows(f) for f in everyone]
    keys = sorted({k for v in values for k in v}, key=lambda k: (CATEGORIES.index(k[0]), k[1]))
    records = []
    for category, item in keys:
        row = [v.get((category, item), MISSING) for v in values]
        diff = difference(row, names)
        records.append(
            {"category": category, "item": item, **dict(zip(names, row)), "match": diff == "same", "difference": diff}
        )
    table = pd.DataFrame.from_records(records, columns=["category", "item", *names, "match", "difference"])
    order = table["category"].map(CATEGORIES.index)
    table = table.assign(_order=order).sort_values(["_order", "match", "item"], kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Matching and differing items per category, in category order."""
    counts = table.groupby("category")["match"].agg(same="sum", total="count")
    counts["different"] = counts["total"] - counts["same"]
    present = [c for c in CATEGORIES if c in counts.index]
    return counts.loc[present, ["same", "different"]].astype(int)


def condense(table: pd.DataFrame, keep: int = 6) -> pd.DataFrame:
    """The table a person reads: packages missing on the same side folded into one row, naming a few."""
    hosts = [c for c in table.columns if c not in ("category", "item", "match", "difference")]
    folded = (table["category"] == "package") & table["difference"].str.startswith("missing")
    groups = {diff: g for diff, g in table[folded].groupby("difference", sort=False) if len(g) > keep}
    rows, done = [], set()
    for i, row in table.iterrows():
        diff = row["difference"]
        if not folded[i] or diff not in groups:
            rows.append(row.to_dict())
        elif diff not in done:
            done.add(diff)
            names = list(groups[diff]["item"])
            listed = ", ".join(names[:keep]) + f", ... (+{len(names) - keep} more)"
            present = {h: MISSING if (groups[diff][h] == MISSING).all() else listed for h in hosts}
            rows.append(
                {"category": "package", "item": f"{len(names)} packages", **present, "match": False, "difference": diff}
            )
    return pd.DataFrame(rows, columns=table.columns)


def _colour(diff: str) -> str:
    if diff == "same":
        return COLOURS["same"]
    return COLOURS["missing"] if diff.startswith("missing") else COLOURS["differs"]


def style(table: pd.DataFrame) -> Any:
    """A Styler for notebooks and reports: differing rows coloured, matching rows plain."""
    colours = table["difference"].map(_colour)

    def row_style(row: pd.Series) -> list[str]:
        return [colours[row.name]] * len(row)

    return (
        table.style.apply(row_style, axis=1)
        .hide(axis="index")
        .set_caption("Dev/prod parity: Python, packages, setting names (never values) and OS")
    )


def plot(table: pd.DataFrame):  # -> matplotlib.figure.Figure
    """A small bar chart of matching vs differing items per category (Agg; no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    counts = summary(table)
    fig = Figure(figsize=(6, 0.6 + 0.5 * len(counts)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    labels = list(counts.index)
    ax.barh(labels, counts["same"], color="#4caf50", label="same")
    ax.barh(labels, counts["different"], left=counts["same"], color="#e57373", label="different")
    ax.invert_yaxis()
    ax.set_xlabel("items")
    ax.set_title("Dev/prod parity")
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class Chart:
    """A figure that notebooks show as an embedded PNG (no pyplot or display backend involved)."""

    figure: Any

    def png(self) -> bytes:
        """The figure as PNG bytes."""
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=100)
        return buf.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()


def chart(table: pd.DataFrame) -> Chart:
    """The parity bar chart, ready to show in a notebook or report."""
    return Chart(plot(table))

"""Dev/prod parity: Python, packages, setting names and OS per host, compared in one table."""

from __future__ import annotations

import html
import io
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..core.facts import parse_os_release
from ..core.hosts import Host
from ..core.markup import styler
from . import service
from .layout import Layout, code_shell, layout_of

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
# Prints the interpreter's version, and its virtualenv when it runs in one.
PYTHON_SCRIPT = (
    "import platform, sys\n"
    "print('python\\t' + platform.python_version())\n"
    "if sys.prefix != sys.base_prefix: print('venv\\t' + sys.prefix)\n"
)
# Left out of the comparison, as `pip freeze` leaves them out (Python < 3.12): the installer's own
# tools, which a venv gets from ensurepip or not at all, not packages the app runs on.
INSTALLER_TOOLS = frozenset({"pip", "setuptools", "wheel", "distribute"})
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
    environment: str | None = None  # the interpreter the packages were read from; None: the host has no app environment


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


def facts_command(layout: Layout, python: str = "python3", server: str | None = None) -> str:
    """Shell that prints a host's parity facts as tab-separated lines: environment, pkg, python, venv, os, config.

    The app's environment is the current release's venv (rung 3a: the server imports its packages through
    `current/site`), else the interpreter of its running server, else the first virtualenv found where teams
    keep one; with none, the host has none and `python` (what one would be made from) only gives the Python
    version. Setting names are read from the env files teams keep.
    """
    venvs = f'"${{c}}.venv" "${{c}}venv" {q(layout.venv)} "$b/.venv" "$s/venv" "$s/.venv"'
    envs = '"$s/.env" "$s/app.env" "$e" "${c}.env" "$b/.env"'
    return (
        f"b={q(layout.base.rstrip('/'))}; s={q(layout.shared)}; e={q(layout.env_file)}; "
        f"d={q(python)}; py={q(server or '')}; r={q(layout.current + '/venv/bin/python')}; "
        'if [ -x "$r" ]; then py="$r"; fi; '
        f"{code_shell(layout)}"
        f'if [ -z "$py" ]; then for v in {venvs}; do '
        'if [ -x "$v/bin/python" ]; then py="$v/bin/python"; break; fi; done; fi; '
        'if [ -n "$py" ]; then printf "environment\\t%s\\n" "$py"; '
        f'"$py" -c {q(PACKAGES_SCRIPT)} 2>/dev/null | sed "s/^/pkg\\t/"; fi; '
        f'"${{py:-$d}}" -c {q(PYTHON_SCRIPT)} 2>/dev/null; '
        'if [ -r /etc/os-release ]; then sed "s/^/os\\t/" /etc/os-release; '
        'else printf "os\\tID=%s\\n" "$(uname -s)"; fi; '
        f'for f in {envs}; do if [ -f "$f" ]; then '
        f'sed -n -E {q(ENV_NAMES_SED)} "$f" | sed "s/^/config\\t/"; '
        "fi; done; true"
    )


def parse_facts(output: str, host: str = "") -> Facts:
    """Parse facts_command's output; an unread Python or OS is ''."""
    found: dict[str, list[str]] = {k: [] for k in ("environment", "venv", "pkg", "python", "os", "config")}
    for line in output.splitlines():
        key, _, value = line.partition("\t")
        if key in found and value.strip():
            found[key].append(value.strip())
    release = parse_os_release("\n".join(found["os"]))
    return Facts(
        host=host,
        os=os_name(release) if release else "",
        python=parse_python_version(found["python"][-1]) if found["python"] else "",
        packages=parse_packages("\n".join(found["pkg"])),
        env_names=parse_env_names("\n".join(found["config"])),
        venv=found["venv"][0] if found["venv"] and found["environment"] else None,
        environment=found["environment"][0] if found["environment"] else None,
    )


def get_facts(host: Host, python: str = "python3", timeout: float | None = None) -> Facts:
    """Every parity fact of one host, read where app.layout puts the app; the one reader runbook and assessment share."""
    lay = layout_of(host)
    proc = service.get_process(host, lay.pid_file, timeout=timeout)
    server = proc.python if proc is not None else None
    return parse_facts(host.run(facts_command(lay, python, server), timeout=timeout, warn=True).stdout, host.name)


def get_packages(host: Host, python: str) -> dict[str, str]:
    """Packages installed for an interpreter (its venv, if it is in one), as {name: version}."""
    return parse_packages(host.run(f"{q(python)} -c {q(PACKAGES_SCRIPT)}").stdout)


def _rows(f: Facts) -> dict[tuple[str, str], str]:
    rows = {("os", "OS"): f.os, ("python", "Python"): f.python}
    rows = {k: v for k, v in rows.items() if v}  # an unread OS or Python shows as missing
    rows.update({("env var", n): SET for n in f.env_names})
    rows.update({("package", n): v for n, v in f.packages.items() if n not in INSTALLER_TOOLS})
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


KINDS = {"os": "OS", "python": "Python", "env var": "config names", "package": "packages"}


@dataclass(frozen=True, eq=False)
class Parity:
    """Dev against prod, computed once: the table, the facts behind it, counts per kind and the score from them."""

    table: pd.DataFrame
    facts: dict[str, Facts]
    notes: tuple[str, ...] = ()

    def counts(self) -> pd.DataFrame:
        """Items the same and different per kind, in CATEGORIES order (kinds with no items left out)."""
        return summary(self.table)

    @property
    def different(self) -> int:
        """How many compared items differ."""
        return int((~self.table["match"].astype(bool)).sum())

    @property
    def score(self) -> float | None:
        """0-10: the mean, over the kinds compared, of the share of their items that are the same; None: none."""
        counts = self.counts()
        if counts.empty:
            return None
        return round(10 * float((counts["same"] / (counts["same"] + counts["different"])).mean()), 2)

    def reason(self) -> str:
        """One line: how many items differ, and in which kinds."""
        counts = self.counts()
        differing = [f"{KINDS[k]} {r.different} of {r.same + r.different}" for k, r in counts.iterrows() if r.different]
        if not differing:
            return f"dev and prod match on all {len(self.table)} items ({', '.join(KINDS[k] for k in counts.index)})"
        return f"{self.different} of {len(self.table)} items differ: " + ", ".join(differing)

    def figures(self) -> dict[str, Any]:
        """Key figures for the record: items compared, matching and differing, and the score."""
        items = len(self.table)
        return {
            "parity items": items,
            "parity same": items - self.different,
            "parity different": self.different,
            "parity score": self.score,
        }

    def evidence(self, samples: int = 5) -> dict[str, Any]:
        """What an assessment keeps: hosts, environments, counts per kind and a few differing rows (no values)."""
        hosts = list(self.facts)
        rows = self.table[~self.table["match"].astype(bool)].head(samples)
        return {
            "dev": hosts[0],
            "prod": hosts[1:],
            "environments": {h: f.environment for h, f in self.facts.items()},
            "items": len(self.table),
            "different": self.different,
            "kinds": {k: {"same": int(r.same), "different": int(r.different)} for k, r in self.counts().iterrows()},
            "differences": [
                f"{r['category']} {r['item']}: " + ", ".join(f"{h} {r[h]}" for h in hosts) for _, r in rows.iterrows()
            ],
            "notes": list(self.notes),
        }

    def headline(self) -> str:
        """The reason with the score, as the assessment reports it."""
        score = "none" if self.score is None else f"{self.score:g} / 10"
        return f"{self.reason()}; parity score {score}"

    def __repr__(self) -> str:
        return "\n".join([*self.notes, self.headline(), self.table.to_string(index=False, max_rows=40)])

    def _repr_html_(self) -> str:
        notes = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)
        return notes + f"<p>{html.escape(self.headline())}</p>" + style(condense(self.table)).to_html()


def measure(dev: Facts, prod: Facts | Sequence[Facts]) -> Parity:
    """Dev against every prod host: the one parity computation that the rung-1 runbook and the assessment report."""
    everyone = [dev, *([prod] if isinstance(prod, Facts) else prod)]
    notes = tuple(
        f"{f.host}: no app environment (no app server running, no virtualenv); its packages count as missing"
        for f in everyone
        if f.environment is None
    )
    return Parity(compare(dev, everyone[1:]), {f.host: f for f in everyone}, notes)


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

    caption = "Dev/prod parity: Python, packages, setting names (never values) and OS"
    return styler(table, caption).apply(row_style, axis=1).hide(axis="index")


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

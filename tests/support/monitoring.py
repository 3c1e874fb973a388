"""Every PromQL expression of the Grafana dashboard and the Prometheus rules, as plain PromQL.

The integration test evaluates each through Prometheus' HTTP API, so that no panel or alert
is silently broken. Dashboard queries have their Grafana variables ($__rate_interval,
$stage, ...) replaced by plain values. An alert's expression is empty while all is well,
so each alert also yields its *signals*: the operands of its comparisons (`A > 0 unless B`
gives A and B), which must return data whenever the pipeline runs.

`references()` lists the metric and label names an expression uses, for the tests that
hold the files to the metrics the code declares.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline_core.errors import ConfigError

OPS_DIR = Path(__file__).resolve().parents[2] / "ops"
DASHBOARD = OPS_DIR / "grafana" / "dashboards" / "powersell-pipeline.json"
ALERT_RULES = OPS_DIR / "prometheus" / "alerts.yml"


@dataclass(frozen=True)
class Expression:
    source: str              # where it comes from: "panel 'Consumer lag (records)' A", "alert X", "alert X signal 1"
    promql: str
    must_return_data: bool   # False only for an alert's own expression (empty = not firing)


# ---- the dashboard ----------------------------------------------------------------------

def dashboard_expressions(path: Path | str = DASHBOARD, *, rate_interval: str = "1m", interval: str = "30s",
                          range_: str = "1h") -> list[Expression]:
    """Every panel target's PromQL, Grafana variables replaced: built-in intervals by the given
    durations, the dashboard's own multi-value variables by their "All" value."""
    dashboard = json.loads(Path(path).read_text(encoding="utf-8"))
    values = _builtin_values(rate_interval, interval, range_)
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") in ("custom", "query", "constant", "textbox"):
            values[var["name"]] = _all_value(var)
    found = []
    for panel in _panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            if target.get("expr"):
                found.append(Expression(f"panel {panel.get('title')!r} {target.get('refId', '')}".rstrip(),
                                        substitute(target["expr"], values), True))
    return found


def _panels(panels: list[dict]):
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # panels inside collapsed rows


def _builtin_values(rate_interval: str, interval: str, range_: str) -> dict[str, str]:
    return {"__rate_interval": rate_interval, "__interval": interval, "__range": range_,
            "__interval_ms": str(_milliseconds(interval)), "__range_s": str(_milliseconds(range_) // 1000),
            "__range_ms": str(_milliseconds(range_))}


def _milliseconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)", duration)
    if not match:
        raise ConfigError(f"duration {duration!r} must be a whole number and one of ms, s, m, h, d")
    return int(match[1]) * {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}[match[2]]


def _all_value(var: dict) -> str:
    if var.get("includeAll"):
        return var.get("allValue") or ".*"
    options = [o.get("value") for o in var.get("options", []) if o.get("value") not in (None, "$__all")]
    if not options:
        raise ConfigError(f"dashboard variable {var['name']!r} has neither an All value nor an option")
    return str(options[0])


_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)(?::\w+)?\]\]|\$(\w+)")


def substitute(expr: str, values: dict[str, str]) -> str:
    """Replace $name, ${name}, ${name:format} and [[name]]; an unknown variable is an error."""
    def one(match: re.Match) -> str:
        name = match[1] or match[2] or match[3]
        if name not in values:
            raise ConfigError(f"expression uses the Grafana variable {name!r}, which has no value here")
        return values[name]
    return _VARIABLE.sub(one, expr)


# ---- the rules --------------------------------------------------------------------------

def alert_expressions(path: Path | str = ALERT_RULES) -> list[Expression]:
    """Recording rules (must return data), alerts (may be empty) and each alert's signals."""
    import yaml  # a test dependency: only tests and tools read the rule files

    rules = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    found = []
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            expr = rule["expr"].strip()
            if "record" in rule:
                found.append(Expression(f"record {rule['record']}", expr, True))
                continue
            found.append(Expression(f"alert {rule['alert']}", expr, False))
            for n, signal in enumerate(signals(expr), 1):
                found.append(Expression(f"alert {rule['alert']} signal {n}", signal, True))
    return found


_SET_OPERATOR = re.compile(r"(?<![\w:])(?:or|and|unless)(?![\w:])")
_COMPARISON = re.compile(r"==|!=|>=|<=|>|<")
_MODIFIERS = re.compile(r"\s*(?:bool\b\s*)?(?:(?:on|ignoring)\s*\([^)]*\)\s*)?"
                        r"(?:(?:group_left|group_right)\b\s*(?:\([^)]*\))?\s*)?")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def signals(expr: str) -> list[str]:
    """The operands of the expression's comparisons and set operators that are not numbers."""
    expr = _strip_parens(expr.strip())
    masked = _mask(expr)
    for operators in (("or",), ("and", "unless")):   # lowest precedence first
        cuts = [m for m in _SET_OPERATOR.finditer(masked) if m.group(0) in operators and _depth(masked, m.start()) == 0]
        if cuts:
            return [s for part in _split(expr, cuts) for s in signals(part)]
    cuts = [m for m in _COMPARISON.finditer(masked) if _depth(masked, m.start()) == 0]
    if cuts:
        parts = _split(expr, cuts)
        return [_strip_parens(p) for p in parts if not _NUMBER.fullmatch(p)]
    return [expr]


def _split(expr: str, cuts: list[re.Match]) -> list[str]:
    parts, start = [], 0
    for cut in cuts:
        parts.append(expr[start:cut.start()])
        start = cut.end()
    parts.append(expr[start:])
    # an operand after an operator may start with its modifiers: bool, on (...), group_left (...)
    return [parts[0].strip()] + [p[_MODIFIERS.match(p).end():].strip() for p in parts[1:]]


def _mask(expr: str) -> str:
    """The expression with string literals blanked, so that their contents are never parsed."""
    return re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', lambda m: " " * len(m.group(0)), expr)


def _depth(masked: str, index: int) -> int:
    depth = 0
    for char in masked[:index]:
        depth += char in "([{"
        depth -= char in ")]}"
    return depth


def _strip_parens(expr: str) -> str:
    while expr.startswith("(") and expr.endswith(")") and _closing(_mask(expr)) == len(expr) - 1:
        expr = expr[1:-1].strip()
    return expr


def _closing(masked: str) -> int:
    depth = 0
    for i, char in enumerate(masked):
        depth += char in "([{"
        depth -= char in ")]}"
        if depth == 0:
            return i
    return -1


# ---- names used ---------------------------------------------------------------------------

@dataclass(frozen=True)
class References:
    metrics: dict[str, frozenset[str]]   # metric name -> label names in its selectors' matchers
    grouping: frozenset[str]             # label names in by/without/on/ignoring/group_* lists


_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
             "offset", "bool", "inf", "nan"}


def references(expr: str) -> References:
    text = _mask(expr)
    grouping = set()
    for match in re.finditer(r"(?<![\w:])(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", text):
        grouping |= {label.strip() for label in match[1].split(",") if label.strip()}
        text = text[:match.start()] + " " * len(match[0]) + text[match.end():]
    metrics: dict[str, set[str]] = {}
    for match in re.finditer(r"(?<![\w:.])([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}", text):
        labels = set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", match[2]))
        if match[1]:
            metrics.setdefault(match[1], set()).update(labels)
        text = text[:match.start()] + " " * len(match[0]) + text[match.end():]
    text = re.sub(r"\[[^\]]*\]", " ", text)
    for match in re.finditer(r"(?<![\w:.])([a-zA-Z_:][\w:]*)(?![\w:])(\s*\()?", text):
        if not match[2] and match[1].lower() not in _KEYWORDS:
            metrics.setdefault(match[1], set())
    return References({name: frozenset(labels) for name, labels in metrics.items()}, frozenset(grouping))

"""Benchmarks print their figures and keep them in BENCHMARKS.md, one section per suite,
with the machine's cores and memory, the date and the command that produced them."""

from __future__ import annotations

import os
import platform
import re
from datetime import datetime, timezone
from pathlib import Path

REPORT = Path(__file__).resolve().parents[2] / "BENCHMARKS.md"


def machine() -> str:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {mem_gib:.0f} GiB, {platform.machine()}, Python {platform.python_version()}"


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(title: str, command: str, body: str, path: Path = REPORT) -> str:
    """Replace (or add) the section `## title` of the report; returns the section text."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = f"## {title}\n\n`{command}` on {stamp}; {machine()}.\n\n{body.rstrip()}\n"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\nFigures written by `powersell-pipeline bench`.\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda m: section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")
    return section

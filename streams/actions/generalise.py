"""Generalise: keep a coarser version of a quasi-identifier.

- to "province": a place name to its canonical province (see provinces.py), or nothing;
- to "network": an IP address to its network, IPv4 /24 and IPv6 /48 by default (R8),
  never finer; an IPv4-mapped IPv6 address is treated as the IPv4 address;
- to "year": a date of birth (a date, or ISO text "YYYY-MM-DD") to its year, of the same type
  family (text gives "1990", a date gives 1990).
A value that cannot be read gives None: it is never passed through.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from .base import Action, ActionContext
from .provinces import normalise_province

TARGETS = ("province", "network", "year")
_ISO_YEAR = re.compile(r"^\s*(\d{4})(?:-\d{2}(?:-\d{2})?)?\s*$")


@functools.lru_cache(maxsize=8192)  # on every order: a buyer's address repeats across their orders
def network(value: str, ipv4_prefix: int = 24, ipv6_prefix: int = 48) -> str | None:
    try:
        address = ipaddress.ip_address(value.strip().split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = ipv4_prefix if address.version == 4 else ipv6_prefix
    host_bits = address.max_prefixlen - prefix  # masked here: parsing the text again as a network costs twice
    return f"{type(address)(int(address) >> host_bits << host_bits)}/{prefix}"


def year(value: Any) -> int | str | None:
    if isinstance(value, date):
        return value.year
    match = _ISO_YEAR.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None


@dataclass(frozen=True)
class GeneraliseAction(Action):
    name = "generalise"
    to: str = "province"
    ipv4_prefix: int = 24
    ipv6_prefix: int = 48

    def __post_init__(self) -> None:
        if self.to not in TARGETS:
            raise ValueError(f"to must be one of {', '.join(TARGETS)}")
        if not isinstance(self.ipv4_prefix, int) or not 0 <= self.ipv4_prefix <= 24:
            raise ValueError("ipv4_prefix must be from 0 to 24 (R8: never finer than /24)")
        if not isinstance(self.ipv6_prefix, int) or not 0 <= self.ipv6_prefix <= 48:
            raise ValueError("ipv6_prefix must be from 0 to 48 (R8: never finer than /48)")

    def apply(self, value: Any, ctx: ActionContext) -> Any:
        if self.to == "year":
            return year(value)
        if not isinstance(value, str):
            return None
        if self.to == "network":
            return network(value, self.ipv4_prefix, self.ipv6_prefix)
        return normalise_province(value)

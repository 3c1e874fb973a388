"""The exchange-rate table (a data file, exchange_rates.json) used for gmv_reporting."""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .errors import UnknownRate

DEFAULT_RATES_FILE = Path(__file__).with_name("exchange_rates.json")


@dataclass(frozen=True)
class RateTable:
    reporting_currency: str
    # currency -> sorted ((valid_from, rate), ...)
    rates: dict[str, tuple[tuple[date, Decimal], ...]]

    def rate(self, currency: str, on: date) -> Decimal:
        """Units of the reporting currency per unit of currency, valid on the given date."""
        if currency == self.reporting_currency:
            return Decimal(1)
        entries = self.rates.get(currency, ())
        i = bisect.bisect_right([d for d, _ in entries], on)
        if i == 0:
            raise UnknownRate(f"no {currency} rate valid on {on.isoformat()}")
        return entries[i - 1][1]

    def convert(self, amount: Decimal, currency: str, on: date) -> Decimal:
        return amount * self.rate(currency, on)


def load_rates(path: Path = DEFAULT_RATES_FILE) -> RateTable:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        table: dict[str, list[tuple[date, Decimal]]] = {}
        for entry in data["rates"]:
            rate = Decimal(entry["rate"])
            if not rate.is_finite() or rate <= 0:
                raise ValueError("rates must be positive")
            table.setdefault(entry["currency"], []).append((date.fromisoformat(entry["valid_from"]), rate))
        reporting = data["reporting_currency"]
    except (OSError, KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise UnknownRate(f"invalid rate file {path}: {type(exc).__name__}") from None
    return RateTable(reporting, {c: tuple(sorted(v)) for c, v in table.items()})

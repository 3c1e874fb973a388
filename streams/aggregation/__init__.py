"""Anonymised aggregates (rule R7): redacted orders and products -> AnalyticsAggregate records.

windows (event-time tumbling windows, lateness) -> cells (state of one cell, contributions)
-> disclosure (small cell, dominance, complementary) -> noise (optional DP) -> publish
(records, versions). `Aggregator` is the facade the Faust agent calls.
"""

from .aggregator import ORDERS_TOPIC, PRODUCTS_TOPIC, AddOutcome, Aggregator
from .cells import Cell, CellKey
from .disclosure import DisclosureRules, SuppressionReason
from .errors import AggregationError, BadState, MixedCurrency, UnknownRate
from .noise import LaplaceNoise, NoiseConfig
from .publish import SCHEMA, suppression_counts
from .rates import RateTable, load_rates
from .windows import Granularity, Window, WindowPolicy, window_of

__all__ = ["ORDERS_TOPIC", "PRODUCTS_TOPIC", "SCHEMA", "AddOutcome", "AggregationError", "Aggregator", "BadState", "Cell",
           "CellKey", "DisclosureRules", "Granularity", "LaplaceNoise", "MixedCurrency", "NoiseConfig", "RateTable",
           "SuppressionReason", "UnknownRate", "Window", "WindowPolicy", "load_rates", "suppression_counts", "window_of"]

"""Exceptions of the aggregation package.

AggregationError
 ├── MixedCurrency     one cell would sum two currencies
 ├── UnknownRate       the rate table has no rate for a currency and date
 ├── ImplausibleTime   an event time too far in the future to be true (dead-lettered, not aggregated)
 └── BadState          a stored table value cannot be read back

Messages name fields, currencies and cell groups only: never ids, pseudonyms or amounts.
"""

from pipeline_core.errors import PipelineError


class AggregationError(PipelineError):
    """Root of every error this package raises on purpose."""


class MixedCurrency(AggregationError):
    pass


class UnknownRate(AggregationError):
    pass


class BadState(AggregationError):
    pass


class ImplausibleTime(AggregationError):
    reason = "implausible_time"

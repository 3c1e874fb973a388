"""Exceptions of the shared package.

PipelineError
 ├── ConfigError        a setting has a bad value
 ├── BrokerError        the local Kafka broker cannot be resolved, started or reached
 │    └── MissingToolError  Java or Maven is missing or too old
 ├── TopicError         a topic name is not in the catalog
 └── SchemaError        a schema file is invalid
      └── DecodeError   bytes are not single-object Avro of a known schema

Messages never carry payloads or personal data: only names, codes and sizes.
"""


class PipelineError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(PipelineError):
    pass


class BrokerError(PipelineError):
    pass


class MissingToolError(BrokerError):
    pass


class TopicError(PipelineError):
    pass


class SchemaError(PipelineError):
    pass


class DecodeError(SchemaError):
    """Raised for corrupt bytes, a missing marker or an unknown fingerprint."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # a short code from a closed set, safe for metrics labels

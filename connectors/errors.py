"""The connectors' own errors, below everything else in connectors/ so any module may raise them.

PipelineError (pipeline_core.errors: the command line turns it into one clear line)
 └── ConnectorError
      ├── ApiFailed          the platform refused a request for good (after retries)
      │    └── RefreshRefused the platform refused the refresh token itself: the grant is gone
      ├── TokenExpired       the access token was refused as expired: refresh once, then retry
      ├── BadPayload         a response or push body is not what the platform promises (reason code)
      └── MappingError       one record lacks a required field or has a wrong type (reason code)
No message carries a payload value, a token or a secret.
"""

from __future__ import annotations

from pipeline_core.errors import PipelineError


class ConnectorError(PipelineError):
    """Root of the connectors' own errors."""


class ApiFailed(ConnectorError):
    def __init__(self, endpoint: str, code: str):
        super().__init__(f"{endpoint} failed with platform error {code}")
        self.endpoint, self.code = endpoint, code


class RefreshRefused(ApiFailed):
    """The refresh token was refused (spent, revoked, lapsed): no new access token without the seller."""


class TokenExpired(ConnectorError):
    pass


class BadPayload(ConnectorError):
    """reason is one of: invalid_json, invalid_utf8, too_deep, oversize, missing_field, wrong_type, bad_signature."""

    def __init__(self, reason: str, message: str, body: bytes = b""):
        super().__init__(message)
        self.reason, self.body = reason, body


class MappingError(ConnectorError):
    def __init__(self, reason: str, path: str, body: bytes = b""):
        super().__init__(f"{reason} at {path}")
        self.reason, self.path, self.body = reason, path, body

"""Backoff and retry policy shared by the SDK adapters.

Both SDKs' own retries are switched off (`max_retries=0`) and done by `ProviderModel`
with this policy instead, because the SDKs differ (SDK-NOTES): they ignore
`retry-after: 0`, openai gives up on long `retry-after` values. One policy makes both
providers behave the same: exponential backoff with full jitter, honouring
`retry-after-ms` / `retry-after`.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from ..exceptions import (
    ModelError,
)

T = TypeVar("T")

# --- backoff -------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring the server's `retry-after`.

    A `retry-after` longer than `max_retry_after` is not waited for: the error is raised
    at once (with `retry_after` set) so the caller can decide, instead of a silent sleep.
    """

    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 60.0
    jitter: bool = True

    def backoff(self, attempt: int) -> float:
        """Delay before retry number `attempt` (0-based) when the server gave no hint."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** attempt))
        return random.uniform(0, ceiling) if self.jitter else ceiling

    def delay(self, attempt: int, error: ModelError) -> float | None:
        """Seconds to wait before retrying `error`, or None when it must be raised."""
        if not error.retryable or attempt >= self.max_retries:
            return None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None and retry_after > 0:
            return None if retry_after > self.max_retry_after else retry_after
        return self.backoff(attempt)


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from `retry-after-ms`, `retry-after` (seconds or HTTP date); None if absent."""
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if "," in value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None

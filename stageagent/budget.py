"""Context budget and spend accounting.

`History` holds a stage's conversation with each message's token count, counted once when
the message is appended - never re-counted on later turns. `History.window(budget)` gives
the messages for the next request: the system prompt and the task (the first user message)
are pinned, then the newest turns that fit; an assistant turn with tool calls is dropped
together with its results, never separated from them. The window only moves forward, so
trimming costs time proportional to what is dropped, not to the history length.

`Spend` adds up usage and cost per iteration, stage and run.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .construct import construct
from .messages import Message, Usage, message_text
from .tokens import TokenCounter

#: per-message framing tokens (role markers), as in OpenAI's counting recipe
MESSAGE_OVERHEAD = 4


class History:
    """A conversation with per-message token counts and a forward-only trim window."""

    __slots__ = ("messages", "tokens", "total", "window_tokens", "_encode", "_pinned", "_start")

    def __init__(self, counter: TokenCounter, messages: Sequence[Message] = ()):
        self._encode = counter.encoder()
        self.messages: list[Any] = []
        self.tokens: list[int] = []
        self.total = 0
        self._pinned = 0  # messages[:_pinned] are always sent
        self._start = 0  # first unpinned message still in the window
        #: tokens of the messages `window()` returns
        self.window_tokens = 0
        for message in messages:
            self.append(message)

    def append(self, message: Any) -> int:
        """Add a message, counting its tokens once. Returns its count."""
        text = message_text(message)
        n = (len(self._encode(text)) if text else 0) + MESSAGE_OVERHEAD
        self.messages.append(message)
        self.tokens.append(n)
        self.total += n
        self.window_tokens += n
        return n

    def pin(self, count: int) -> None:
        """Pin the first `count` messages (system prompt + task): never trimmed."""
        self._pinned = min(count, len(self.messages))
        self._start = self._pinned

    def window(self, budget: int | None) -> list[Any]:
        """The messages to send, trimmed to `budget` tokens (see module docstring)."""
        msgs = self.messages
        if budget is not None and self.window_tokens > budget:
            n = len(msgs)
            while self.window_tokens > budget:
                # the unit at _start: one message plus the tool results answering it
                end = self._start + 1
                while end < n and msgs[end].role == "tool":
                    end += 1
                if end >= n:
                    break  # never drop the newest unit: it is what the model must answer
                self.window_tokens -= sum(self.tokens[self._start:end])
                self._start = end
        if self._start == self._pinned:
            return msgs.copy()
        return msgs[:self._pinned] + msgs[self._start:]


PriceFunction = Callable[[str, Usage], "float | None"]


def default_price(model: str, usage: Usage) -> float | None:
    """Cost in USD from the bundled price table; None for models it does not know."""
    from .pricing import cost

    return cost(model, usage)


class Spend:
    """Usage and cost accumulated over iterations (of a stage or a run).

    Plain integer sums on the hot path; `usage` builds the `Usage` model when asked.
    """

    __slots__ = ("_usages", "_tokens", "cost_usd", "_price", "_unpriced")

    def __init__(self, price: PriceFunction | None = None):
        self._usages: list[Usage] = []  # summed when asked: `add` stays O(1) and tiny
        self._tokens = 0
        self.cost_usd: float | None = None
        self._price = price or default_price
        self._unpriced = False

    def add(self, model: str, usage: Usage) -> float | None:
        """Record one call; returns its cost (None when the model has no known price)."""
        self._usages.append(usage)
        self._tokens += usage.input_tokens + usage.output_tokens
        cost = self._price(model, usage)
        if cost is None:
            self._unpriced = True
        else:
            self.cost_usd = (self.cost_usd or 0.0) + cost
        return cost

    @property
    def usage(self) -> Usage:
        counts = [0, 0, 0, 0, 0]
        estimated = False
        for u in self._usages:
            counts[0] += u.input_tokens
            counts[1] += u.output_tokens
            counts[2] += u.cache_read_tokens
            counts[3] += u.cache_write_tokens
            counts[4] += u.requests
            estimated = estimated or u.estimated
        return construct(Usage, {
            "input_tokens": counts[0], "output_tokens": counts[1],
            "cache_read_tokens": counts[2], "cache_write_tokens": counts[3],
            "requests": counts[4], "estimated": estimated})

    @property
    def total_tokens(self) -> int:
        return self._tokens

    def merge(self, other: "Spend") -> None:
        self._usages.extend(other._usages)
        self._tokens += other._tokens
        if other.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + other.cost_usd
        self._unpriced = self._unpriced or other._unpriced

    @property
    def partially_priced(self) -> bool:
        """True when some calls had no price: `cost_usd` then undercounts."""
        return self._unpriced

"""Context budget and spend accounting.

`History` holds a stage's conversation with each message's token count, counted once when
the message is appended - never re-counted on later turns. `History.window(budget)` gives
the messages for the next request: the system prompt and the task are pinned (the task may
sit after an earlier run's history, in a follow-up), then the newest turns that fit; an
assistant turn with tool calls is dropped together with its results, never separated
from them. The window only moves forward, so
trimming costs time proportional to what is dropped, not to the history length.

`Spend` adds up usage and cost per iteration, stage and run.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .messages import Message, Usage, message_text, usage_of
from .tokens import TokenCounter

#: per-message framing tokens (role markers), as in OpenAI's counting recipe
MESSAGE_OVERHEAD = 4


class History:
    """A conversation with per-message token counts and a forward-only trim window."""

    __slots__ = ("messages", "tokens", "window_tokens", "_count", "_counter", "_pinned",
                 "_start", "_task")

    def __init__(self, counter: TokenCounter, messages: Sequence[Message] = ()):
        self._counter = counter
        self._count = counter.raw_count()
        self.messages: list[Any] = []
        self.tokens: list[int] = []
        self._pinned = 0  # messages[:_pinned] are always sent
        self._start = 0  # first unpinned message still in the window
        self._task = -1  # a pinned message after the pinned prefix (-1: none)
        #: tokens of the messages `window()` returns
        self.window_tokens = 0
        for message in messages:
            self.append(message)

    def append(self, message: Any, text: str | None = None) -> int:
        """Add a message, counting its tokens once. Returns its count.

        `text`: the message's `message_text`, when the caller has it already."""
        if text is None:
            text = message_text(message)
        try:
            n = self._count(text) + MESSAGE_OVERHEAD
        except UnicodeEncodeError:  # lone surrogates: the careful path
            n = self._counter.count(text) + MESSAGE_OVERHEAD
        self.messages.append(message)
        self.tokens.append(n)
        self.window_tokens += n
        return n

    @property
    def total(self) -> int:
        """Tokens of the whole conversation, trimmed messages included."""
        return sum(self.tokens)

    def pin(self, count: int, task: int = -1) -> None:
        """Pin the first `count` messages and the message at index `task`: never trimmed.

        A pinned assistant turn keeps the tool results answering it, so the prefix is
        extended over them; `task` must be a user message (it has no results).
        """
        msgs = self.messages
        count = min(count, len(msgs))
        while count < len(msgs) and msgs[count].role == "tool":
            count += 1
        self._pinned = self._start = count
        self._task = task if task >= count else -1

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
                if self._start != self._task:
                    self.window_tokens -= sum(self.tokens[self._start:end])
                self._start = end
        if self._start == self._pinned:
            return msgs.copy()
        if self._pinned <= self._task < self._start:
            return [*msgs[:self._pinned], msgs[self._task], *msgs[self._start:]]
        return msgs[:self._pinned] + msgs[self._start:]


PriceFunction = Callable[[str, Usage], "float | None"]


def default_price(model: str, usage: Usage) -> float | None:
    """Cost in USD from the bundled price table; None for models it does not know."""
    from .pricing import cost

    return cost(model, usage)


def _default_pricing() -> PriceFunction:
    """The default table's `cost`, resolved now (`$STAGEAGENT_PRICES` read once, not per
    call); the table remembers each model's lookup."""
    from .pricing import default_prices

    return default_prices().cost


class Spend:
    """Usage and cost accumulated over iterations (of a stage or a run).

    Plain integer sums on the hot path; `usage` builds the `Usage` model when asked.
    """

    __slots__ = ("_counts", "cost_usd", "_price", "_unpriced", "_estimated")

    def __init__(self, price: PriceFunction | None = None):
        # plain sums, not the Usage objects: a long run keeps nothing per call
        self._counts = [0, 0, 0, 0, 0]
        self.cost_usd: float | None = None
        self._price = price or _default_pricing()
        self._unpriced = False
        self._estimated = False

    def add(self, model: str, usage: Usage) -> float | None:
        """Record one call; returns its cost (None when the model has no known price)."""
        c = self._counts
        c[0] += usage.input_tokens
        c[1] += usage.output_tokens
        c[2] += usage.cache_read_tokens
        c[3] += usage.cache_write_tokens
        c[4] += usage.requests
        if usage.estimated:
            self._estimated = True
        cost = self._price(model, usage)
        if cost is None:
            self._unpriced = True
        else:
            self.cost_usd = (self.cost_usd or 0.0) + cost
        return cost

    def add_estimated(self, model: str, usage: Usage, input_tokens: int,
                      output_tokens: int) -> float | None:
        """`add` for a usage the runtime estimated from its own counts (one request, no
        cache): the counts come as plain integers, not read back from the model."""
        c = self._counts
        c[0] += input_tokens
        c[1] += output_tokens
        c[4] += 1
        self._estimated = True
        cost = self._price(model, usage)  # written out in both: called every turn
        if cost is None:
            self._unpriced = True
        else:
            self.cost_usd = (self.cost_usd or 0.0) + cost
        return cost

    @property
    def usage(self) -> Usage:
        counts = self._counts
        estimated = self._estimated
        return usage_of(counts[0], counts[1], counts[2], counts[3], counts[4], estimated)

    @property
    def total_tokens(self) -> int:
        return self._counts[0] + self._counts[1]

    def merge(self, other: "Spend") -> None:
        for i, value in enumerate(other._counts):
            self._counts[i] += value
        self._estimated = self._estimated or other._estimated
        if other.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + other.cost_usd
        self._unpriced = self._unpriced or other._unpriced

    @property
    def partially_priced(self) -> bool:
        """True when some calls had no price: `cost_usd` then undercounts."""
        return self._unpriced

"""Failed authentication, counted per client address (issue 14): past ``limit`` failures within
``window`` seconds, the address is refused with 429 and Retry-After until the oldest failure
leaves the window — before its token is even looked up, so guessing cannot go on behind the
refusals (a correct guess would otherwise still get in).

In memory, per process; the address is the TCP peer's (a forwarded-for header is not believed:
anyone can write one). A proxy in front makes every client one address, so such deployments
should raise the limit. Memory is bounded: past ``max_clients`` addresses the stalest is dropped.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from fenghuo.platform.errors import FenghuoError


class TooManyFailures(FenghuoError):
    status = 429
    code = "too_many_failed_logins"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"认证失败次数过多，请 {retry_after} 秒后再试",
                         f"too many failed authentications from this address; retry after {retry_after} s",
                         retry_after=retry_after)
        self.retry_after = retry_after


class AuthFailures:
    def __init__(self, limit: int = 20, window: float = 60.0, *, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.max_clients, self.clock = limit, window, max_clients, clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        """Raise :class:`TooManyFailures` while ``address`` is over the limit."""
        if self.limit <= 0:
            return
        with self._lock:
            times = self._seen.get(address)
            if not times:
                return
            now = self.clock()
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                raise TooManyFailures(max(1, math.ceil(times[0] + self.window - now)))

    def failed(self, address: str) -> None:
        if self.limit <= 0:
            return
        with self._lock:
            times = self._seen.pop(address, None) or deque(maxlen=self.limit)
            times.append(self.clock())
            self._seen[address] = times  # most recent last
            while len(self._seen) > self.max_clients:
                self._seen.popitem(last=False)

"""The SDK faces of the guard: a context manager and a decorator around any model call, sync
and async.

    with guard.call(prompt) as call:          # refused → raises ServiceRefused (503/429 meaning)
        text = my_model(call.input, model=call.model or "primary")
        answer = call.output(text)            # checked, masked or replaced, labelled

    @guard.protect(backup=my_small_model)     # str -> str, or async str -> str
    def ask(prompt: str) -> str: ...

A decorated function with no ``backup=`` is refused (``ServiceRefused``, code ``no_backup``)
when the switch routes a call to the backup: calling the primary instead would break the
command (degraded means "not the primary") and the event would lie about who answered.

Every call, refused or not, yields exactly one telemetry event when the block ends.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from typing import Any

from fenghuo.guard import errors
from fenghuo.guard.ids import uuid7


class InputBlocked(errors.GuardError):
    """The input check found a blocking category; ``answer`` is the labelled safe answer."""

    status = 200
    code = "input_blocked"

    def __init__(self, answer: str, categories: list[str]) -> None:
        super().__init__("输入包含不允许的内容，已拒答", "the input contains blocked content; answered with the safe answer",
                         refusal="input_blocked", categories=categories)
        self.answer = answer


class GuardedCall:
    def __init__(self, guard, input: str | None = None, *, stream: bool = False, user: str | None = None) -> None:  # noqa: A002
        self.guard, self.raw_input, self.stream = guard, input or "", stream
        self.user = user  # the end user's id: measures on it apply (CN-PO-09)
        self.id = uuid7()
        self.decision = None
        self.input_check = None
        self.output_check = None
        self.aigc: dict | None = None
        self.started = 0.0
        self._reported = False

    # -- what the caller uses -----------------------------------------------------------------
    @property
    def route(self) -> str | None:
        return self.decision.route if self.decision else None

    @property
    def model(self) -> str | None:
        """The backup model's name when the backup must answer, else None (use the primary)."""
        return self.decision.model if self.decision else None

    @property
    def input(self) -> str:
        return self.input_check.text if self.input_check else self.raw_input

    def output(self, text: str) -> str:
        """Check, mask or replace, and label the model's answer; returns what to show."""
        g = self.guard
        self.output_check = g.check_output(text, self.raw_input)  # judged as a reply to the input
        shown = g.safe_answer if self.output_check.blocked else self.output_check.text
        shown, meta = g.label(shown, self.id)
        self.aigc = meta
        return shown

    # -- the block ----------------------------------------------------------------------------
    def _enter(self) -> GuardedCall:
        g = self.guard
        self.started = time.perf_counter()
        try:
            self.decision = g.admit(self.user)
        except errors.ServiceRefused as e:
            self._report("refused", route="refused", refusal=e.refusal, detail=e.detail)
            raise
        self.input_check = g.check_input(self.raw_input)
        if self.input_check.blocked:
            answer, self.aigc = g.label(g.safe_answer, self.id)
            self._report("refused", route="refused", refusal="input_blocked")
            raise InputBlocked(answer, self.input_check.verdict.categories)
        return self

    def refuse(self, e: errors.ServiceRefused) -> errors.ServiceRefused:
        """Report this admitted call as refused after all (e.g. no backup to route to)."""
        self._report("refused", route="refused", refusal=e.refusal, detail=e.detail, model=None)
        return e

    def _exit(self, exc: BaseException | None) -> None:
        if self._reported:
            return
        if exc is not None:
            self._report("upstream_error", detail=f"{type(exc).__name__}: {exc}")
        elif self.output_check is not None and self.output_check.blocked:
            self._report("output_blocked")
        else:
            self._report("ok")

    def _report(self, status: str, **kw: Any) -> None:
        self._reported = True
        d = self.decision
        kw.setdefault("route", d.route if d else None)
        self.guard.report(status=status, eff=d.eff if d else None, model=kw.pop("model", d.model if d else None),
                          started=self.started, input=self.input_check, output=self.output_check,
                          label=self.aigc is not None and self.guard.labeller.config.enabled, stream=self.stream,
                          event_id=self.id, **kw)

    def __enter__(self) -> GuardedCall:
        return self._enter()

    def __exit__(self, et, exc, tb) -> None:
        self._exit(exc)

    async def __aenter__(self) -> GuardedCall:
        return self._enter()

    async def __aexit__(self, et, exc, tb) -> None:
        self._exit(exc)


def _target(call: GuardedCall, primary: Callable, backup: Callable | None) -> Callable:
    if call.route != "backup":
        return primary
    if backup is None:
        raise call.refuse(errors.no_backup(call.decision.eff.state))
    return backup


def protect(guard, fn: Callable | None = None, *, backup: Callable | None = None):
    """Decorate ``fn(prompt, *args, **kw) -> str`` (sync or async). The backup function, if
    given, answers when the switch routes to the backup; a blocked input returns the safe
    answer instead of calling the model."""

    def wrap(f: Callable) -> Callable:
        if inspect.iscoroutinefunction(f):
            @functools.wraps(f)
            async def run_async(prompt: str, *args: Any, **kw: Any) -> str:
                try:
                    async with GuardedCall(guard, prompt) as call:
                        text = await _target(call, f, backup)(call.input, *args, **kw)
                        return call.output(text)
                except InputBlocked as e:
                    return e.answer
            return run_async

        @functools.wraps(f)
        def run(prompt: str, *args: Any, **kw: Any) -> str:
            try:
                with GuardedCall(guard, prompt) as call:
                    return call.output(_target(call, f, backup)(call.input, *args, **kw))
            except InputBlocked as e:
                return e.answer
        return run

    return wrap(fn) if fn is not None else wrap

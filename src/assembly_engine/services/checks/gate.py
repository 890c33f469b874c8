"""Script checks around saves: the policy per domain and the results shown with assemblies.

In a ``warn`` domain a save never waits for a check: the content is checked on the pool
afterwards and the result kept (and stored) by checksum. In a ``block`` domain (ENGINE_CHECKS_BLOCK,
``official`` by default, so Dev Mode writes to the official library) the save waits for
the check, at most its time limit, and is refused with ``check_failed`` when it finds an
error; a check that timed out lets the save proceed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any

from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.checks import (
    CheckAnswer,
    CheckCounts,
    CheckDone,
    CheckPending,
    ScriptCheckState,
)
from assembly_engine.services.auditor import Auditor
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller
from assembly_engine.services.checks.diagnostics import LANGUAGE_OF_FILE, CheckResult
from assembly_engine.services.checks.draft import CheckDraft
from assembly_engine.services.checks.runner import CheckRunner
from assembly_engine.services.errors import EngineError, InvalidInput
from assembly_engine.storage.contract.models import PayloadContent

log = logging.getLogger("assembly_engine.checks")
# Per stored payload, the counts the list shows: small dicts, so many can be kept.
KEPT_PAYLOADS = 200_000


class CheckFailed(EngineError):
    """A save refused by the block policy; ``extra`` goes into the error body."""

    code = "check_failed"

    def __init__(self, domain: Domain, result: CheckResult) -> None:
        errors = result.counts["error"]
        first = next(d for d in result.diagnostics if d.severity == "error")
        super().__init__(
            f"Nothing was saved: the {result.language} check found {errors} error"
            f"{'s' if errors != 1 else ''} (first at line {first.line}, column {first.column}: "
            f"{first.message}) and {domain.value} refuses scripts with errors. Fix them, or ask an "
            "administrator about ENGINE_CHECKS_BLOCK."
        )
        answer = result.to_dict()
        self.extra = {key: answer[key] for key in ("diagnostics", "counts", "checkers")}


def parse_blocking(value: str) -> frozenset[Domain]:
    """ENGINE_CHECKS_BLOCK: comma-separated domains, or ``none``."""
    names = [part.strip().lower() for part in value.split(",") if part.strip()]
    if names == ["none"]:
        return frozenset()
    known = {d.value for d in Domain}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown domain {unknown[0]!r} (use {', '.join(sorted(known))} or none)")
    return frozenset(Domain(n) for n in names)


def language_of(content: PayloadContent) -> str | None:
    return LANGUAGE_OF_FILE.get(content.main_file_name)


def _text(content: PayloadContent) -> str:
    return content.main.decode("utf-8", errors="replace")


class ScriptChecks:
    def __init__(self, runner: CheckRunner, blocking: Iterable[Domain]) -> None:
        self.runner = runner
        self.blocking = frozenset(blocking)
        self._lock = threading.Lock()
        self._by_payload: OrderedDict[str, CheckCounts] = OrderedDict()
        # Bumped when a result arrives; the list renders a kept page again only when one of
        # its own rows got a result since (changed_since), not at every result of a sweep.
        self.generation = 0
        self._noted_at: dict[str, int] = {}  # payload -> generation its result arrived at
        self._dropped_at = 0  # generation at which a result was last dropped (KEPT_PAYLOADS)
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None
        # Payloads the sweep does not check again (unreadable, no checker, a limit hit).
        self._given_up: set[str] = set()

    # -- results per stored payload (the list) -----------------------------------------
    def _note(self, payload_guid: str, result: CheckResult) -> None:
        if result.timed_out or any(run.failed for run in result.checkers):
            return
        self._keep(payload_guid, CheckCounts(result.counts, result.has_errors))

    def _keep(self, payload_guid: str, summary: CheckCounts) -> None:
        with self._lock:
            self._by_payload[payload_guid] = summary
            self._by_payload.move_to_end(payload_guid)
            self.generation += 1
            self._noted_at[payload_guid] = self.generation
            while len(self._by_payload) > KEPT_PAYLOADS:
                dropped, _ = self._by_payload.popitem(last=False)
                del self._noted_at[dropped]
                self._dropped_at = self.generation

    def _copy_result(self, source: str, payload_guid: str) -> bool:
        """Note ``source``'s result for ``payload_guid`` (same content); False if it has none."""
        summary = self._by_payload.get(source)
        if summary is None:
            return False
        self._keep(payload_guid, summary)
        return True

    def changed_since(self, payload_guids: Iterable[str], generation: int) -> bool:
        """Whether a result of any of these payloads arrived (or was dropped) after
        ``generation``: a page of them rendered then would now show other counts."""
        if self._dropped_at > generation:
            return True
        noted = self._noted_at
        return any(noted.get(guid, 0) > generation for guid in payload_guids)

    def _note_when_done(self, payload_guid: str, future: Future[CheckResult]) -> None:
        def done(finished: Future[CheckResult]) -> None:
            if not finished.cancelled() and finished.exception() is None:
                self._note(payload_guid, finished.result())

        future.add_done_callback(done)

    def counts(self, payload_guid: str) -> CheckCounts | None:
        """The counts of a stored payload once it was checked, else None."""
        return self._by_payload.get(payload_guid)

    def start_sweep(
        self, items: Callable[[], list[Any]], read: Callable[[Any], PayloadContent], every_seconds: float
    ) -> None:
        """Give every stored assembly its result, in the background, one at a time (so the
        pool stays free for saves and drafts): its stored result when it has one, else a
        check. Once at start (the list's counts after a restart), then every
        ``every_seconds`` for what arrived since without a result: another node's writes,
        checks skipped under a write storm."""

        def sweep() -> None:
            self.runner.discard_outdated()  # also asks the checkers' versions, off the requests
            while not self._stop.is_set():
                self._sweep_once(items, read)
                if self._stop.wait(every_seconds):
                    return

        self._sweeper = threading.Thread(target=sweep, name="script-check-sweep", daemon=True)
        self._sweeper.start()

    def _sweep_once(self, items: Callable[[], list[Any]], read: Callable[[Any], PayloadContent]) -> None:
        # Payloads of the same content (copies, clones, official mirrors) share their
        # result: neither read nor checked again (the checksum depends on content only).
        by_content: dict[str, str] = {}  # content checksum -> a payload checked with it
        for item in items():
            if self._stop.is_set():
                return
            payload_guid = item.record.payload.payload_guid
            if payload_guid in self._by_payload or payload_guid in self._given_up:
                continue
            checksum = item.record.payload.checksum
            same = by_content.get(checksum) if checksum else None
            if same is not None and self._copy_result(same, payload_guid):
                continue
            if checksum:
                by_content[checksum] = payload_guid
            try:
                content = read(item)
            except Exception as exc:  # a damaged payload is the detail's to report
                log.debug("check sweep skips %s: %s", item.assembly_guid, exc)
                self._given_up.add(payload_guid)
                continue
            language = language_of(content)
            if language is None:
                self._given_up.add(payload_guid)
                continue
            future = self.runner.submit(language, _text(content), background=True)
            while future is None and not self._stop.wait(1.0):
                future = self.runner.submit(language, _text(content), background=True)
            if future is None:
                return
            self._note_when_done(payload_guid, future)
            try:
                result = future.result(timeout=self.runner.limits.timeout_seconds * 4)
            except Exception:  # timed out or cancelled: the next save or read retries
                continue
            if result.timed_out or any(run.failed for run in result.checkers):
                # Not again every sweep (a hostile script would cost a check each time):
                # reading its detail checks it again.
                self._given_up.add(payload_guid)
            else:
                self._note(payload_guid, result)  # now, not by the callback: the next item may be a copy

    def policy(self, domain: Domain) -> str:
        return "block" if domain in self.blocking else "warn"

    def before_store(self, domain: Domain, content: PayloadContent) -> None:
        """Refuse content with errors where the domain blocks them (bounded wait)."""
        language = language_of(content)
        if language is None or domain not in self.blocking:
            return
        result = self.runner.check(language, _text(content))
        if result.has_errors:
            raise CheckFailed(domain, result)

    def after_store(self, content: PayloadContent, payload_guid: str) -> None:
        """Check saved content on the pool, beside the write (a full queue skips it)."""
        language = language_of(content)
        if language is not None:
            future = self.runner.submit(language, _text(content), background=True)
            if future is not None:
                self._note_when_done(payload_guid, future)

    def bulk(self) -> AbstractContextManager[None]:
        """Hold saves' checks while a bulk write runs (held.py): they run once it is done."""
        return self.runner.held.holding()

    def summary(self, content: PayloadContent, payload_guid: str) -> ScriptCheckState | None:
        """The kept result of ``content`` for a detail view; ``pending`` (and queued) when
        it was not checked yet. A check that hit its limit shows as such (``timed_out``, or
        its checker ``failed``) while the read queues it again. None for content no checker
        reads."""
        language = language_of(content)
        if language is None:
            return None
        text = _text(content)
        kept = self.runner.kept(language, text)
        if kept is None:
            future = self.runner.submit(language, text, background=True)
            if future is not None:
                self._note_when_done(payload_guid, future)
            limited = self.runner.limited(language, text)
            return CheckPending(language) if limited is None else CheckDone(limited)
        if payload_guid not in self._by_payload:
            self._note(payload_guid, kept)
        return CheckDone(kept)

    def close(self) -> None:
        self._stop.set()
        self.runner.close()


class ScriptDrafts:
    """``POST /api/assemblies/check``: a draft checked on the pool, awaited without holding
    a thread, answered ``timed_out`` past the limit (the queued check is then cancelled)."""

    def __init__(self, checks: ScriptChecks, auditor: Auditor) -> None:
        self._checks = checks
        self._auditor = auditor

    async def check(self, caller: Caller, draft: CheckDraft) -> CheckAnswer:
        self._auditor.require(policy.may_read(caller.actor), caller, "assembly.check")
        try:
            language, text = draft.language_and_text()
        except ValueError as exc:
            raise InvalidInput(f"{exc}.") from None
        runner = self._checks.runner
        # Off the event loop: hashing a large draft takes tens of milliseconds.
        future = await asyncio.to_thread(runner.submit, language, text)
        assert future is not None  # only background submits are ever dropped
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(future), runner.limits.timeout_seconds + 1.0)
        except TimeoutError:
            result = runner.timed_out(language, text)
        return CheckAnswer.of(result)

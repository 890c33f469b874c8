"""HTTP Health Probe.

Sends a GET to every URL in Urls (comma, space or newline separated) and checks the status
code against ExpectedStatus (codes and ranges, e.g. ``200`` or ``200-299,301``) and,
optionally, that the body contains ExpectText. Prints status and response time of each.
Redirects are followed. Read-only. Exits 1 when any URL fails, 2 on bad input.
Variables (environment): Urls, ExpectedStatus, ExpectText, TimeoutSeconds, VerifyTls
"""

from __future__ import annotations

import os
import re
import ssl
import sys
import time
import urllib.error
import urllib.request

MAX_BODY_BYTES = 1024 * 1024  # enough to look for a marker without reading downloads


def parse_statuses(raw: str) -> set[int]:
    allowed: set[int] = set()
    for part in re.split(r"[,\s]+", raw.strip()):
        if not part:
            continue
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise ValueError(f"ExpectedStatus: '{part}' is not a status code or range")
        allowed.update(range(int(low), int(high or low) + 1))
    if not allowed:
        raise ValueError("ExpectedStatus is empty")
    return allowed


def probe(url: str, timeout: float, context: ssl.SSLContext) -> tuple[int | None, str, float]:
    """Status code (None when there was no HTTP answer), body prefix or error, seconds."""
    request = urllib.request.Request(url, headers={"User-Agent": "assembly-engine-health-probe/1"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            body = response.read(MAX_BODY_BYTES).decode("utf-8", "replace")
            return response.status, body, time.monotonic() - started
    except urllib.error.HTTPError as exc:  # a 4xx/5xx is still an answer worth reporting
        body = exc.read(MAX_BODY_BYTES).decode("utf-8", "replace")
        return exc.code, body, time.monotonic() - started
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, str(reason), time.monotonic() - started


def truthy(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def main() -> int:
    urls = [u for u in re.split(r"[,\s]+", os.environ.get("Urls", "").strip()) if u]
    try:
        allowed = parse_statuses(os.environ.get("ExpectedStatus") or "200-299")
        timeout = float(os.environ.get("TimeoutSeconds") or "10")
    except ValueError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    if not urls:
        print("ERROR: Urls is required, for example 'https://intranet/health'.", file=sys.stderr)
        return 2
    bad = [u for u in urls if not re.match(r"^https?://", u, re.IGNORECASE)]
    if bad:
        print(f"ERROR: not an http(s) URL: {', '.join(bad)}", file=sys.stderr)
        return 2
    if not 0 < timeout <= 300:
        print("ERROR: TimeoutSeconds must be between 0 and 300.", file=sys.stderr)
        return 2

    expect_text = os.environ.get("ExpectText", "")
    context = ssl.create_default_context()
    if not truthy(os.environ.get("VerifyTls"), True):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE

    failures = 0
    for url in urls:
        status, body, seconds = probe(url, timeout, context)
        if status is None:
            verdict = f"FAIL  no response: {body}"
        elif status not in allowed:
            verdict = f"FAIL  unexpected status {status}"
        elif expect_text and expect_text not in body:
            verdict = f"FAIL  status {status} but body lacks '{expect_text}'"
        else:
            verdict = f"OK    status {status}"
        failures += verdict.startswith("FAIL")
        print(f"{verdict:60} {seconds * 1000:7.0f} ms  {url}")

    print(f"{len(urls) - failures} of {len(urls)} URL(s) healthy.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

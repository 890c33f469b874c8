"""psycopg's failures told in storage's vocabulary (storage/contract/errors.py).

Every PostgreSQL store runs its statements inside :func:`translated`, so nothing above
storage ever sees a driver exception: a lost or refused connection is
:class:`Unavailable` (503 with Retry-After; nothing was changed, since the transaction it
was in never committed), a lock that did not come in time (or a deadlock) is
:class:`Busy`, and a value PostgreSQL cannot hold (text with a NUL character or an
unpaired surrogate) is a plain refusal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout

from assembly_engine.storage.contract.errors import Busy, EngineError, StorageFailed, Unavailable

RETRY_AFTER_SECONDS = 5

# What psycopg raises when the server went away or cannot be reached.
CONNECTION_FAILURES: tuple[type[BaseException], ...] = (psycopg.OperationalError, PoolTimeout)


def unavailable(what: str, exc: BaseException) -> Unavailable:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return Unavailable(
        f"PostgreSQL could not be reached while {what} ({reason}); nothing was changed. "
        f"Retry in a few seconds.",
        retry_after=RETRY_AFTER_SECONDS,
    )


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Run a block of statements; raise its failure as one of storage's kinds.

    ``what`` completes "while ...", for example "queueing a change"."""
    try:
        yield
    except EngineError:
        raise
    except (pg_errors.LockNotAvailable, pg_errors.QueryCanceled) as exc:
        raise Busy(
            f"The change was not made: PostgreSQL kept a lock held while {what}. Retry in a few seconds.",
            retry_after=RETRY_AFTER_SECONDS,
        ) from exc
    except pg_errors.DiskFull as exc:
        raise StorageFailed(
            f"PostgreSQL refused to store data while {what} (its disk is full); nothing was changed."
        ) from exc
    except pg_errors.TransactionRollback as exc:
        # A deadlock or a serialisation failure: the transaction was undone, a retry may pass.
        raise Busy(
            f"The change was not made: PostgreSQL undid a conflicting transaction while {what}. "
            "Retry in a few seconds.",
            retry_after=RETRY_AFTER_SECONDS,
        ) from exc
    except psycopg.DataError as exc:
        # psycopg refuses text holding NUL before sending it ("PostgreSQL text fields cannot
        # contain NUL (0x00) bytes", a DataError): PostgreSQL text cannot hold it.
        if "NUL" in str(exc):
            raise EngineError(
                "Text fields cannot contain the NUL character (U+0000); nothing was changed."
            ) from exc
        raise
    except UnicodeEncodeError as exc:
        # Python text with half a surrogate pair (JSON's "\ud800" parses to one) has no UTF-8
        # form; psycopg fails while encoding it, before anything is sent.
        raise EngineError(
            "Text fields must be valid Unicode (no unpaired surrogates); nothing was changed."
        ) from exc
    except CONNECTION_FAILURES as exc:
        raise unavailable(what, exc) from exc

"""Optuna storage: open SQLite or PostgreSQL with a heartbeat, never print a password.

``open_storage(url)`` returns an ``optuna.storages.RDBStorage`` whose trials record a heartbeat every
``heartbeat`` seconds; a trial whose worker died (SIGKILL, power loss) stops beating and the next worker fails it
after ``grace`` seconds (``fail_stale``). Connection problems become one-line ``StorageError``s.
"""

from __future__ import annotations

import re
import threading
import time
import warnings
from pathlib import Path
from types import TracebackType

import optuna
from optuna.exceptions import ExperimentalWarning

from facesweep.errors import StorageError

DEFAULT_HEARTBEAT = 10  # seconds between a running trial's heartbeats
GRACE_FACTOR = 3  # a trial is stale after this many missed heartbeats
CREATE_ATTEMPTS = 4  # tries at opening a storage whose tables another worker is creating right now


def default_storage_url(workdir: str | Path = ".") -> str:
    """``sqlite:///<workdir>/facesweep.db`` with an absolute path, so the URL works from any directory."""
    return f"sqlite:///{(Path(workdir) / 'facesweep.db').resolve()}"


def redact(url: str) -> str:
    """The URL with any password replaced by ``***`` (``postgresql://u:***@host/db``)."""
    url = re.sub(r"(://[^:/@]*:)[^/]*@", r"\1***@", url)  # greedy: a password may contain '@'
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL (None for other URLs and in-memory SQLite)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :]
    return None if path in ("", ":memory:") else Path(path)


def with_driver(url: str) -> str:
    """``postgresql://`` with the driver that is installed: SQLAlchemy 2.1 picks psycopg 3 by default, while
    ``facesweep[postgres]`` installs psycopg2-binary. An explicit ``postgresql+driver://`` is left alone."""
    if not url.startswith(("postgresql://", "postgres://")):
        return url
    import importlib.util

    rest = url.split("://", 1)[1]
    if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is not None:
        return "postgresql+psycopg2://" + rest
    return "postgresql://" + rest


def open_storage(url: str, *, heartbeat: int | None = DEFAULT_HEARTBEAT) -> optuna.storages.RDBStorage:
    """Connect (creating tables if needed); ``heartbeat=None`` opens it read-mostly, without heartbeats."""
    engine_kwargs: dict = {}
    given, url = url, with_driver(url)
    if url.startswith("sqlite"):
        # Several worker processes share one file: wait for the lock instead of failing at once.
        engine_kwargs["connect_args"] = {"timeout": 60}
        path = sqlite_path(url)
        if path is not None and not path.parent.is_dir():
            raise StorageError(f"cannot open storage {redact(url)}: folder {path.parent} does not exist")
    elif url.startswith("postgresql"):
        engine_kwargs.update(pool_pre_ping=True, connect_args={"connect_timeout": 10})
    kwargs = {}
    if heartbeat is not None:
        kwargs = dict(heartbeat_interval=int(heartbeat), grace_period=int(heartbeat) * GRACE_FACTOR)
    try:
        for attempt in range(CREATE_ATTEMPTS):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ExperimentalWarning)
                    return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **kwargs)
            except Exception as exc:
                # Workers started together race to create the tables; the loser finds them made on a retry.
                racing = any(word in str(exc) for word in ("UNIQUE constraint", "already exists", "duplicate key"))
                if not racing or attempt == CREATE_ATTEMPTS - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")
    except ImportError:
        raise StorageError(
            f"cannot open storage {redact(given)}: its database driver is missing "
            "(for PostgreSQL: pip install 'facesweep[postgres]', which brings psycopg2-binary)"
        ) from None
    except Exception as exc:  # sqlalchemy's OperationalError/ArgumentError, psycopg2's errors, a bad URL
        raise StorageError(f"cannot open storage {redact(given)}: {_one_line(exc, url)}") from None


def _one_line(exc: BaseException, url: str) -> str:
    cause = getattr(exc, "orig", None) or exc
    text = " ".join(str(cause).split()) or type(cause).__name__
    text = text.replace(url, redact(url))
    password = re.search(r"://[^:/@]*:([^/]*)@", url)
    if password and password.group(1):
        text = text.replace(password.group(1), "***")
    return text[:300]


def fail_stale(study: optuna.Study) -> None:
    """Fail RUNNING trials whose worker stopped beating (killed, crashed machine)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


class Heartbeat:
    """Record a trial's heartbeat now and every ``interval`` seconds until the ``with`` block ends.

    ``study.optimize`` does this itself; the sweep drives trials with ask/tell, so it beats here.
    """

    def __init__(self, storage: optuna.storages.BaseStorage, trial_id: int) -> None:
        self._storage = storage
        self._trial_id = trial_id
        # An RDBStorage or a wrapper of one: ask the object itself for the interval.
        get_interval = getattr(storage, "get_heartbeat_interval", None)
        self._interval = get_interval() if get_interval is not None else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        if self._interval:
            self._storage.record_heartbeat(self._trial_id)  # at once: a trial with no beat is never failed
            self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{self._trial_id}", daemon=True)
            self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._storage.record_heartbeat(self._trial_id)
            except Exception:  # a transient DB error must not kill the trial; the next beat retries
                pass

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

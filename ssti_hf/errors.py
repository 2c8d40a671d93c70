"""The error contract: every failure is one line that names the input and what is wrong with it.

The ``ssti-hf`` commands exit 0 on success, 1 only for ``scan``'s "flagged", and 2 for any error,
printing :func:`one_line` of it (``--debug`` or ``SSTI_HF_DEBUG=1`` adds the traceback). The API
raises exceptions carrying the same messages: errors of the Hub client and of the network are
turned into :class:`HubError` by :func:`hub_errors` where the Hub is called, so that a wrong
token, a server that is down or answers 500 reads the same from Python as from the shell.
"""

from __future__ import annotations

import contextlib
import os

EXIT_OK, EXIT_FLAGGED, EXIT_ERROR = 0, 1, 2
_MAX_CHARS = 600  # a message quoting a whole server page or dataset row is cut here


class HubError(ConnectionError):
    """The Hub refused a request, failed, or could not be reached (the message says which)."""


def debugging() -> bool:
    return os.environ.get("SSTI_HF_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


def endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def hub_offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def explain_hub(error: BaseException, what: str) -> str | None:
    """A one-line explanation of a Hub or network error met while doing ``what`` (the error, or one
    it was raised from: huggingface_hub wraps a failed upload in a RuntimeError); None for others."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        message = _explain_one(error, what)
        if message is not None:
            return message
        error = error.__cause__ or error.__context__
    return None


def _explain_one(error: BaseException, what: str) -> str | None:
    from huggingface_hub import errors

    transport = _transport_errors()

    status = getattr(getattr(error, "response", None), "status_code", None)
    if isinstance(error, errors.OfflineModeIsEnabled) or (hub_offline() and isinstance(error, (ConnectionError, *transport))):
        return f"{what}: HF_HUB_OFFLINE is set, so the Hub is not contacted; unset it, or use a local path"
    if isinstance(error, (errors.RepositoryNotFoundError, errors.GatedRepoError)) and status in (401, 403, 404, None):
        return f"{what}: repository not found on the Hub at {endpoint()} (or private, and the token has no access to it)"
    if isinstance(error, errors.RevisionNotFoundError):
        return f"{what}: revision not found on the Hub"
    if isinstance(error, errors.HfHubHTTPError) and status is not None:
        detail = (getattr(error, "server_message", None) or "").strip().replace("\n", " ")
        detail = f" ({detail})" if detail else ""
        if status == 401:
            return f"{what}: the Hub refused the token (HTTP 401){detail}; set HF_TOKEN to a valid token (or run `hf auth login`)"
        if status == 403:
            return f"{what}: the token may not do this (HTTP 403){detail}; use a token with write access to this repo"
        if status >= 500:
            return f"{what}: the Hub at {endpoint()} failed (HTTP {status}){detail}; try again later"
        return f"{what}: the Hub answered HTTP {status}{detail}"
    if isinstance(error, BrokenPipeError):  # our own output closed early (| head), not the network
        return None
    if isinstance(error, (*transport, ConnectionError, TimeoutError)) and not isinstance(error, HubError):
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return (f"{what}: cannot reach the Hub at {endpoint()} ({reason}); check the network or HF_ENDPOINT, "
                "or use a local path (HF_HUB_OFFLINE=1 reads the cache only)")
    return None


def _transport_errors() -> tuple:
    """The network errors of the HTTP clients the Hub libraries use (whichever are installed)."""
    found = []
    for module, name in (("httpx2", "TransportError"), ("httpx", "TransportError"), ("requests", "ConnectionError"), ("requests", "Timeout")):
        try:
            found.append(getattr(__import__(module), name))
        except (ImportError, AttributeError):
            pass
    return tuple(found)


@contextlib.contextmanager
def hub_errors(what: str):
    """Re-raise Hub and network errors met inside the block as :class:`HubError` saying ``what`` failed."""
    try:
        yield
    except HubError:
        raise
    except Exception as error:
        message = explain_hub(error, what)
        if message is None:
            raise
        raise HubError(message) from error


def one_line(error: BaseException) -> str:
    """The line an error is reported with: its message, unless the message alone would be unclear."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted; nothing half-written was left (run the command again to finish)"
    if isinstance(error, MemoryError):
        return "out of memory: the input or a number given (amount, batch size, length) is too large for this machine"
    message = explain_hub(error, "Hub request") if not isinstance(error, HubError) else None
    if message is None:
        message = _message(error)
    message = " ".join(message.split())
    return message if len(message) <= _MAX_CHARS else message[: _MAX_CHARS - 1] + "…"


def _message(error: BaseException) -> str:
    if isinstance(error, UnicodeDecodeError):
        return f"cannot read text as {error.encoding}: byte {error.object[error.start:error.start + 1]!r} at position {error.start}; save the file as UTF-8"
    if isinstance(error, OSError) and error.filename is not None:
        # PermissionError, NotADirectoryError, IsADirectoryError, ...: the path and the OS's reason
        reason = error.strerror or type(error).__name__
        return f"{error.filename}: {reason}"
    text = str(error).strip()
    if type(error).__module__.startswith("pyarrow"):  # an Arrow file that does not read: often a damaged cache file
        from datasets import config

        return (f"{type(error).__name__}: {text} (a damaged Arrow file; if it is in the datasets cache, {config.HF_DATASETS_CACHE}, "
                "delete it and run again)")
    if isinstance(error, KeyError) or not text:
        return f"{type(error).__name__}: {text or 'no message'} (an unexpected error; --debug shows where)"
    if isinstance(error, (ValueError, TypeError, FileNotFoundError, FileExistsError, ImportError, ConnectionError)):
        return text
    return f"{type(error).__name__}: {text}"

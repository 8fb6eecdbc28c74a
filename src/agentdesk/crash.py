"""What the command line does with an error nobody expected: one line on the terminal, the
details in a private log file, and an exit status that is never 0.

The log goes to the cache's `logs/` folder when there is one (it holds the same personal data
as the cache, so it is 0600 like every cache file), else to the user's log folder. Secrets the
process knows (tokens) are blanked out of it: a traceback can show a local variable's value.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

CRASHED = 70  # EX_SOFTWARE: the exit status of an unexpected error
INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl+C

_secrets: list[str] = []


def keep_secret(value: str | None) -> None:
    """Never write `value` (a token) into a crash log."""
    if value and len(value) >= 4 and value not in _secrets:
        _secrets.append(value)


def _scrubbed(text: str) -> str:
    for secret in [*_secrets, os.environ.get("AGENTDESK_TOKEN"),
                   os.environ.get("AGENTDESK_SERVER_TOKEN")]:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "********")
    return text


def log_folder(cache_root: Path | None) -> Path:
    if cache_root is not None and cache_root.is_dir():
        return cache_root / "logs"
    from platformdirs import user_log_path

    return user_log_path("agentdesk")


def write_log(details: str, cache_root: Path | None) -> Path | None:
    """Write a crash log (0600, in a 0700 folder); its path, or None if it could not be."""
    from agentdesk import __version__

    folder = log_folder(cache_root)
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    text = _scrubbed(f"agentdesk {__version__}\nargv: {sys.argv!r}\n\n{details}")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as handle:
            handle.write(text)
    except OSError:
        return None
    return folder / name


def report(error: BaseException | None, details: str, cache_root: Path | None,
           what: str = "agentdesk") -> int:
    """Log an unexpected error, say so in one line on stderr; the exit status to use."""
    path = write_log(details, cache_root)
    kind = type(error).__name__ if error is not None else "an error"
    where = f"details in {path}" if path is not None else "no log could be written"
    print(f"\n{what}: stopped by an unexpected error ({kind}); {where}", file=sys.stderr)
    return CRASHED


def report_exception(error: BaseException, cache_root: Path | None, what: str = "agentdesk") -> int:
    details = "".join(traceback.format_exception(error))
    return report(error, details, cache_root, what)

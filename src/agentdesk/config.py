"""User configuration: a TOML file in the user config dir (no UI imports).

    remote = "https://desk.example.com"   # the store to sync with (or --remote, AGENTDESK_REMOTE)
    token = "..."                  # its bearer token (or AGENTDESK_TOKEN); file kept 0600
    rt_user = "agent"              # Request Tracker (rt+https://...): a user and password instead
    rt_password = "..."            #   of a token (or AGENTDESK_RT_USER, AGENTDESK_RT_PASSWORD)
    sync_interval = 60             # seconds between background syncs
    author = "Sam Rivera"          # shown on notes you write
    theme = "textual-light"        # the desk's colours (the command palette sets it)
    [keymap]                       # remap any binding by its id (see the help screen, ?)
    "profile.new_note" = "a"
    "timeline.next_conversation" = "ctrl+n,right_square_bracket"
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_config_path, user_data_path

APP = "agentdesk"


@dataclass
class Config:
    path: Path
    author: str = ""
    keymap: dict[str, str] = field(default_factory=dict)
    remote: str = ""
    token: str = field(default="", repr=False)
    rt_user: str = ""
    rt_password: str = field(default="", repr=False)
    sync_interval: float = 60.0
    theme: str = ""  # a Textual theme name; empty: Textual's default


@dataclass(frozen=True)
class Remote:
    """Where to sync from. The token is kept out of repr, logs and error messages."""

    url: str
    token: str = field(repr=False)
    verify: bool = True
    user: str = ""  # Request Tracker accepts a user and password where there is no token
    password: str = field(default="", repr=False)

    @property
    def login(self) -> dict[str, str]:
        """user= and password= for `agentdesk.sync.remote.connect`."""
        return {"user": self.user, "password": self.password}

    @property
    def masked_token(self) -> str:
        return mask(self.token)


def mask(token: str) -> str:
    if not token:
        return "(not set)"
    return f"{token[:3]}…{len(token)} characters" if len(token) > 8 else "********"


def remote_from(config: Config, url: str | None = None) -> Remote | None:
    """--remote, else $AGENTDESK_REMOTE, else the config file; token from $AGENTDESK_TOKEN,
    else the config file. None when no store is configured (the desk works from its cache)."""
    url = url or os.environ.get("AGENTDESK_REMOTE") or config.remote
    if not url:
        return None
    token = os.environ.get("AGENTDESK_TOKEN") or config.token
    user = os.environ.get("AGENTDESK_RT_USER") or config.rt_user
    password = os.environ.get("AGENTDESK_RT_PASSWORD") or config.rt_password
    return Remote(url=url, token=token, user=user, password=password)


def config_path() -> Path:
    override = os.environ.get("AGENTDESK_CONFIG")
    return Path(override).expanduser() if override else user_config_path(APP) / "config.toml"


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file means defaults, a broken one a clear error."""
    import getpass

    path = path or config_path()
    data: dict = {}
    if path.exists():
        import tomllib  # here: without a config file the desk's start-up does not pay for it

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise SystemExit(f"agentdesk: cannot read {path}: {error}") from None
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict) or not all(isinstance(v, str) for v in keymap.values()):
        raise SystemExit(f"agentdesk: [keymap] in {path} must map binding ids to key strings")
    try:
        default_author = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not an error
        default_author = ""
    try:
        interval = float(data.get("sync_interval", 60))
    except (TypeError, ValueError):
        raise SystemExit(f"agentdesk: sync_interval in {path} must be a number of seconds") from None
    return Config(
        path=path,
        author=str(data.get("author", default_author)),
        keymap=dict(keymap),
        remote=str(data.get("remote", "")),
        token=str(data.get("token", "")),
        sync_interval=max(5.0, interval),
        theme=str(data.get("theme", "")),
        rt_user=str(data.get("rt_user", "")),
        rt_password=str(data.get("rt_password", "")),
    )


def save_settings(path: Path, **settings: object) -> None:
    """Set top-level keys in the config file, keeping everything else as the user wrote it
    (comments, blank lines, key order, tables). Written 0600 (it may hold a token), atomically.

    Read at start-up with tomllib (fast, in the standard library); written here with tomlkit,
    which edits the document in place. It is imported only here: writes are rare and the desk
    imports this module before its first frame."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    from agentdesk.cache.files import atomic_write_bytes, make_private_dir

    doc = tomlkit.document()
    if path.exists():
        try:
            doc = tomlkit.parse(path.read_text(encoding="utf-8"))
        except (TOMLKitError, UnicodeDecodeError) as error:
            raise SystemExit(f"agentdesk: cannot read {path}: {error}") from None
    # An existing key keeps its place and its comment; tomlkit puts a new one before the first
    # table, where a top-level key has to be.
    for key, value in settings.items():
        if value is not None:
            doc[key] = value
    make_private_dir(path.parent)
    atomic_write_bytes(path, tomlkit.dumps(doc).encode("utf-8"))


def default_cache_dir() -> Path:
    """AGENTDESK_CACHE, else the platform's user data dir."""
    override = os.environ.get("AGENTDESK_CACHE")
    return Path(override).expanduser() if override else user_data_path(APP) / "cache"


def demo_server_dir() -> Path:
    """The demo store's own folder (the desk's `--demo` serves it on 127.0.0.1)."""
    return user_data_path(APP) / "demo-server"


def demo_cache_dir() -> Path:
    """The demo's own folder: never the user's real cache, whatever AGENTDESK_CACHE says."""
    return user_data_path(APP) / "demo"

"""User configuration: a TOML file in the user config dir (no UI imports).

    author = "Sam Rivera"          # shown on notes you write
    [keymap]                       # remap any binding by its id (see the help screen, ?)
    "profile.new_note" = "a"
    "timeline.next_conversation" = "ctrl+n,right_square_bracket"
"""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_config_path, user_data_path

APP = "agentdesk"


@dataclass
class Config:
    path: Path
    author: str = ""
    keymap: dict[str, str] = field(default_factory=dict)


def config_path() -> Path:
    override = os.environ.get("AGENTDESK_CONFIG")
    return Path(override).expanduser() if override else user_config_path(APP) / "config.toml"


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file means defaults, a broken one a clear error."""
    path = path or config_path()
    data: dict = {}
    if path.exists():
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
    return Config(path=path, author=str(data.get("author", default_author)), keymap=dict(keymap))


def default_cache_dir() -> Path:
    """AGENTDESK_CACHE, else the platform's user data dir."""
    override = os.environ.get("AGENTDESK_CACHE")
    return Path(override).expanduser() if override else user_data_path(APP) / "cache"


def demo_cache_dir() -> Path:
    """The demo's own folder: never the user's real cache, whatever AGENTDESK_CACHE says."""
    return user_data_path(APP) / "demo"

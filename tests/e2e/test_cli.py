"""The command line: --help, --version, where caches live, and clear errors."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from agentdesk import __version__, cli
from agentdesk.cli import COMMANDS, open_cache, parse, parser
from agentdesk.config import load_config
from agentdesk.model import demo
from support.cache_reading import cache_digest, timeline_of


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentdesk", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


def test_version_and_help() -> None:
    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"agentdesk {__version__}"
    help_ = run("--help")
    assert help_.returncode == 0
    for option in ("--demo", "--cache", "--customer", "AGENTDESK_CACHE"):
        assert option in help_.stdout


@pytest.mark.parametrize("argv", [
    [], ["--demo"], ["--cache", "/tmp/x", "--customer", "cus_1", "--remote", "http://h"],
    ["--customer=--demo"], ["--customer", "open"], ["sync", "--repair"],
    ["open", "--demo", "ada@example.com"], ["export", "-q", "tag:vip", "--format", "json"],
])
def test_the_desks_own_arguments_read_as_the_whole_parser_reads_them(argv: list[str]) -> None:
    """The desk's arguments are parsed without building every command's parser (start-up):
    the same namespace, whatever the arguments."""
    assert vars(parse(argv)) == vars(parser().parse_args(argv))


@pytest.mark.parametrize("argv", [[], ["--demo"], ["--cache", "/tmp/x", "--customer", "cus_1"]])
def test_the_desks_own_arguments_build_no_commands_parser(
        argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """What the fast path is for: starting the desk does not build every command's parser."""
    def whole_parser() -> argparse.ArgumentParser:
        raise AssertionError("the whole parser was built")

    monkeypatch.setattr(cli, "parser", whole_parser)
    assert parse(argv).command is None


@pytest.mark.parametrize("argv", [["--nope"], ["stray"], ["--customer"], ["--cache"]])
def test_a_wrong_desk_argument_gets_the_whole_parsers_error(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as fast:
        parse(argv)
    said = capsys.readouterr().err
    with pytest.raises(SystemExit) as whole:
        parser().parse_args(argv)
    assert fast.value.code == whole.value.code == 2
    assert said == capsys.readouterr().err and "COMMAND" in said  # the whole usage line


def test_every_command_is_known_to_the_fast_path() -> None:
    """A command missing from COMMANDS would be taken for a stray argument by the fast path."""
    subparsers = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))  # noqa: SLF001
    assert set(COMMANDS) == set(subparsers.choices)


def test_demo_syncs_from_its_own_store_into_its_own_folder(tmp_path: Path) -> None:
    """`--demo` serves the demo store on 127.0.0.1 and syncs from it over HTTP, into the demo
    folder, never the real cache; two fresh machines end with the same data."""
    from agentdesk.cache.cache import Cache

    digests = []
    for machine in ("data", "data2"):
        real = tmp_path / f"real-cache-{machine}"
        env = {"XDG_DATA_HOME": str(tmp_path / machine), "AGENTDESK_CACHE": str(real)}
        result = run("sync", "--demo", env=env)
        assert result.returncode == 0, result.stderr
        assert "Synced with http://127.0.0.1:" in result.stdout
        assert "saving customers (1/" in result.stderr  # a first sync files what it spooled
        assert not real.exists()
        root = tmp_path / machine / "agentdesk" / "demo"
        assert (root / "sync.json").exists()
        with Cache.open(root) as cache:
            assert cache.load_profile(demo.BIG_ID) is not None
            assert timeline_of(cache, demo.BIG_ID).total == 10_000
            digests.append(cache_digest(cache))
        again = run("sync", "--demo", env=env)
        assert again.returncode == 0 and "0 changes applied" in again.stdout
        assert "saving customers" not in again.stderr  # nothing spooled after the first
    assert digests[0] == digests[1]


def test_sync_without_a_store_or_with_one_down_fails_clearly(tmp_path: Path) -> None:
    env = {"AGENTDESK_CONFIG": str(tmp_path / "none.toml"), "AGENTDESK_REMOTE": ""}
    result = run("sync", "--cache", str(tmp_path / "c"), env=env)
    assert result.returncode == 2 and "no store configured" in result.stderr
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "never-shown-token-123456"
    result = run("sync", "--cache", str(tmp_path / "c"), "--remote", f"http://127.0.0.1:{port}",
                 env={**env, "AGENTDESK_TOKEN": token})
    assert result.returncode == 1
    assert "cannot reach the server" in result.stderr and "connection refused" in result.stderr
    assert token not in result.stderr + result.stdout


def test_config_shows_and_sets_with_the_token_masked(tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "config.toml"
    token = "secret-token-abcdefghij"
    env = {"AGENTDESK_CONFIG": str(config), "AGENTDESK_TOKEN": token}
    result = run("config", "--remote", "https://desk.example.com", "--token-from-env", env=env)
    assert result.returncode == 0, result.stderr
    assert str(config) in result.stdout and "https://desk.example.com" in result.stdout
    assert token not in result.stdout
    assert (config.stat().st_mode & 0o777) == 0o600
    assert (config.parent.stat().st_mode & 0o777) == 0o700
    loaded = load_config(config)
    assert loaded.remote == "https://desk.example.com" and loaded.token == token
    shown = run("config", env={"AGENTDESK_CONFIG": str(config), "AGENTDESK_TOKEN": ""})
    assert "from the config file" in shown.stdout and token not in shown.stdout


def test_config_says_not_set_before_any_config_file(tmp_path: Path) -> None:
    config = tmp_path / "none" / "config.toml"
    shown = run("config", env={"AGENTDESK_CONFIG": str(config), "AGENTDESK_TOKEN": "",
                               "AGENTDESK_REMOTE": ""})
    assert shown.returncode == 0, shown.stderr
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1].strip()
             for line in shown.stdout.splitlines() if ":" in line}
    assert lines["token"] == "(not set)" and lines["remote"] == "(not set)"
    assert "(not created yet)" in lines["config file"]


def test_config_set_keeps_the_users_comments_and_keymap(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from agentdesk import cli

    config = tmp_path / "cfg" / "config.toml"
    config.parent.mkdir()
    written = ('# my desk\n'
               'author = "Sam"  # shown on my notes\n'
               '\n'
               '[keymap]  # my own keys\n'
               '# n is taken by my terminal\n'
               '"profile.new_note" = "a"\n')
    config.write_text(written)
    monkeypatch.setenv("AGENTDESK_CONFIG", str(config))
    monkeypatch.delenv("AGENTDESK_REMOTE", raising=False)
    assert cli.main(["config", "--remote", "https://desk.example.com"]) == 0
    assert "https://desk.example.com" in capsys.readouterr().out
    text = config.read_text()
    for line in written.splitlines():  # every line the user wrote, comments and blanks too
        assert line in text.splitlines()
    assert text.index("# my desk") < text.index("author") < text.index("[keymap]")
    loaded = load_config(config)
    assert loaded.remote == "https://desk.example.com" and loaded.author == "Sam"
    assert loaded.keymap == {"profile.new_note": "a"}
    assert (config.stat().st_mode & 0o777) == 0o600


def test_loading_the_config_does_not_import_tomlkit(tmp_path: Path) -> None:
    """tomlkit is for writes only: the desk loads its config before its first frame."""
    config = tmp_path / "config.toml"
    config.write_text('author = "Sam"\n[keymap]\n"profile.new_note" = "a"\n')
    code = ("import sys; from agentdesk.config import load_config; "
            f"assert load_config(__import__('pathlib').Path({str(config)!r})).author == 'Sam'; "
            "print('tomlkit' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_cache_location_from_env_and_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDESK_CACHE", str(tmp_path / "from-env"))
    cache = open_cache(parser().parse_args([]))
    assert cache.root == tmp_path / "from-env"
    cache.close()
    cache = open_cache(parser().parse_args(["--cache", str(tmp_path / "from-flag")]))
    assert cache.root == tmp_path / "from-flag"
    cache.close()


def test_unreadable_cache_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    root = tmp_path / "newer"
    root.mkdir()
    (root / "meta.json").write_text('{"schema": 99}')
    result = run("--cache", str(root))
    assert result.returncode != 0
    assert "newer agentdesk" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_config_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[keymap]\nprofile.new_note = 3\n")
    with pytest.raises(SystemExit, match="keymap"):
        load_config(path)
    path.write_text('author = "Sam"\n[keymap]\n"profile.new_note" = "a"\n')
    config = load_config(path)
    assert config.author == "Sam" and config.keymap == {"profile.new_note": "a"}

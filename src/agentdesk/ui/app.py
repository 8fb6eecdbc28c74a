"""The agentdesk Textual application: screens, global keys, command palette, background index."""

from __future__ import annotations

import itertools
from pathlib import Path
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.signal import Signal

from agentdesk.config import Config, Remote
from agentdesk.cache.cache import Cache, IndexRow
from agentdesk.cache.collector import Hold, collector_eased
from agentdesk.ui.kept_css import KeptStylesheet
from agentdesk.ui.lean_output import lean
from agentdesk.ui.startup import resume_gc
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.quitting import QUIT_ID, batching, drop_waiting_input, quits_now
from agentdesk.ui.desk_sync import DeskSync
from agentdesk.ui.sync_bar import SyncEffects, SyncView
from agentdesk.ui.work_queue import WorkQueue

if TYPE_CHECKING:
    from textual.command import Provider
    from textual.driver import Driver
    from textual.message import Message
    from textual.theme import Theme

    from agentdesk.cache.customer_table import CustomerTable
    from agentdesk.cache.search import CustomerIndex
    from agentdesk.model.customer_stats import Facts
    from agentdesk.model.records import Profile
    from agentdesk.sync.engine import SyncEngine
    from agentdesk.ui.screen_pop_desk import DeskScreenPop


UPGRADE_EVERY = 2.0  # seconds between tries of a read-only desk to take the cache over


def _desk_commands() -> type[Provider]:
    from agentdesk.ui.commands import DeskCommands  # loaded when the palette first opens

    return DeskCommands


class AgentDesk(DeskSync, App):
    # Every screen's styles, read once at start: a screen's own CSS_PATH made Textual parse
    # the whole stylesheet again on that screen's first open (~50 ms before its first frame).
    # Absolute, so that subclasses elsewhere (benchmarks, tests) find them too.
    CSS_PATH = [str(Path(__file__).with_name(name))
                for name in ("app.tcss", "customers.tcss", "customer_chart.tcss")]
    TITLE = "agentdesk"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = {_desk_commands}  # the desk's actions only (ui/commands.py)
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit agentdesk"),
        Binding("slash", "search", "Search", id="app.search",
                tooltip="Search customers: name, e-mail, phone, company, id"),
        Binding("question_mark,f1", "help", "Help", id="app.help",
                tooltip="This help: every key of the screen you are on"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, id="app.command_palette",
                tooltip="Command palette: the desk's actions by name, with their keys"),
        Binding("r", "sync", "Sync", id="app.sync", tooltip="Sync with the store now"),
        Binding("i", "queue", "Queue", id="app.queue",
                tooltip="My queue: conversations waiting for me, then unassigned ones"),
        Binding("N", "next_in_queue", "Next", id="app.next_in_queue",
                tooltip="Open the next conversation of the queue"),
        # Not in every screen's key bar (help and the palette show it): the bars stay as they were.
        Binding("C", "customers", "Customers", show=False, id="app.customers",
                tooltip="Every customer in a table: query, sort, columns, export"),
        Binding("H", "customer_chart", "Customers over time", show=False,
                id="app.customer_chart",
                tooltip="Chart of total, reachable, unreachable and monthly active customers"),
    ]

    def __init__(self, cache: Cache, config: Config, *, customer_id: str | None = None,
                 remote: Remote | None = None,
                 prepare_remote: Callable[[], None] | None = None) -> None:
        """`prepare_remote` makes the remote ready (the demo serves its store): it runs once,
        in the first sync's thread, after the first frame, so the desk is not kept waiting."""
        super().__init__()
        # Parsed styles kept from the last start (kept_css.py): before the theme is set.
        # (The variables App.__init__ just worked out for its own: not worked out again.)
        self.kept_styles = self.stylesheet = KeptStylesheet(
            variables=self.stylesheet._variables)  # noqa: SLF001
        self._prepare_remote = prepare_remote
        self.cache = cache
        self.config = config
        self.author = config.author
        self.start_customer = customer_id
        self.index: CustomerIndex | None = None
        self.remote = remote
        self.sync_view = SyncView(configured=remote is not None, read_only=cache.read_only)
        # Screens and widgets subscribe to what concerns them (in on_mount); the app does not
        # need to know which screens are open, and one that is closed is no longer called.
        self.sync_status: Signal[SyncView] = Signal(self, "sync-status")
        self.sync_applied: Signal[SyncEffects | None] = Signal(self, "sync-applied")
        self.index_loaded: Signal[CustomerIndex] = Signal(self, "index-loaded")
        self.work = WorkQueue(config.author)
        self.queue_loaded: Signal[WorkQueue] = Signal(self, "queue-loaded")
        # The customers screen's table (ui/customers.py): read when the screen first opens,
        # never at start-up; with the search index it was read alongside (to tell it is old).
        self.customer_table: CustomerTable | None = None
        self.customer_table_index: object = None
        # The chart's facts of every customer (`H`), with the search index they were read
        # beside: a second `H` does not read 100,000 rows again.
        self.chart_facts: tuple[object, list[Facts]] | None = None
        self._reads = itertools.count(1)  # numbers the index and queue reads, in start order
        self._index_read_at = self._queue_read_at = 0
        self._engine: SyncEngine | None = None
        self._sync_lock = threading.Lock()
        self._sync_wanted = threading.Event()  # a sync was asked for and has not started yet
        self.set_keymap(config.keymap)
        if config.theme in self.available_themes:  # an unknown name: the default, not a crash
            self.theme = config.theme
        self._quit_keys = set((self._keymap.get(QUIT_ID) or "q").split(","))
        self.screen_pop: DeskScreenPop | None = None  # `agentdesk open` reaches the desk through it
        self._opening = Hold()  # the collector, while a profile opens (open_customer)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        # Later, not now: Textual holds every repaint while the app mounts, so a screen pushed
        # here would be drawn once for nothing and then again.
        self.call_later(self._open_first)
        if self.remote is not None and not self.cache.read_only:
            self.set_interval(self.config.sync_interval, self._sync_on_interval)
        if self.cache.read_only:  # until the other agentdesk lets go of the cache
            self._upgrade_timer = self.set_interval(UPGRADE_EVERY, self._try_upgrade)

    def _serve_screen_pop(self) -> None:
        """In a worker: the app's messages are not held while the socket is set up."""
        from agentdesk.ui.screen_pop_desk import DeskScreenPop

        self.screen_pop = DeskScreenPop(self)
        self.run_worker(self.screen_pop.start(), group="screen-pop")

    async def on_unmount(self) -> None:
        self._opening.release()
        self.kept_styles.keep()  # the styles of the screens opened since the first frame
        if self.screen_pop is not None:
            await self.screen_pop.close()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A read-only desk does not sync (the other agentdesk does): `r` is not offered."""
        return not (action == "sync" and self.cache.read_only)

    def _try_upgrade(self) -> None:
        """The other agentdesk closed: this one takes the cache over and can edit and sync."""
        from agentdesk.cache.files import CacheError

        try:
            if not self.cache.try_upgrade():
                return
        except CacheError as error:  # the other one left the cache in a state we cannot use
            self._upgrade_timer.stop()
            self.notify(f"The cache stays read-only: {error}", severity="warning", markup=False)
            return
        self._upgrade_timer.stop()
        self.refresh_bindings()
        self.set_sync_view(replace(self.sync_view, read_only=False))
        for screen in self.screen_stack:
            if isinstance(screen, ProfileScreen):
                screen.writable_now()
        self.notify("The other agentdesk closed: this desk can edit and sync now.", timeout=5)
        self.outbox_changed()
        if self.remote is not None:
            self.action_sync()
            self.set_interval(self.config.sync_interval, self._sync_on_interval)

    def _remember_theme(self, theme: Theme) -> None:
        if theme.name != self.config.theme:
            self.config.theme = theme.name
            self._save_theme(theme.name)

    @work(thread=True, exclusive=True, group="config")
    def _save_theme(self, name: str) -> None:
        """The theme chosen in the palette, kept in the config file for the next start."""
        from agentdesk.config import save_settings

        try:
            save_settings(self.config.path, theme=name)
        except (OSError, SystemExit) as error:  # a config file it cannot parse: say so
            self.call_from_thread(self.notify, f"The theme is not remembered: {error}",
                                  severity="warning", markup=False)

    def get_driver_class(self) -> type[Driver]:
        driver = super().get_driver_class()
        # The terminal's drivers hand keys over one by one (quitting.batching says why) and
        # write every style whole (lean_output says what that costs); the headless driver of
        # tests and benchmarks has no input thread and writes nothing.
        return driver if driver.__name__ == "HeadlessDriver" else batching(lean(driver))

    def post_message(self, message: Message) -> bool:
        # `q` is looked at as the terminal hands it over, not after the keys queued ahead of
        # it (quitting.py); then again when its turn comes, if a key ahead had to go first.
        if (isinstance(message, events.Key) and message.key in self._quit_keys
                and not message.is_forwarded and self._thread_id == threading.get_ident()):
            with self._context():
                if quits_now(self, message.key):
                    drop_waiting_input(self)
                    self.exit()
                    return True
        return super().post_message(message)

    async def on_event(self, event: events.Event) -> None:
        if (isinstance(event, events.Key) and event.key in self._quit_keys
                and not event.is_forwarded and quits_now(self, event.key)):
            await self.action_quit()
            return
        await super().on_event(event)

    async def action_quit(self) -> None:
        drop_waiting_input(self)
        self.exit()

    def _open_first(self) -> None:
        customer_id = self.start_customer or self.cache.start_customer_id()
        if customer_id is None:
            from agentdesk.ui.empty_screen import EmptyScreen

            self.push_screen(EmptyScreen(self.cache))
        else:
            self.open_customer(customer_id)
        # Asked of the screen just pushed, so it runs once that screen has painted (asked of
        # the app here in on_mount, it ran after the blank default screen's frame, and the
        # loads below slowed the profile's first paint).
        self.screen.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        """What the agent does not wait for, once the first screen is on the terminal."""
        resume_gc()
        self.kept_styles.keep()
        self.load_at_start()
        self._serve_screen_pop()
        if self.remote is not None and not self.cache.read_only:
            self.action_sync()

    @work(thread=True, group="start")
    def load_at_start(self) -> None:
        """The search index, then the queue, into memory: one after the other, not side by
        side, so their reading garbage is not alive at once (the peak memory)."""
        self._read_index()
        self._read_queue()

    @work(thread=True, exclusive=True, group="index")
    def load_index(self) -> None:
        """Read every index shard into memory again (the customers changed)."""
        self._read_index()

    def _read_index(self) -> None:
        from agentdesk.cache.search import CustomerIndex

        read = next(self._reads)
        with collector_eased():
            index = CustomerIndex(self.cache.index_rows())
        index.recent = self.cache.recent()
        self.call_from_thread(self._index_read, read, index)

    def _index_read(self, read: int, index: CustomerIndex) -> None:
        # Two reads can overlap (the first one and a sync's); the one begun last is the newest.
        if read > self._index_read_at:
            self._index_read_at = read
            self._index_loaded(index)

    def _index_loaded(self, index: CustomerIndex) -> None:
        self.index = index
        self.index_loaded.publish(index)

    def customer_name(self, customer_id: str) -> str | None:
        if self.index is not None and (row := self.index.get(customer_id)) is not None:
            return row.name
        return None

    def index_changed(self, profile: Profile) -> None:
        if self.index is not None:
            self.index.update(IndexRow.of(profile))
        self.customer_table_index = None  # the customers table is read again when next shown
        self.chart_facts = None  # and the chart's facts

    def related_to(self, customer_id: str) -> list[tuple[str, str, str]]:
        """The customers who list this one as related: (id, name, their label); none until
        the index has loaded (`index_loaded` then)."""
        if self.index is None:
            return []
        return [(row.id, row.name, label) for row, label in self.index.related_to(customer_id)]

    def open_customer(self, customer_id: str, *, conversation_id: str | None = None,
                      from_queue: bool = False) -> None:
        """Open a profile on top of the current one (Escape comes back), at the start of
        `conversation_id` if given. Working through the queue (`N`), the profile opened from
        the queue is replaced, not stacked: Escape goes back to where the agent came from."""
        held = self._opening.hold()  # no collection until the profile is on the terminal
        screen = ProfileScreen(self.cache, customer_id, conversation_id=conversation_id,
                               from_queue=from_queue)
        if from_queue and isinstance(self.screen, ProfileScreen) and self.screen.from_queue:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)
        if held:
            screen.call_after_refresh(self._opening.release)
            self.set_timer(1, self._opening.release)  # should it never be painted

    # -- the queue ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="queue")
    def load_queue(self) -> None:
        """The queue's rows into memory again (conversations changed)."""
        self._read_queue()

    def _read_queue(self) -> None:
        from agentdesk.ui.queue_order import in_order

        read = next(self._reads)
        me = self.cache.me() or self.config.author  # no store (yet): the config's name
        with collector_eased():
            rows = in_order(self.cache.queue_rows(), me)  # sorted here, not on the UI thread
        name = next((a.display_name for a in self.cache.agents() if a.name == me), "") or me
        self.call_from_thread(self._queue_read, read, rows, me, name)

    def _queue_read(self, read: int, rows: list, me: str, name: str) -> None:  # type: ignore[type-arg]
        if read > self._queue_read_at:  # as for the index: the newest read wins
            self._queue_read_at = read
            self._queue_loaded(rows, me, name)

    def _queue_loaded(self, rows: list, me: str, name: str) -> None:  # type: ignore[type-arg]
        self.work.set_rows(rows, me, name, in_queue_order=True)
        self.queue_loaded.publish(self.work)

    def action_queue(self) -> None:
        from agentdesk.ui.queue import QueueScreen  # screens load when first opened

        if not isinstance(self.screen, QueueScreen):
            self.push_screen(QueueScreen())

    def action_customer_chart(self) -> None:
        from agentdesk.ui.customer_chart_screen import CustomerChartScreen  # loaded when opened

        if not isinstance(self.screen, CustomerChartScreen):
            self.push_screen(CustomerChartScreen())

    def action_next_in_queue(self) -> None:
        """The conversation after the one worked on, in the queue as last filtered."""
        from agentdesk.ui import clock

        if self.work.rows is None:
            self.notify("The queue is still loading…", timeout=2)
            return
        row = self.work.next_row(clock.now())
        if row is None:
            self.notify("Nothing more in the queue (i shows it).", timeout=3)
            return
        self.work.working_on(row)
        self.open_customer(row.customer_id, conversation_id=row.conversation_id, from_queue=True)

    def viewed(self, customer_id: str) -> None:
        """A profile is on screen (opened, or come back to): first in "recently viewed", and
        where the desk opens next time."""
        # A file write (recent.json): after the frame, where the disk's pauses are not seen.
        self.call_after_refresh(self.cache.mark_viewed, customer_id)
        if self.index is not None:
            self.index.recent = [customer_id, *(c for c in self.index.recent if c != customer_id)]

    def action_customers(self) -> None:
        from agentdesk.ui.customers import CustomersScreen  # screens load when first opened

        # Opened from a profile found in the table: back to that table, not a second one.
        if not any(isinstance(screen, CustomersScreen) for screen in self.screen_stack):
            self.push_screen(CustomersScreen())
            return
        while not isinstance(self.screen, CustomersScreen):
            self.pop_screen()

    def action_search(self) -> None:
        from agentdesk.ui.search import SearchScreen  # screens load when first opened

        if not isinstance(self.screen, SearchScreen):
            self.push_screen(SearchScreen(self.index))

    def action_help(self) -> None:
        from agentdesk.ui.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

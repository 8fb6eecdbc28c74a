"""The reply composer (`R`): send, drafts, canned replies and placeholders, the pending mark;
a real app (Pilot) on a real cache."""

from __future__ import annotations

from test_ui_navigation import SIZE, wait_for

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model.records import AgentInfo, CannedReply
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.canned import CannedPicker
from agentdesk.ui.composer import UNKNOWN, ReplyArea, ReplyComposer, reply_key
from agentdesk.ui.conversation_actions import current_conversation
from agentdesk.ui.keybar import KeyBar
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.timeline import TimelineView

CUSTOMER = "cus_000001"
HOSTILE = "[bold]boom[/bold] \x1b]52;c;ZXZpbA==\x07 \x1b[31mred\x9b2J"


def replies_to(cache: Cache, conversation_id: str) -> list:  # type: ignore[type-arg]
    return [i.mutation for i in cache.outbox.items(CUSTOMER)
            if i.mutation.kind == "reply.add" and i.mutation.data.get("conversation_id") == conversation_id]


async def composer(app: AgentDesk, pilot) -> ReplyComposer:  # type: ignore[no-untyped-def]
    await pilot.press("R")
    await wait_for(lambda: isinstance(app.screen, ReplyComposer), pilot)
    await pilot.pause()
    return app.screen


def seed(cache: Cache) -> None:
    cache.save_agents([AgentInfo(name="sam", display_name="Sam Agent")], me="sam")
    cache.save_canned_replies([
        CannedReply(id="can_1", title="Refund done", body="Hi {customer.first_name},\nyour refund "
                    "is on its way. {agent.name}", tags=["billing"]),
        CannedReply(id="can_2", title="Typo", body="Dear {customer.nickname}, thanks!", tags=[]),
        CannedReply(id="can_3", title="Hostile", body=HOSTILE, tags=[]),
    ])


async def test_R_sends_a_reply_shown_at_once_as_pending(demo_cache: Cache, config: Config) -> None:
    seed(demo_cache)
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.work.rows is not None, pilot)
        profile = app.screen
        conversation = current_conversation(profile)
        assert conversation is not None
        form = await composer(app, pilot)
        assert conversation.topic[:10] in str(form.heading)
        await pilot.press(*"Thanks for", "enter", *"waiting.")
        await pilot.press("ctrl+s")
        await wait_for(lambda: app.screen is profile, pilot)
        sent = replies_to(demo_cache, conversation.id)
        assert len(sent) == 1 and sent[0].data["body"] == "Thanks for\nwaiting."
        assert sent[0].data["author"] == "sam"  # the agent as the store knows them
        view = profile.query_one(TimelineView)
        assert view.pending == {sent[0].target}
        # The newest entry is the reply, its first line marked until the store confirms it.
        lines = [view.render_line(y).text for y in range(1, view.size.height)]
        assert any("⧗ sending" in line for line in lines)
        assert any("waiting." in line for line in lines)
        assert demo_cache.drafts.get(reply_key(CUSTOMER, conversation.id)) is None


async def test_a_reply_draft_is_kept_through_esc(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        conversation = current_conversation(app.screen)
        await composer(app, pilot)
        await pilot.press(*"half a reply")
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
        kept = demo_cache.drafts.get(reply_key(CUSTOMER, conversation.id))
        assert kept is not None and kept["fields"]["text"] == "half a reply"
        assert not replies_to(demo_cache, conversation.id)
        form = await composer(app, pilot)
        assert form.query_one(ReplyArea).text == "half a reply"


async def test_canned_reply_fills_placeholders_and_refuses_an_unknown_one(
        demo_cache: Cache, config: Config) -> None:
    seed(demo_cache)
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.work.rows is not None, pilot)
        conversation = current_conversation(app.screen)
        first_name = app.screen.profile.customer.name.split()[0]
        form = await composer(app, pilot)
        await pilot.press("ctrl+t")
        await wait_for(lambda: isinstance(app.screen, CannedPicker), pilot)
        await pilot.press(*"refund")
        assert [r.id for r in app.screen.shown] == ["can_1"]
        await pilot.press("enter")
        await wait_for(lambda: app.screen is form, pilot)
        area = form.query_one(ReplyArea)
        assert area.text == f"Hi {first_name},\nyour refund is on its way. Sam Agent"
        # A template with a placeholder the desk does not know: highlighted, not sent.
        await pilot.press("ctrl+t")
        await wait_for(lambda: isinstance(app.screen, CannedPicker), pilot)
        await pilot.press(*"typo", "enter")
        await wait_for(lambda: app.screen is form, pilot)
        assert "{customer.nickname}" in area.text
        assert any(name == UNKNOWN for spans in area._highlights.values() for *_, name in spans)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form  # not sent
        assert "Not sent: no value for {customer.nickname}" in str(form.query_one("#reply-problem").render())
        assert not replies_to(demo_cache, conversation.id)
        # Fixed by hand: sent.
        text = area.text.replace("{customer.nickname}", first_name)
        area.text = text
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
        assert [m.data["body"] for m in replies_to(demo_cache, conversation.id)] == [text]


async def test_hostile_canned_text_is_inert_in_the_picker_and_the_composer(
        demo_cache: Cache, config: Config) -> None:
    seed(demo_cache)
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        form = await composer(app, pilot)
        await pilot.press("ctrl+t")
        await wait_for(lambda: isinstance(app.screen, CannedPicker), pilot)
        picker = app.screen
        await pilot.press(*"hostile")
        await pilot.pause()
        drawn = "".join(picker.query_one("#canned-list").render_line(y).text for y in range(4))
        assert "[bold]boom[/bold]" in drawn  # shown as typed, not as markup
        assert "\x1b" not in drawn and "\x9b" not in drawn and "\x07" not in drawn
        await pilot.press("enter")
        await wait_for(lambda: app.screen is form, pilot)
        text = form.query_one(ReplyArea).text
        assert "[bold]boom[/bold]" in text
        assert not any(c in text for c in "\x1b\x9b\x07")


async def test_a_hostile_customer_name_and_topic_are_inert_in_the_composer(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_hostile")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        form = await composer(app, pilot)
        title = form.query_one(".form-title").render()
        shown = str(title)
        assert "[bold red]Mallory[/]" in shown  # as typed, not styled
        assert not any(c in shown for c in "\x1b\x07\x9b")
        # The first name the placeholders give is inert too.
        assert not any(c in form.known["customer.first_name"] for c in "\x1b\x07\x9b")


async def test_after_a_reply_the_actions_act_on_its_conversation(demo_cache: Cache,
                                                                 config: Config) -> None:
    """The reply is marked at the end of the timeline; `s` then names its conversation, not
    the one that happens to be at the top of the screen."""
    from agentdesk.ui.conversation_actions import ChoiceScreen

    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = app.screen.query_one(TimelineView)
        view.action_top()  # the oldest conversation at the top, the reply goes to it
        await pilot.pause()
        conversation = current_conversation(app.screen)
        await composer(app, pilot)
        await pilot.press(*"Done.", "ctrl+s")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
        await pilot.pause()
        assert view.mark == view.total - 1
        assert current_conversation(app.screen).id == conversation.id
        await pilot.press("s")
        await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        assert conversation.topic in str(app.screen.title_text)


async def test_ctrl_n_makes_it_an_internal_note_unmistakably_and_the_draft_keeps_the_mode(
        demo_cache: Cache, config: Config) -> None:
    seed(demo_cache)
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.work.rows is not None, pilot)
        profile = app.screen
        conversation = current_conversation(profile)
        assert conversation is not None
        form = await composer(app, pilot)

        def shown() -> tuple[str, bool, str, str]:
            box = form.query_one("#composer")
            return (str(form.query_one("#composer-title").render()), box.has_class("-note"),
                    form.query_one(KeyBar).render().plain, str(form.query_one("#save").label))

        title, noted, keys, button = shown()
        assert not noted and title.startswith("Reply to") and "Send reply" in keys \
            and "Make it a note" in keys and "Add note" not in keys and button == "Send reply ^s"
        await pilot.press(*"half a note", "ctrl+n")
        await pilot.pause()
        title, noted, keys, button = shown()
        assert noted and title.startswith("Internal note on")
        assert "not sent to the customer" in title
        assert "Add note" in keys and "Make it a reply" in keys and "Send reply" not in keys
        assert button == "Add note ^s"
        border = form.query_one("#composer").styles.border.top
        assert border[0] == "heavy"  # (a reply's is round)
        await pilot.press("escape")  # the draft keeps the text and the mode
        await wait_for(lambda: app.screen is profile, pilot)
        kept = demo_cache.drafts.get(reply_key(CUSTOMER, conversation.id))
        assert kept is not None and kept["fields"] == {"text": "half a note", "note": True}
        form = await composer(app, pilot)
        assert shown()[1] and form.query_one(ReplyArea).text == "half a note"
        await pilot.press(*" [bold]x[/bold]", "ctrl+s")
        await wait_for(lambda: app.screen is profile, pilot)
        [note] = replies_to(demo_cache, conversation.id)
        assert (note.data["channel"], note.data["direction"], note.data["body"]) == \
            ("note", "internal", "half a note [bold]x[/bold]")
        assert profile.query_one(TimelineView).pending == {note.target}
        from agentdesk.ui.unsynced import describe

        [item] = demo_cache.outbox.items(CUSTOMER)
        assert "internal note added" in str(describe(item))  # not "reply sent"
        assert demo_cache.drafts.get(reply_key(CUSTOMER, conversation.id)) is None
        # Back to a reply: ctrl+n twice is a reply to the customer again.
        form = await composer(app, pilot)
        await pilot.press("ctrl+n", "ctrl+n")
        await pilot.pause()
        assert not shown()[1]
        await pilot.press(*"to the customer", "ctrl+s")
        await wait_for(lambda: app.screen is profile, pilot)
        assert [m.data["direction"] for m in replies_to(demo_cache, conversation.id)] == \
            ["internal", "outbound"]

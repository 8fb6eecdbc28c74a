"""The baseline of the start-up figure: a minimal Textual app (Header, Static, Footer).

`python benchmarks/minimal_app.py` in a terminal; the start-up benchmark times it from launch
until its text is on the screen, the same way it times the `agentdesk` command.
"""

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

TEXT = "Hello from a minimal Textual app."


class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(TEXT)
        yield Footer()


if __name__ == "__main__":
    Minimal().run()

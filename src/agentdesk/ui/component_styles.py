"""Component styles worked out when a widget draws with them, not each time it is restyled.

Textual matches every component class of a widget against the stylesheet (a virtual node per
class) each time it applies the widget's own styles: at mount, at each change of focus, when
the screen is shown. On the way to the desk's first frame the timeline (22 classes) is restyled
four times and the panel's lists (4 each) twice: 126 of the 130 component matchings, about a
seventh of the time from `App.run` to the frame. With this mixin first in its bases, a widget
works each one out on the first `get_component_styles` after a restyle: once per drawing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.style import Style
from textual.css.styles import RenderStyles
from textual.dom import DOMNode

if TYPE_CHECKING:
    from textual.widget import Widget

    _Base = Widget
else:
    _Base = object  # a mixin, not a CSS type: selectors do not see it


class StylesOnDemand(_Base):
    """Put first in a widget's bases; its COMPONENT_CLASSES are declared as usual."""

    @classmethod
    def _get_component_classes(cls) -> frozenset[str]:
        return frozenset()  # Textual's stylesheet leaves them to get_component_styles

    @classmethod
    def declared_components(cls) -> frozenset[str]:
        """The component classes of the widget and its bases, as Textual would gather them."""
        return super()._get_component_classes()

    def get_component_styles(self, *names: str) -> RenderStyles:
        known = self._component_styles
        for name in names:
            if name not in known and name in self.declared_components():
                node = DOMNode(classes=name)
                node._attach(self)
                self.app.stylesheet.apply(node)
                known[name] = node.styles
        return super().get_component_styles(*names)  # KeyError for an undeclared name

    def notify_style_update(self) -> None:
        # The widget's rules, focus, an ancestor's class or the theme changed: the components
        # are worked out again when next asked for (before a subclass's own reaction to it).
        self._component_styles.clear()
        super().notify_style_update()


class StylesByName(dict[str, Style]):
    """A widget's styles by name, each worked out when first drawn with: a frame uses a few of
    the timeline's 22 (a customer with no orders draws no order), and a list that is not
    focused draws no highlight."""

    def __init__(self, make: Callable[[str], Style]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, name: str) -> Style:
        style = self[name] = self._make(name)
        return style

"""A DataTable whose ``enter`` is shown in the footer as "Open" (it posts ``RowSelected``)."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable


class OpenTable(DataTable[Text]):
    """Row-cursor table; the screen handles ``DataTable.RowSelected`` to open the row."""

    BINDINGS = [Binding("enter", "select_cursor", "Open")]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id, classes=classes)

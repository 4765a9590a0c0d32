"""CSV and Excel import (表格导入): historical conversations exported from another system.

One row per message with the columns `conversation_id, speaker, text` and optionally
`timestamp, customer` (header aliases such as 会话ID, 角色, 内容, 时间, 客户 are data in the
`channels` pack). Rows are grouped into one thread per conversation id, in file order. A
customer value that looks like a phone number or an e-mail address becomes that hint; any
other value is an external customer id.

CSV must be UTF-8 (a BOM is fine) unless `encoding` says otherwise: a GB18030 export read as
UTF-8 is refused with AF031 instead of turning into mojibake. Excel files are `.xlsx` (the
first sheet is read).

CSV is read strictly (`csv_records`): a quote that is opened and never closed would otherwise
swallow every later row into one field, silently. The row where such a record starts is an error
that names its line, and reading goes on from the line after it.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
import zlib
from typing import Any, Iterable, Iterator
from xml.etree.ElementTree import ParseError

from .. import registry
from ..errors import AnfuError, InputError
from ..types import Utterance
from .base import ChannelAdapter, CustomerHints, Thread, clean_text, decode_text, pack, parse_time, speaker_of

REQUIRED = ("conversation_id", "speaker", "text")
OPTIONAL = ("timestamp", "customer")
MAX_ROWS = 200_000
_PHONE = re.compile(r"^\+?(86)?1[3-9]\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Tap:
    """The lines handed to a csv reader since the current record began."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.taken: list[str] = []

    def __iter__(self) -> "_Tap":
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.taken.append(line)
        return line


def csv_records(lines: Iterable[str], dialect: Any = csv.excel) -> Iterator[tuple[int, list[str] | InputError]]:
    """(line number, cells) for each CSV record, or (line number, AF030) for a line where the CSV
    is broken — a quote opened and never closed, text after a closing quote. The broken record's
    first line is given up and reading starts again on the line after it, so one stray `"` costs
    one row, not the rest of the file."""
    pending: Iterator[str] = iter(lines)
    line = 1  # the physical line where the next record starts
    while True:
        tap = _Tap(pending)
        reader = csv.reader(tap, dialect, strict=True)
        while True:
            tap.taken = []
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                reason = "a quote opened here is never closed" if "end of data" in str(exc) else str(exc)
                yield line, InputError("AF030", f"line {line}: {reason} (close or remove the quote)", channel="CSV")
                pending = itertools.chain(tap.taken[1:], tap.lines)
                line += 1
                break
            yield line, cells
            line += max(1, len(tap.taken))


def _norm_header(value: Any) -> str:
    return re.sub(r"[\s_\-]+", "", str(value or "")).lower()


def map_columns(header: list[Any]) -> dict[str, int]:
    """Column name → index, using the aliases of the pack; AF033 when a required one is missing."""
    aliases = {field: {_norm_header(a) for a in names} for field, names in pack()["columns"].items()}
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = _norm_header(cell)
        for field, names in aliases.items():
            if key in names and field not in found:
                found[field] = index
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        raise InputError("AF033", ", ".join(missing))
    return found


def customer_from(value: Any) -> CustomerHints:
    if value is None or str(value).strip() == "":
        return CustomerHints()
    raw = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        raw = str(int(value))
    compact = re.sub(r"[\s\-]", "", raw)
    if _PHONE.match(compact):
        return CustomerHints(phone=compact[-11:])
    if _EMAIL.match(raw):
        return CustomerHints(email=raw.lower())
    return CustomerHints(external_id=raw)


def rows_to_threads(header: list[Any], rows: Iterable[list[Any]], channel: str, first_row: int = 2,
                    fill_down: bool = False) -> list[Thread]:
    """Threads of a table's rows, grouped by conversation id. `fill_down` (Excel): an empty id
    continues the conversation of the row above (a 会话ID cell merged over its rows)."""
    cols = map_columns(header)
    last = ""
    order: list[str] = []
    turns: dict[str, list[Utterance]] = {}
    customers: dict[str, CustomerHints] = {}
    for n, row in enumerate(rows, start=first_row):
        if n - first_row >= MAX_ROWS:
            raise InputError("AF032", f"row {n}: more than {MAX_ROWS} rows; split the file")
        cells = list(row)
        if not any(c is not None and str(c).strip() for c in cells):
            continue

        def cell(field: str) -> Any:
            index = cols.get(field)
            return cells[index] if index is not None and index < len(cells) else None

        conv = cell("conversation_id")
        if (conv is None or str(conv).strip() == "") and fill_down and last:
            conv = last
        if conv is None or str(conv).strip() == "":
            raise InputError("AF032", f"row {n}: conversation_id is empty")
        key = str(int(conv)) if isinstance(conv, float) and conv.is_integer() else str(conv).strip()
        last = key
        text = clean_text(cell("text") if isinstance(cell("text"), str) else
                          (None if cell("text") is None else str(cell("text"))))
        if not text:
            raise InputError("AF032", f"row {n}: text is empty")
        utterance = Utterance(text=text, speaker=speaker_of(cell("speaker"), f"row {n}"),  # type: ignore[arg-type]
                              id=f"{key}#{n}", timestamp=parse_time(cell("timestamp"), f"row {n} timestamp"),
                              channel=channel)
        if key not in turns:
            order.append(key)
            turns[key] = []
        turns[key].append(utterance)
        hints = customer_from(cell("customer"))
        if not hints.is_empty() and customers.get(key, CustomerHints()).is_empty():
            customers[key] = hints
    if not order:
        raise InputError("AF035", "the import file")
    return [Thread(channel=channel, utterances=tuple(turns[k]), key=k, customer=customers.get(k, CustomerHints()))
            for k in order]


@registry.channels.register("csv.v1")
class CsvImport(ChannelAdapter):
    channel = "import"

    def read(self, payload: Any, encoding: str = "utf-8") -> list[Thread]:
        text = decode_text(payload, encoding, source="the CSV file")
        sample = text[:4096]
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
        rows = []
        for _, cells in csv_records(io.StringIO(text, newline=""), dialect):
            if isinstance(cells, InputError):  # an upload is stored whole or not at all
                raise cells
            rows.append(cells)
        if not rows:
            raise InputError("AF035", "the CSV file")
        return rows_to_threads(rows[0], rows[1:], self.channel)


# what reading a workbook's rows raises when a part of it is damaged (openpyxl parses a sheet's
# XML lazily, as its rows are read, so `load_workbook` succeeding proves little)
DAMAGED_XLSX: tuple[type[BaseException], ...] = (ParseError, zipfile.BadZipFile, zlib.error, EOFError, KeyError,
                                                 ValueError, TypeError, OSError)


@registry.channels.register("xlsx.v1")
class ExcelImport(ChannelAdapter):
    channel = "import"

    def read(self, payload: Any) -> list[Thread]:
        import openpyxl

        if not isinstance(payload, (bytes, bytearray)) or not payload:
            raise InputError("AF035", "the Excel file")
        try:
            book = openpyxl.load_workbook(io.BytesIO(bytes(payload)), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
            raise InputError("AF030", f"not a readable .xlsx workbook ({type(exc).__name__})",
                             channel="Excel") from None
        try:
            sheet = book.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                raise InputError("AF035", "the Excel file")
            return rows_to_threads(list(header), (list(r) for r in rows), self.channel, fill_down=True)
        except AnfuError:
            raise  # a coded refusal of the content (InputError is a ValueError too)
        except DAMAGED_XLSX as exc:
            raise InputError("AF030", f"the workbook is damaged ({type(exc).__name__}); open it in Excel and "
                                      "save it again", channel="Excel") from None
        finally:
            book.close()

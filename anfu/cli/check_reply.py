"""`anfu check-reply`: pre-send check of agent replies, JSON Lines in and out.

Input lines are {"id", "text", "context"?}; each output line is
{"id", "violation", "findings": [{"rule_id", "category", "start", "end", "message"}], "rewrite"}.
A bad line becomes {"id", "error": {"code", "message"}} and the run goes on.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Iterator, Optional

import typer

from ..errors import AnfuError, InputError
from ..intake import error_record, json_lines, line_error, line_id, record_id
from . import app
from .common import dumps_line, fail, open_input, open_output


def read_replies(stream: BinaryIO) -> Iterator[tuple[str | None, Any]]:
    """Yield (id, record dict or AnfuError) for each non-blank line."""
    for _, obj in json_lines(stream):
        bad = line_error(obj)
        if bad is not None:
            yield bad
            continue
        if not isinstance(obj, dict):
            yield None, InputError("AF009", type(obj).__name__)
            continue
        rid = line_id(obj)
        try:
            record_id(obj.get("id"))
        except InputError as exc:
            yield rid, exc
            continue
        if "text" not in obj:
            yield rid, InputError("AF002", sorted(obj)[:8])
            continue
        yield rid, obj


@app.command("check-reply")
def check_reply_command(
    input: str = typer.Argument("-", help="JSON Lines of agent replies {\"id\", \"text\", \"context\"?}, or - for standard input."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write results here (default: standard output)."),
    rules_dir: Optional[str] = typer.Option(None, "--rules", help="Folder of rule packs (default: the shipped zh_CN packs)."),
) -> None:
    """Check agent replies before they are sent: forbidden phrases (服务忌语), why, and a compliant rewrite.

    The optional "context" object ({"cause", "emotion", "customer_text", "what", "when", "agent"})
    fills the rewrite, e.g. {"what": "电费明细", "when": "30分钟内"}.
    """
    from ..qa import default_checker

    try:
        checker = default_checker(rules_dir=rules_dir)
    except AnfuError as exc:
        raise fail(exc) from None
    with open_input(input) as (stream, _), open_output(output) as out:
        for lineno, (rid, record) in enumerate(read_replies(stream), start=1):
            if isinstance(record, AnfuError):
                result = error_record(rid, record)
            else:
                try:
                    result = {"id": rid, **checker.check(record["text"], record.get("context")).to_dict()}
                except AnfuError as exc:
                    result = error_record(rid, exc)
                except Exception as exc:  # one line's bug must not lose the other lines' results
                    result = error_record(rid, InputError("AF015", lineno, reason=type(exc).__name__))
            out.write(dumps_line(result))
            out.flush()

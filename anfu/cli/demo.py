"""`anfu demo`: analyse the bundled demo conversations and print a readable zh-CN report."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from ..glossary import CAUSE_NAMES, EMOTION_NAMES, display
from ..types import Assessment
from . import app

_COLOURS = {"neutral": "white", "satisfied": "green", "anxious": "yellow", "doubtful": "cyan",
            "disappointed": "blue", "dissatisfied": "dark_orange", "angry": "red"}
_TREND = {"rising": "上升", "falling": "下降", "flat": "平稳"}


def render(assessment: Assessment, console: Console) -> None:
    conv = assessment.conversation
    table = Table(show_header=True, header_style="bold", expand=True)
    table.add_column("#", width=3)
    table.add_column("角色", width=4)
    table.add_column("内容", ratio=3)
    table.add_column("识别结果", ratio=2)
    for i, (turn, source) in enumerate(zip(assessment.turns, conv.turns), start=1):
        if turn.speaker == "customer":
            colour = _COLOURS.get(turn.emotion or "", "white")
            bar = "█" * (turn.intensity or 0) + "░" * (4 - (turn.intensity or 0))
            parts = [f"[{colour}]{display(turn.emotion or '-', EMOTION_NAMES)}[/{colour}] {bar}"]
            if turn.cause:
                parts.append(f"原因：{display(turn.cause, CAUSE_NAMES)}")
            if turn.escalation_risk:
                parts.append("[red]升级风险[/red]")
            if turn.abusive:
                parts.append("[magenta]辱骂[/magenta]")
            cues = "、".join(dict.fromkeys(t.text for t in turn.triggers if t.kind != "negation"))
            if cues:
                parts.append(f"触发：{cues}")
            table.add_row(str(i), "客户", source.text, "\n".join(parts))
        else:
            result = "[green]合规[/green]"
            if turn.violation:
                result = "[red]服务忌语[/red]：" + "；".join(f.message for f in turn.findings)
                if turn.rewrite:
                    result += f"\n[green]建议改写[/green]：{turn.rewrite}"
            elif turn.violation is None:
                result = ""
            table.add_row(str(i), "坐席", source.text, result)
    console.print(Panel(table, title=f"会话 {conv.id}（{conv.industry or '通用'}）", title_align="left"))
    lines = []
    if assessment.trajectory:
        tr = assessment.trajectory
        lines.append(f"情绪轨迹：开始 {tr.start} → 峰值 {tr.peak} → 结束 {tr.end}（{_TREND[tr.trend]}）"
                     f"　安抚成功：{'是' if assessment.calmed else '否'}")
    if assessment.persona:
        p = assessment.persona
        lines.append(f"客户类型：{p.type}（置信度 {p.confidence:.2f}）")
    if assessment.negative_energy and assessment.negative_energy.flag:
        kinds = "、".join(dict.fromkeys(s.type for s in assessment.negative_energy.signals))
        lines.append(f"[red]负能量客户[/red]：{kinds}")
    if assessment.sop_stage:
        nxt = "、".join(assessment.next_actions or [])
        lines.append(f"投诉处理阶段：{assessment.sop_stage}　下一步：{nxt}")
    if assessment.escalation:
        e = assessment.escalation
        reasons = "；".join(e.reasons) if e.reasons else "无"
        lines.append(f"升级级别：L{e.level}　原因：{reasons}")
    if assessment.quality_score is not None:
        lines.append(f"服务质量评分：{assessment.quality_score}/100")
    for s in assessment.suggestions or []:
        lines.append(f"建议话术（{s.method}）：{s.text}")
    for line in lines:
        console.print("  " + line)
    console.print()


@app.command()
def demo() -> None:
    """Analyse the bundled demo conversations and print a readable report (zh-CN)."""
    from .. import load
    from ..demo import demo_conversations

    console = Console()
    analyzer = load()
    console.print("[bold]安抚 Anfu 演示：客户情绪识别 → 理解 → 调节 → 引导[/bold]\n")
    for assessment in analyzer.pipe(demo_conversations()):
        render(assessment, console)
    raise typer.Exit(code=0)

"""Labelling batches for real STC-3 dialogues, and the conversion of people's labels to corpus rows.

The texts are third-party (STC-3, CC BY 4.0 annotations, Weibo texts): batches are written
*outside* the repository; only labels keyed by dialogue id, turn and a text hash come back in.

    python scripts/label_batches.py make OUTDIR [--per-batch 185]
    python scripts/label_batches.py second OUTDIR [--customer 600 --helpdesk 300 --seed 9]
    python scripts/label_batches.py collect TSV... --customer OUT.jsonl --helpdesk OUT.jsonl
    python scripts/label_batches.py texts {reviews,smp} OUTDIR [--n 12000 --per-batch 1000]
    python scripts/label_batches.py collect-texts {reviews,smp} TSV... --out OUT.jsonl

Single texts (product reviews, SMP2020 Weibo posts) are listed one per line as `<id> text` and
labelled as `<id> <emotion> <intensity> <escalation_risk 0|1> <abusive 0|1> <cause>`.

A batch lists dialogues as

    ## 0123 (dialogue 3830401296796826)
    0123.0 C: customer text
    0123.1 H: helpdesk text

and the labeller writes one line per turn key (see corpus/LABELS.md, "Real dialogues"):

    0123.0 c angry 3 1 0 billing      # emotion intensity escalation_risk abusive cause
    0123.1 h dismissing               # or: h ok
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from anfu.glossary import EMOTIONS  # noqa: E402
from anfu.training.data import public_data_dir  # noqa: E402

CAUSES = ("billing", "outage", "delay", "quality", "attitude", "refund", "repair", "installation",
          "delivery", "account", "fraud_security", "policy", "other")
REPLY_CATEGORIES = ("flat_denial", "price_excuse", "self_defence", "belittling", "policy_wall",
                    "empty_promise", "ignorance", "buck_passing", "bare_refusal", "blaming",
                    "dismissing", "impatience")


def dialogues() -> list[dict]:
    return json.loads((public_data_dir() / "stc3" / "train_data_cn.json").read_text(encoding="utf-8"))


def turn_text(turn: dict) -> str:
    return " ".join(turn.get("utterances", []))


def sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def render(index: int, dialogue: dict, keys: set[str] | None = None) -> list[str]:
    """One dialogue as batch lines; with `keys`, turns outside it are context only (no key)."""
    lines = [f"## {index:04d} (dialogue {dialogue['id']})"]
    for t, turn in enumerate(dialogue["turns"]):
        who = "C" if turn["sender"] == "customer" else "H"
        key = f"{index:04d}.{t}"
        text = turn_text(turn).replace("\n", " ")
        if keys is not None and key not in keys:
            lines.append(f"   ({who}: {text})")
        else:
            lines.append(f"{key} {who}: {text}")
    return lines


def cmd_make(args: argparse.Namespace) -> None:
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    data = dialogues()
    for b in range(0, len(data), args.per_batch):
        lines: list[str] = []
        for i in range(b, min(b + args.per_batch, len(data))):
            lines += render(i, data[i]) + [""]
        (out / f"batch_{b // args.per_batch:02d}.txt").write_text("\n".join(lines), encoding="utf-8")
    print(f"{(len(data) + args.per_batch - 1) // args.per_batch} batches in {out}")


def cmd_second(args: argparse.Namespace) -> None:
    """A random sample of turns for the independent second pass (its own batch file)."""
    data = dialogues()
    rng = random.Random(args.seed)
    cust = [(i, t) for i, d in enumerate(data) for t, x in enumerate(d["turns"]) if x["sender"] == "customer"]
    help_ = [(i, t) for i, d in enumerate(data) for t, x in enumerate(d["turns"]) if x["sender"] == "helpdesk"]
    picked = rng.sample(cust, args.customer) + rng.sample(help_, args.helpdesk)
    keys = {f"{i:04d}.{t}" for i, t in picked}
    lines: list[str] = []
    for i in sorted({i for i, _ in picked}):
        lines += render(i, data[i], keys) + [""]
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "second_pass.txt").write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(keys)} turns in {out / 'second_pass.txt'}")


def parse_line(line: str, data: list[dict]) -> tuple[str, dict] | None:
    """('customer'|'helpdesk', label row) for one labeller line; ValueError when malformed."""
    line = line.split("#", 1)[0].strip()
    if not line:
        return None
    parts = line.split()
    idx, _, t = parts[0].partition(".")
    dialogue = data[int(idx)]
    turn_no = int(t)
    turn = dialogue["turns"][turn_no]
    base = {"dialogue_id": dialogue["id"], "turn": turn_no, "sha1": sha(turn_text(turn))}
    kind = parts[1].lower()
    if kind == "c":
        if turn["sender"] != "customer":
            raise ValueError(f"{parts[0]} is a helpdesk turn")
        emotion, intensity, risk, abusive, cause = parts[2:7]
        if emotion not in EMOTIONS or cause not in CAUSES or intensity not in "01234" or len(intensity) != 1:
            raise ValueError(f"bad customer label: {line}")
        return "customer", {**base, "emotion": emotion, "intensity": int(intensity),
                            "escalation_risk": risk == "1", "abusive": abusive == "1", "cause": cause}
    if kind == "h":
        if turn["sender"] != "helpdesk":
            raise ValueError(f"{parts[0]} is a customer turn")
        category = parts[2]
        if category != "ok" and category not in REPLY_CATEGORIES:
            raise ValueError(f"bad helpdesk label: {line}")
        return "helpdesk", {**base, "violation": category != "ok",
                            "category": None if category == "ok" else category}
    raise ValueError(f"second field must be c or h: {line}")


def cmd_collect(args: argparse.Namespace) -> None:
    data = dialogues()
    rows: dict[str, dict[tuple[str, int], dict]] = {"customer": {}, "helpdesk": {}}
    bad = 0
    for path in args.tsv:
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            try:
                parsed = parse_line(line, data)
            except (ValueError, IndexError) as exc:
                bad += 1
                print(f"{path}:{number}: {exc}", file=sys.stderr)
                continue
            if parsed:
                kind, row = parsed
                rows[kind][(row["dialogue_id"], row["turn"])] = row
    for kind, target in (("customer", args.customer), ("helpdesk", args.helpdesk)):
        if not target:
            continue
        ordered = sorted(rows[kind].values(), key=lambda r: (r["dialogue_id"], r["turn"]))
        Path(target).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ordered),
                                encoding="utf-8")
        print(f"{len(ordered)} {kind} rows -> {target}")
    print(f"{bad} malformed lines")


def single_texts(kind: str) -> list[tuple[str, str]]:
    """(id, text) of every review or SMP2020 virus post, ids as anfu.training.data names them."""
    from anfu.training.data import SMP_TRAIN_FILES, _smp_texts, load_reviews

    if kind == "reviews":
        return [(rid, text) for rid, text, _ in load_reviews()]
    return list(_smp_texts(SMP_TRAIN_FILES, None).items())


def cmd_texts(args: argparse.Namespace) -> None:
    rows = single_texts(args.kind)
    if args.kind == "reviews":  # a fixed random sample of the shorter reviews, both polarities
        rows = [r for r in rows if len(r[1]) <= 150]
        rows = random.Random(17).sample(rows, min(args.n, len(rows)))
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    for b in range(0, len(rows), args.per_batch):
        lines = [f"{rid} {text.replace(chr(10), ' ')}" for rid, text in rows[b:b + args.per_batch]]
        (out / f"{args.kind}_{b // args.per_batch:02d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(rows)} texts in {(len(rows) + args.per_batch - 1) // args.per_batch} batches in {out}")


def cmd_collect_texts(args: argparse.Namespace) -> None:
    texts = dict(single_texts(args.kind))
    rows: dict[str, dict] = {}
    bad = 0
    for path in args.tsv:
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            try:
                rid, emotion, intensity, risk, abusive, cause = parts[:6]
                if rid not in texts or emotion not in EMOTIONS or cause not in CAUSES or intensity not in \
                        ("0", "1", "2", "3", "4") or risk not in ("0", "1") or abusive not in ("0", "1"):
                    raise ValueError(line)
            except ValueError:
                bad += 1
                print(f"{path}:{number}: bad label line: {line}", file=sys.stderr)
                continue
            rows[rid] = {"id": rid, "sha1": sha(texts[rid]), "emotion": emotion, "intensity": int(intensity),
                         "escalation_risk": risk == "1", "abusive": abusive == "1", "cause": cause}
    ordered = sorted(rows.values(), key=lambda r: r["id"])
    Path(args.out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ordered), encoding="utf-8")
    print(f"{len(ordered)} rows -> {args.out}; {bad} malformed lines")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("outdir")
    m.add_argument("--per-batch", type=int, default=185)
    s = sub.add_parser("second")
    s.add_argument("outdir")
    s.add_argument("--customer", type=int, default=600)
    s.add_argument("--helpdesk", type=int, default=300)
    s.add_argument("--seed", type=int, default=9)
    c = sub.add_parser("collect")
    c.add_argument("tsv", nargs="+")
    c.add_argument("--customer")
    c.add_argument("--helpdesk")
    t = sub.add_parser("texts")
    t.add_argument("kind", choices=("reviews", "smp"))
    t.add_argument("outdir")
    t.add_argument("--n", type=int, default=12000)
    t.add_argument("--per-batch", type=int, default=1000)
    ct = sub.add_parser("collect-texts")
    ct.add_argument("kind", choices=("reviews", "smp"))
    ct.add_argument("tsv", nargs="+")
    ct.add_argument("--out", required=True)
    args = p.parse_args()
    {"make": cmd_make, "second": cmd_second, "collect": cmd_collect, "texts": cmd_texts,
     "collect-texts": cmd_collect_texts}[args.cmd](args)


if __name__ == "__main__":
    main()

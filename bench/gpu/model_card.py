"""Write a shipped model's MODEL_CARD.md from its artifact and `facesweep evaluate --json` outputs.

facesweep evaluate --model pretrained:emotion --data ../shared/data/fer2013/val --json > eval.json
facesweep evaluate --model pretrained:emotion --data ../shared/data/fer2013/val --no-tta --json > eval-notta.json
python bench/gpu/model_card.py emotion eval.json eval-notta.json card-notes.md [appendix.md]
python bench/gpu/model_card.py gender eval.json eval-other.json bench/gpu/cards/gender.md \
    bench/gpu/cards/gender-real-faces.md --groups after-groups.json --groups-before before-groups.json

The notes open the card; the optional appendix (bench/gpu/cards/*-real-faces.md) closes it. ``--groups`` (an
``evaluate --groups-from-name ... --json`` output of this model) adds the group audit: per group n, accuracy and
per-class recall with bootstrap intervals, beside the same audit of the model it replaced (``--groups-before``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

PRETRAINED = Path(__file__).resolve().parents[2] / "facesweep" / "pretrained"


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def row(result: dict, label: str) -> str:
    tta = "on" if result["tta"] else "off"
    return f"| TTA {tta}{label} | {result['accuracy']:.4f} | {result['macro_f1']:.4f} | {result['loss']:.4f} |"


def last_epoch(meta: dict, last: dict) -> str:
    """The training log's last line, said of the run it came from (a weight mix has no epochs of its own)."""
    scores = (f"train loss {last['train_loss']:.3f}, val accuracy {last['val_accuracy']:.4f}, val macro-F1 "
              f"{last['val_macro_f1']:.4f} (no TTA)")  # fmt: skip
    alpha = meta.get("extra", {}).get("alpha")
    if alpha is None:
        return f"Last training epoch ({last['epoch']}) as logged on the GPU: {scores}."
    return (f"The fine-tune's last epoch ({last['epoch']}), before the mix (alpha {alpha:g}), on its own validation "
            f"set: {scores}.")  # fmt: skip


ATTRIBUTE_TITLES = {"age": "age band", "race": "race code"}


def recall_cell(group: dict | None, cls: str) -> str:
    if group is None or cls not in group["recall"]:
        return "-"
    r = group["recall"][cls]
    return f"{r['recall']:.3f} [{r['ci'][0]:.2f}, {r['ci'][1]:.2f}]"


def group_audit(after: dict, before: dict | None) -> str:
    """The audit of ``after`` (an ``evaluate --json`` with ``groups``), each group beside ``before``'s."""
    audit = after["groups"]
    old_attributes = before["groups"]["attributes"] if before else []
    old = {a["name"]: {g["value"]: g for g in a["groups"]} for a in old_attributes}
    classes = after["classes"]
    how = " through the crop path (`--detect`)" if after.get("faces") else " (dataset crops)"
    parts = [f"Split: **{after['data']}** [{after['split']}]{how}, n = {after['n']:,}, groups from {audit['source']}; "
             f"intervals: {audit['confidence']:.0%} percentile bootstrap ({audit['n_boot']:,} resamples, seed "
             f"{audit['seed']}). Overall accuracy **{after['accuracy']:.4f}**"
             + (f" (was {before['accuracy']:.4f})." if before else ".")]  # fmt: skip
    for attribute in audit["attributes"]:
        rows = []
        for g in attribute["groups"]:
            b = old.get(attribute["name"], {}).get(g["value"])
            cells = [g["value"], str(g["n"]), f"{g['accuracy']:.3f}" + (f" (was {b['accuracy']:.3f})" if b else "")]
            for cls in classes:
                cells.append(recall_cell(g, cls) + (f" (was {recall_cell(b, cls)})" if b else ""))
            rows.append(cells)
        title = ATTRIBUTE_TITLES.get(attribute["name"], attribute["name"])
        parts.append(table(rows, [title, "n", "accuracy", *(f"{c} recall [95% CI]" for c in classes)]))
    return "\n\n".join(parts)


def main(name: str, primary: Path, other: Path, notes: Path, appendix: Path | None = None,
         groups: Path | None = None, groups_before: Path | None = None) -> None:  # fmt: skip
    folder = PRETRAINED / name
    meta = json.loads((folder / "config.json").read_text())
    history = json.loads((folder / "metrics.json").read_text())
    main_eval, alt_eval = json.loads(primary.read_text()), json.loads(other.read_text())
    cfg = meta["config"]
    classes = main_eval["classes"]
    per_class = table(
        [
            [c["name"], f"{c['precision']:.3f}", f"{c['recall']:.3f}", f"{c['f1']:.3f}", str(c["support"])]
            for c in main_eval["per_class"]
        ],
        ["class", "precision", "recall", "F1", "support"],
    )
    confusion = table(
        [[classes[i], *map(str, row)] for i, row in enumerate(main_eval["confusion_matrix"])],
        ["true \\ predicted", *classes],
    )
    last = history[-1]
    size = (folder / "params.msgpack").stat().st_size / 1e6
    text = f"""# facesweep pretrained model: `{name}`

{notes.read_text().strip()}

## Architecture and training config
`config.json` holds the full config (the model is rebuilt from it); the essentials:
depth {cfg["depth"]} conv blocks x {cfg["convs_per_block"]} convs, widths from {cfg["width"]} (x{cfg["growth"]:g}, cap
{cfg["max_width"]}), dense {cfg["dense"]}, dropout {cfg["conv_dropout"]} / {cfg["dropout"]}; input
{cfg["image_size"]}x{cfg["image_size"]}x{cfg["channels"]}; {cfg["epochs"]} epochs, batch {cfg["batch_size"]}, AdamW lr
{cfg["learning_rate"]} (cosine, 1 warm-up epoch), weight decay {cfg["weight_decay"]}, label smoothing
{cfg["label_smoothing"]}, on-device augmentation {"on" if cfg["augment"] else "off"}, seed {cfg["seed"]}.
Weights stored as {meta.get("dtype", "float32")} ({size:.1f} MB), restored to float32 on load.
Inference default: horizontal-flip test-time augmentation **{"on" if meta.get("inference", {}).get("tta") else "off"}**
(`--tta` / `--no-tta` override it).

## Validation metrics (measured on this repository's CPU machine, original image files)
Split: **{main_eval["data"]}** [{main_eval["split"]}], n = {main_eval["n"]:,}. These are validation numbers: the
split also picked the training recipe. The withheld test data (FER-2013 PrivateTest / part of the gender set) was
never seen.

| inference | accuracy | macro-F1 | log-loss |
|---|---|---|---|
{row(main_eval, " (default)")}
{row(alt_eval, "")}

{last_epoch(meta, last)}

### Per class (default inference)
{per_class}

### Confusion matrix (rows true, columns predicted)
{confusion}
"""
    if groups is not None:
        before = json.loads(groups_before.read_text()) if groups_before else None
        text += "\n## Group audit (per age band and race code)\n" + group_audit(json.loads(groups.read_text()), before)
        text += "\n"
    if appendix is not None:
        text += "\n" + appendix.read_text().strip() + "\n"
    (folder / "MODEL_CARD.md").write_text(text)
    print(f"wrote {folder / 'MODEL_CARD.md'}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", choices=sorted(p.name for p in PRETRAINED.iterdir() if p.is_dir()))
    ap.add_argument("primary", type=Path, help="evaluate --json of the default inference")
    ap.add_argument("other", type=Path, help="evaluate --json of the other TTA setting")
    ap.add_argument("notes", type=Path, help="Markdown that opens the card")
    ap.add_argument("appendix", type=Path, nargs="?", help="Markdown that closes the card")
    ap.add_argument("--groups", type=Path, help="evaluate --groups-from-name --json of this model: the group audit")
    ap.add_argument("--groups-before", type=Path, help="the same audit of the model this one replaced")
    args = ap.parse_args()
    if args.groups_before and not args.groups:
        ap.error("--groups-before needs --groups")
    main(args.name, args.primary, args.other, args.notes, args.appendix, args.groups, args.groups_before)

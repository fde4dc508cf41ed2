"""Write a shipped model's MODEL_CARD.md from its artifact and `facesweep evaluate --json` outputs.

facesweep evaluate --model pretrained:emotion --data ../shared/data/fer2013/val --json > eval.json
facesweep evaluate --model pretrained:emotion --data ../shared/data/fer2013/val --no-tta --json > eval-notta.json
python bench/gpu/model_card.py emotion eval.json eval-notta.json card-notes.md [appendix.md]

The notes open the card; the optional appendix (bench/gpu/cards/*-real-faces.md) closes it.
"""

from __future__ import annotations

import json
import sys
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


def main(name: str, primary: Path, other: Path, notes: Path, appendix: Path | None = None) -> None:
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
    if appendix is not None:
        text += "\n" + appendix.read_text().strip() + "\n"
    (folder / "MODEL_CARD.md").write_text(text)
    print(f"wrote {folder / 'MODEL_CARD.md'}")


if __name__ == "__main__":
    if len(sys.argv) not in (5, 6):
        raise SystemExit("usage: model_card.py NAME EVAL.json OTHER-EVAL.json NOTES.md [APPENDIX.md]")
    main(sys.argv[1], *map(Path, sys.argv[2:]))

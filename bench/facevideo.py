"""A test video of real faces the models never trained on, and a scorer for detection + crop + model on it.

    python bench/facevideo.py make --task gender --out /tmp/gender-val.avi        # + /tmp/gender-val.avi.json
    python bench/facevideo.py score /tmp/gender-val.avi --model pretrained:gender  # yunet and haar, side by side
    python bench/facevideo.py make --task emotion --out /tmp/fer-val.avi
    python bench/facevideo.py score /tmp/fer-val.avi --model pretrained:emotion
    python bench/facevideo.py make --task gender --out /tmp/swap.avi --faces 4 --hold 10 --fps 15 --in-place
    facesweep live --source /tmp/swap.avi --jsonl > /tmp/swap.jsonl
    python bench/facevideo.py score-live /tmp/swap.avi /tmp/swap.jsonl        # faces found, labels right

``make`` pastes the validation split's images (the seeded split ``load_dataset`` makes: gender/ -> 20% per class,
seed 0; fer2013/val for emotion) onto a textured background that pans slowly, 2-4 faces a frame at 70-140 px
wide (FER-2013's 48x48 crops upscaled to about 100 px), each group held for ``--hold`` frames and drifting with
the background. 640x480 Motion-JPEG ``.avi``; the ground truth (each pasted image's box, label and file) goes in
a JSON sidecar. Never commit the video. ``--faces N`` puts exactly N faces in each group; ``--in-place`` keeps the
group's places (centre and width) for the whole video, so every ``--hold`` frames other people step into the
same boxes -- a kiosk or a doorway, where IoU tracking alone would hand one person's id and labels to the next.

``score-live VIDEO JSONL`` scores what ``facesweep live --jsonl`` wrote for the video: per frame, the live boxes
matched to the truth (IoU >= 0.4): faces found, and the share of found faces whose label (the video's task) is
right.

``score`` runs each detector on every frame (the live defaults: YuNet on a 320-wide copy, min face 32; Haar on a
240-wide copy, min face 64), matches detections to the pasted boxes (greedy, IoU >= 0.4), crops every matched
face through the model's crop path (``FaceCropper.crop_detections`` with the model's stored template) and
reports detection recall, false positives per frame and the accuracy on the found faces, beside the model's
accuracy on the same images as dataset crops (plain ``to_model_input``, and aligned by ``--detect``). An image
counts once per frame it appears in. Prints the CPU model.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np

from facesweep.faces.crop import CropSpec, FaceCropper
from facesweep.faces.detect import make_detector
from facesweep.io import load_dataset
from facesweep.io.preprocess import to_model_input
from facesweep.live.track import iou

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SOURCES = {"gender": DATA / "gender", "emotion": DATA / "fer2013"}
IOU_MATCH = 0.4


def cpu_model() -> str:
    out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    name = next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), "?")
    return f"{name}, {os.cpu_count()} cores"


def texture(width: int, height: int, seed: int) -> np.ndarray:
    """A busy BGR background: blurred colour noise at two scales plus a few lines and blobs."""
    rng = np.random.default_rng(seed)
    coarse = cv2.resize(rng.integers(40, 220, (height // 40, width // 40, 3), dtype=np.uint8), (width, height),
                        interpolation=cv2.INTER_CUBIC)  # fmt: skip
    fine = cv2.GaussianBlur(rng.integers(0, 60, (height, width, 3), dtype=np.uint8), (0, 0), 1.5)
    image = cv2.add(cv2.multiply(coarse, np.full_like(coarse, 1), scale=0.8), fine)
    for _ in range(60):
        p, q = rng.integers(0, [width, height], 2), rng.integers(0, [width, height], 2)
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        cv2.line(image, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), colour, int(rng.integers(1, 5)), cv2.LINE_AA)
    return image


def layout(rng: random.Random, n: int, width: int, height: int, lo: int, hi: int, aspects: list[float]) -> list:
    """``n`` non-overlapping boxes (x, y, w, h) with widths in [lo, hi] and the images' aspect ratios."""
    boxes: list[tuple[int, int, int, int]] = []
    for aspect in aspects[:n]:
        for _ in range(200):
            w = rng.randint(lo, hi)
            h = int(round(w * aspect))
            x, y = rng.randint(8, width - w - 8), rng.randint(8, height - h - 8)
            if all(x + w + 12 < bx or bx + bw + 12 < x or y + h + 12 < by or by + bh + 12 < y
                   for bx, by, bw, bh in boxes):  # fmt: skip
                boxes.append((x, y, w, h))
                break
    return boxes


def cmd_make(args: argparse.Namespace) -> None:
    root = Path(args.data or SOURCES[args.task])
    data = load_dataset(args.task, root, image_size=48, channels=1)  # only for the split's file list and labels
    split = data.val
    items = list(zip(split.paths, split.labels.tolist(), strict=True))
    rng = random.Random(args.seed)
    rng.shuffle(items)
    if args.images:
        items = items[: args.images]
    width, height, hold = 640, 480, args.hold
    background = texture(width * 2, height * 2, args.seed)
    writer = cv2.VideoWriter(str(args.out), cv2.VideoWriter_fourcc(*"MJPG"), args.fps, (width, height))
    if not writer.isOpened():
        raise SystemExit(f"cannot write {args.out}")
    frames: list[list[dict]] = []
    lo, hi = (70, 140) if args.task == "gender" else (80, 120)  # FER-2013's 48x48 crops upscaled to ~100 px
    next_item = 0
    t = 0
    places: list | None = None
    while next_item < len(items):
        n = args.faces or rng.randint(2, 4)
        group = items[next_item : next_item + n]
        next_item += n
        images = [cv2.imread(str(root / p)) for p, _ in group]  # split paths are relative to the loaded folder
        aspects = [im.shape[0] / im.shape[1] for im in images]
        if args.in_place:
            if places is None:  # the first group's layout, with room for taller faces, is kept for the whole video
                places = layout(rng, n, width, height - 40, lo, hi, [1.4] * n)
            # same centre and width, the new face's own aspect ratio
            boxes = [(x, y + (h - round(w * a)) // 2, w, round(w * a)) for (x, y, w, h), a in zip(places, aspects,
                     strict=False)]  # fmt: skip
        else:
            boxes = layout(rng, len(group), width, height - 40, lo, hi, aspects)
        for _ in range(hold):
            # the camera pans slowly over the background; the faces drift with it
            ox = int((width / 2) * (1 + np.sin(t / 90.0)))
            oy = int((height / 2) * (1 + np.sin(t / 130.0 + 1.0)))
            frame = background[oy : oy + height, ox : ox + width].copy()
            dx, dy = int(6 * np.sin(t / 15.0)), int(4 * np.cos(t / 17.0))
            truth = []
            for (path, label), image, (x, y, w, h) in zip(group, images, boxes, strict=False):
                x, y = x + dx, y + dy + 20
                x, y = min(max(x, 0), width - w), min(max(y, 0), height - h)
                frame[y : y + h, x : x + w] = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA
                                                         if w < image.shape[1] else cv2.INTER_CUBIC)  # fmt: skip
                truth.append({"box": [x, y, w, h], "label": int(label), "path": path})
            writer.write(frame)
            frames.append(truth)
            t += 1
    writer.release()
    sidecar = {"task": args.task, "data": str(root), "split": "val", "classes": list(data.classes),
               "width": width, "height": height, "fps": args.fps, "frames": frames}  # fmt: skip
    Path(str(args.out) + ".json").write_text(json.dumps(sidecar))
    faces = sum(len(f) for f in frames)
    print(f"wrote {args.out}: {len(frames)} frames, {faces} faces ({len(items)} {args.task} val images, "
          f"{hold} frames each), truth in {args.out}.json")  # fmt: skip


def match(truth: list, found: list) -> list[tuple[int, int]]:
    """Greedy IoU matching, best pairs first, IoU >= IOU_MATCH: (truth index, detection index) pairs."""
    pairs = sorted(((iou(t["box"], d.box), i, j) for i, t in enumerate(truth) for j, d in enumerate(found)),
                   reverse=True)  # fmt: skip
    used_t, used_d, out = set(), set(), []
    for score, i, j in pairs:
        if score < IOU_MATCH:
            break
        if i not in used_t and j not in used_d:
            used_t.add(i)
            used_d.add(j)
            out.append((i, j))
    return out


def cmd_score(args: argparse.Namespace) -> None:
    from facesweep.model.artifacts import load_model

    truth = json.loads(Path(str(args.video) + ".json").read_text())
    model = load_model(args.model)
    size, channels = model.config.image_size, model.config.channels
    template = model.crop_template
    print(f"CPU: {cpu_model()}")
    print(f"video {args.video}: {len(truth['frames'])} frames; model {args.model} ({size}x{size}x{channels}, "
          f"template {template.source or 'default'})")  # fmt: skip
    root = Path(truth["data"])
    # the same images as dataset crops: plain (to_model_input) and aligned by the --detect path
    used = sorted({t["path"]: t["label"] for f in truth["frames"] for t in f}.items())
    plain = np.stack([to_model_input(cv2.imread(str(root / p)), size, channels) for p, _ in used])
    labels = np.array([label for _, label in used])
    aligner = CropSpec(template=template).cropper(size, channels)
    aligned, statuses = [], []
    for p, _ in used:
        crop, status = aligner.crop_largest(cv2.imread(str(root / p)))
        aligned.append(crop if crop is not None else np.zeros((size, size, channels), np.uint8))
        statuses.append(status)
    acc_plain = float((model.predict(plain).argmax(1) == labels).mean())
    acc_aligned = float((model.predict(np.stack(aligned)).argmax(1) == labels).mean())
    print(f"same {len(used)} images as dataset crops: plain {acc_plain:.1%}, aligned (--detect) {acc_aligned:.1%} "
          f"({statuses.count('face')} face, {statuses.count('whole')} whole, {statuses.count('none')} none)")

    cap = cv2.VideoCapture(str(args.video))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    for name in args.detectors:
        detector = make_detector(name)
        cropper = FaceCropper(detector, template, size, channels)
        crops, crop_labels, hits, total, false_pos, det_ms = [], [], 0, 0, 0, []
        for frame, gt in zip(frames, truth["frames"], strict=True):
            t0 = time.perf_counter()
            found = detector.detect(frame)
            det_ms.append((time.perf_counter() - t0) * 1000)
            pairs = match(gt, found)
            total += len(gt)
            hits += len(pairs)
            false_pos += len(found) - len(pairs)
            if pairs:
                crops += cropper.crop_detections(frame, [found[j] for _, j in pairs])
                crop_labels += [gt[i]["label"] for i, _ in pairs]
        acc = float((model.predict(np.stack(crops)).argmax(1) == np.array(crop_labels)).mean()) if crops else 0.0
        print(f"{name:6s} recall {hits / total:6.1%} ({hits}/{total})  false positives/frame "
              f"{false_pos / len(frames):.3f}  accuracy on found faces {acc:.1%}  "
              f"detect {np.median(det_ms):.1f} ms/frame median")  # fmt: skip


def cmd_score_live(args: argparse.Namespace) -> None:
    truth = json.loads(Path(str(args.video) + ".json").read_text())
    task, classes = truth["task"], truth["classes"]
    records = [json.loads(line) for line in Path(args.jsonl).read_text().splitlines() if line.strip()]
    by_frame = {r["frame"]: r for r in records}
    total = found = right = ids = 0
    seen_ids: set[int] = set()
    for index, gt in enumerate(truth["frames"]):
        faces = [f for f in by_frame.get(index, {"faces": []})["faces"] if task in f]
        seen_ids.update(f["id"] for f in faces)
        pairs = match(gt, [SimpleNamespace(box=tuple(f["box"])) for f in faces])
        total += len(gt)
        found += len(pairs)
        right += sum(faces[j][task]["label"] == classes[gt[i]["label"]] for i, j in pairs)
    ids = len(seen_ids)
    people = len({t["path"] + f"@{k}" for k, f in enumerate(truth["frames"]) for t in f if k == 0 or
                  t["path"] not in {u["path"] for u in truth["frames"][k - 1]}})  # fmt: skip
    print(f"{args.jsonl}: {len(records)} frames of {len(truth['frames'])}; faces found {found / total:.1%} "
          f"({found}/{total}); {task} right on {right / max(1, found):.1%} of found faces ({right}/{found}); "
          f"{ids} track ids for {people} appearances")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make", help="write the video and its truth sidecar")
    make.add_argument("--task", choices=sorted(SOURCES), default="gender")
    make.add_argument("--data", help="the data folder (default: ../shared/data/gender or fer2013)")
    make.add_argument("--out", type=Path, required=True, help="output .avi (truth in OUT.json)")
    make.add_argument("--hold", type=int, default=8, help="frames each group of faces stays (default 8)")
    make.add_argument("--images", type=int, help="use only this many val images (default: all)")
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--faces", type=int, help="exactly this many faces a group (default: 2-4 at random)")
    make.add_argument("--in-place", action="store_true",
                      help="keep the first group's places: other people replace the faces in the same boxes")
    make.add_argument("--fps", type=float, default=30.0, help="the video's frame rate (default 30)")
    score = sub.add_parser("score", help="detect, crop and classify; compare with dataset crops")
    score.add_argument("video", type=Path)
    score.add_argument("--model", required=True, help="model DIR or pretrained:NAME")
    score.add_argument("--detectors", nargs="+", default=["yunet", "haar"], choices=["yunet", "haar"])
    live = sub.add_parser("score-live", help="score `facesweep live --jsonl` output against the video's truth")
    live.add_argument("video", type=Path)
    live.add_argument("jsonl", type=Path)
    args = parser.parse_args()
    {"make": cmd_make, "score": cmd_score, "score-live": cmd_score_live}[args.command](args)


if __name__ == "__main__":
    main()

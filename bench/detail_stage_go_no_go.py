#!/usr/bin/python3
"""Go/no-go for a per-identity detail stage (issue 27): can a small super-resolution network,
trained for a few minutes on one person's own real face crops shrunk to 64 px, give back
detail that the plain enlargement lacks, on that person's held-out crops?

If it cannot clearly beat the enlarged 64 px crop on real faces (sharpness ratio 0.20,
detail fidelity 0.82 in README), it will not on a decoder's swaps, whose 64 px input is
worse. Both figures are computed here as eval computes them (sharpness: variance of the
Laplacian of the grey face over the real one's; detail fidelity: per band of the three
finest Laplacian bands, R / (R + E), inside the face), on the inner face of the aligned crop.

  /usr/bin/python3 bench/detail_stage_go_no_go.py FACES_DIR [--minutes M] [--threads N]
      [--loss l1|l1+bands] [--held-out 0.2] [--save DIR]

FACES_DIR holds one person's aligned 256 px crops (faceswap extract's person folder).
The last --held-out share of the crops in frame order is never trained on (neighbouring
frames are near copies, so a random split would flatter the network).
Needs PyTorch's Python API (bash scripts/setup.sh --bench installs Debian's python3-torch).
"""
import argparse
import glob
import os
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LOW = 64          # the decoder's side
HIGH = 256        # the crop's side
PATCH = 24        # training patch, in low-resolution pixels


class DetailStage(nn.Module):
    """Features at 64 px, then two resize-convolution doublings; the output is a correction
    added to the bicubic enlargement (zero at the start)."""

    def __init__(self, width=32, fine=16):
        super().__init__()
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.ModuleList([nn.Conv2d(width, width, 3, padding=1) for _ in range(3)])
        self.up1 = nn.Conv2d(width, fine, 3, padding=1)
        self.up2 = nn.Conv2d(fine, fine, 3, padding=1)
        self.rgb = nn.Conv2d(fine, 3, 3, padding=1)
        nn.init.zeros_(self.rgb.weight)
        nn.init.zeros_(self.rgb.bias)

    def forward(self, x):
        base = bicubic(x)
        f = F.leaky_relu(self.head(x), 0.1)
        for conv in self.body:
            f = f + F.leaky_relu(conv(f), 0.1)
        f = F.interpolate(f, scale_factor=2, mode="bilinear", align_corners=False)
        f = F.leaky_relu(self.up1(f), 0.1)
        f = F.interpolate(f, scale_factor=2, mode="bilinear", align_corners=False)
        f = F.leaky_relu(self.up2(f), 0.1)
        return base + self.rgb(f)


def frame_key(path):
    """extract names crops CLIP_HASH_FRAME_FACE.png: the frame and face number."""
    return "_".join(os.path.basename(path).rsplit(".", 1)[0].split("_")[-2:])


def load(folder):
    """{frame key: crop} of the aligned 256 px crops in `folder`."""
    faces = {}
    for f in sorted(glob.glob(os.path.join(folder, "*.png"))):
        image = cv2.imread(f)
        if image is not None and image.shape[:2] == (HIGH, HIGH):
            faces[frame_key(f)] = image
    if len(faces) < 20:
        sys.exit(f"{folder}: needs at least 20 aligned {HIGH} px face crops, found {len(faces)}")
    return faces


def to_tensor(images):
    return torch.from_numpy(np.stack(images)[..., ::-1].copy()).permute(0, 3, 1, 2).float() / 255.0


def shrink(high):
    return F.interpolate(high, size=(high.shape[-2] // 4, high.shape[-1] // 4), mode="area")


def laplacian_bands(x, count=2):
    bands = []
    for _ in range(count):
        down = F.avg_pool2d(x, 2)
        bands.append(x - F.interpolate(down, scale_factor=2, mode="bilinear", align_corners=False))
        x = down
    return bands


def face_mask():
    """The inner face of an aligned crop: an ellipse over the central part (eyes to chin)."""
    mask = np.zeros((HIGH, HIGH), np.uint8)
    cv2.ellipse(mask, (HIGH // 2, int(HIGH * 0.55)), (int(HIGH * 0.30), int(HIGH * 0.36)), 0, 0, 360, 255, -1)
    return mask


def sharpness(bgr, mask):
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    lap = cv2.Laplacian(grey, cv2.CV_32F)
    return float(lap[mask > 0].var())


def detail_fidelity(real_bgr, drawn_bgr, mask, bands=3):
    real = cv2.cvtColor(real_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    mine = cv2.cvtColor(drawn_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    inside = mask > 0
    out = []
    for _ in range(bands):
        real_down, mine_down = cv2.pyrDown(real), cv2.pyrDown(mine)
        real_band = real - cv2.pyrUp(real_down, dstsize=real.shape[::-1])
        error = (mine - cv2.pyrUp(mine_down, dstsize=mine.shape[::-1])) - real_band
        r, e = float((real_band[inside] ** 2).sum()), float((error[inside] ** 2).sum())
        out.append(r / (r + e) if r + e > 0 else 1.0)
        real, mine = real_down, mine_down
        inside = cv2.resize(inside.astype(np.uint8), real.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
    return out


def bicubic(low):
    return F.interpolate(low, scale_factor=4, mode="bicubic", align_corners=False)


def to_bgr(t):
    return (t.clamp(0, 1).permute(1, 2, 0).numpy()[..., ::-1] * 255.0 + 0.5).astype(np.uint8).copy()


def evaluate(name, draw, held_high, held_low, mask):
    ratios, fidelity = [], []
    with torch.no_grad():
        for i in range(0, len(held_high), 8):
            drawn = draw(held_low[i:i + 8])
            for real_t, drawn_t in zip(held_high[i:i + 8], drawn):
                real, mine = to_bgr(real_t), to_bgr(drawn_t)
                ratios.append(sharpness(mine, mask) / max(1e-6, sharpness(real, mask)))
                fidelity.append(detail_fidelity(real, mine, mask))
    fidelity = np.array(fidelity)
    print(f"| {name} | {np.median(ratios):.2f} | {fidelity.mean():.3f} | "
          + " / ".join(f"{b:.3f}" for b in fidelity.mean(axis=0)) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("faces")
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--loss", choices=["l1", "l1+bands"], default="l1+bands")
    parser.add_argument("--held-out", type=float, default=0.2)
    parser.add_argument("--save", help="folder for side-by-side pictures of held-out faces")
    parser.add_argument("--redrawn", help="the same frames' crops redrawn by a decoder (faceswap extract of a "
                        "clip converted to its own person): also measured as inputs, matched by frame")
    parser.add_argument("--train-input", choices=["real", "redrawn"], default="real",
                        help="what the stage learns from, shrunk to 64 px: the real crops or the redrawn ones")
    args = parser.parse_args()
    if args.train_input == "redrawn" and not args.redrawn:
        parser.error("--train-input redrawn needs --redrawn DIR")
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    real = load(args.faces)
    redrawn = load(args.redrawn) if args.redrawn else {}
    keys = sorted(k for k in real if not redrawn or k in redrawn)
    faces = [real[k] for k in keys]
    split = int(len(faces) * (1 - args.held_out))
    train_high, held_high = to_tensor(faces[:split]), to_tensor(faces[split:])
    train_low, held_low = shrink(train_high), shrink(held_high)
    if redrawn:
        redrawn_low = shrink(to_tensor([redrawn[k] for k in keys]))
        held_redrawn = redrawn_low[split:]
        if args.train_input == "redrawn":
            train_low = redrawn_low[:split]
    mask = face_mask()
    net = DetailStage()
    optimiser = torch.optim.Adam(net.parameters(), lr=5e-4)
    generator = torch.Generator().manual_seed(2)
    steps, start = 0, time.time()
    while time.time() - start < args.minutes * 60:
        idx = torch.randint(0, len(train_low), (16,), generator=generator)
        x0 = torch.randint(4, LOW - PATCH - 4, (1,), generator=generator).item()
        y0 = torch.randint(4, LOW - PATCH - 4, (1,), generator=generator).item()
        low = train_low[idx][:, :, y0 - 4:y0 + PATCH + 4, x0 - 4:x0 + PATCH + 4]
        high = train_high[idx][:, :, 4 * y0:4 * (y0 + PATCH), 4 * x0:4 * (x0 + PATCH)]
        if torch.rand(1, generator=generator).item() < 0.5:
            low, high = low.flip(-1), high.flip(-1)
        drawn = net(low)[:, :, 16:-16, 16:-16]  # the 4 px margin, enlarged, cut off again
        loss = F.l1_loss(drawn, high)
        if args.loss == "l1+bands":
            for drawn_band, real_band in zip(laplacian_bands(drawn), laplacian_bands(high)):
                loss = loss + F.l1_loss(drawn_band, real_band)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        steps += 1
    print(f"{os.path.basename(os.path.normpath(args.faces))}: {len(faces)} crops, trained on {split} "
          f"({args.train_input}), held out {len(faces) - split}; {steps} steps in {args.minutes:g} min, loss {args.loss}")
    print("| drawn from the 64 px crop | sharpness ratio (median) | detail fidelity | bands fine->coarse |")
    print("| --- | --- | --- | --- |")
    evaluate("bicubic enlargement", bicubic, held_high, held_low, mask)
    net.eval()
    evaluate("detail stage", net, held_high, held_low, mask)
    if redrawn:
        evaluate("redrawn, bicubic", bicubic, held_high, held_redrawn, mask)
        evaluate("redrawn, detail stage", net, held_high, held_redrawn, mask)
    if args.save:
        os.makedirs(args.save, exist_ok=True)
        shown = held_redrawn if redrawn else held_low  # bicubic | detail stage | real crop
        with torch.no_grad():
            for i in range(0, len(held_high), max(1, len(held_high) // 4)):
                row = [to_bgr(bicubic(shown[i:i + 1])[0]), to_bgr(net(shown[i:i + 1])[0]),
                       to_bgr(held_high[i])]
                cv2.imwrite(os.path.join(args.save, f"held_{i:03d}.png"), np.hstack(row))


if __name__ == "__main__":
    main()

"""A small training script with upstack's three lines added (marked "upstack").

It trains a linear probe by SGD on synthetic "activations" (pure Python, no
numpy or torch needed), the shape of a PyTorch training loop. Run it with:

    python examples/train_probe.py --lr 0.05 --steps 300 [--under NODE]

then look at the result: `upstack runs`, `upstack show ID`, `upstack run show ID`.
"""

from __future__ import annotations

import argparse
import math
import random

import upstack  # upstack (1 of 3)


def make_data(n: int, dim: int, seed: int) -> list[tuple[list[float], int]]:
    """Points whose label is the sign of a hidden direction, plus noise."""
    rng = random.Random(seed)
    direction = [rng.gauss(0, 1) for _ in range(dim)]
    data = []
    for _ in range(n):
        x = [rng.gauss(0, 1) for _ in range(dim)]
        score = sum(a * b for a, b in zip(x, direction, strict=True)) + rng.gauss(0, 0.5)
        data.append((x, int(score > 0)))
    return data


def loss_curve_svg(losses: list[float], path: str) -> str:
    """The loss curve as a small SVG (matplotlib is used instead when it is installed)."""
    top = max(losses)
    points = " ".join(f"{400 * i / max(1, len(losses) - 1):.1f},{200 - 190 * v / top:.1f}"
                      for i, v in enumerate(losses))
    with open(path, "w") as handle:
        handle.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200">'
                     f'<polyline fill="none" stroke="steelblue" points="{points}"/></svg>')
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--dim", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--under", help="the tree node this run answers (an id)")
    args = parser.parse_args()
    train = make_data(2000, args.dim, args.seed)
    weights, bias = [0.0] * args.dim, 0.0
    rng = random.Random(args.seed)
    losses = []
    # upstack (2 of 3): the run, filed under its question, with its config.
    with upstack.run("linear-probe", under=args.under, config=args) as run:
        for step in range(args.steps):
            batch = rng.sample(train, 32)
            grad_w, grad_b, loss, correct = [0.0] * args.dim, 0.0, 0.0, 0
            for x, y in batch:
                z = sum(w * xi for w, xi in zip(weights, x, strict=True)) + bias
                p = 1 / (1 + math.exp(-z))
                loss -= math.log(p if y else 1 - p) / len(batch)
                correct += int((p > 0.5) == bool(y))
                for i, xi in enumerate(x):
                    grad_w[i] += (p - y) * xi / len(batch)
                grad_b += (p - y) / len(batch)
            weights = [w - args.lr * g for w, g in zip(weights, grad_w, strict=True)]
            bias -= args.lr * grad_b
            losses.append(loss)
            run.log({"loss": loss, "acc": correct / len(batch)}, step=step)  # upstack (3 of 3)
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            figure, axes = plt.subplots(figsize=(6, 3))
            axes.plot(losses)
            axes.set_xlabel("step")
            axes.set_ylabel("loss")
            run.figure(figure, "Training loss")
        except ImportError:
            run.figure(loss_curve_svg(losses, "probe-loss.svg"), "Training loss")
        run.summary(final_loss=losses[-1], expected="The probe separates the classes (acc > 0.9).")
    print(run.id)


if __name__ == "__main__":
    main()

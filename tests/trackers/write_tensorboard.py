"""Write a TensorBoard logdir with a real writer: `python write_tensorboard.py LOGDIR [--more]`.

tensorboardX (no TensorFlow, no torch: the lightest real writer of event files) writes two runs,
each a folder, with scalars at set wall times (START + step), a NaN, a histogram and an image (which
the import leaves out and counts), and hparams for the first run (add_hparams writes them, with its
metric, to a folder of its own inside the run's).
"""

import math
import sys

import numpy as np
from tensorboardX import SummaryWriter

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def more(logdir: str) -> None:
    """The job lr-0.01 resumed into its folder (a new event file beside the first): ten more steps.

    tensorboardX names a file by the second it opens it and the host, and opens it for writing anew: a
    writer opened in the same second as the first one would wipe it out (its 50 points gone at the
    source). A resumed job is its own process, later; the suffix keeps this one, however fast, beside it.
    """
    with SummaryWriter(f"{logdir}/lr-0.01", filename_suffix=".resumed") as writer:
        for step in range(50, 60):
            writer.add_scalar("train/loss", 0.01 / (step + 1), step, walltime=START + step)


def main(logdir: str) -> None:
    for name, lr in (("lr-0.1", 0.1), ("lr-0.01", 0.01)):
        with SummaryWriter(f"{logdir}/{name}") as writer:
            for step in range(50):
                writer.add_scalar("train/loss", lr / (step + 1), step, walltime=START + step)
            writer.add_scalar("val/acc", math.nan, 49, walltime=START + 49)
            writer.add_histogram("weights", np.arange(10.0), 49, walltime=START + 49)
            writer.add_image("sample", np.zeros((3, 4, 4)), 49, walltime=START + 49)
            if lr == 0.1:
                writer.add_hparams({"lr": lr, "optimizer": "sgd", "layers": 2, "tied": True},
                                   {"hparam/final_loss": lr / 50}, name="hparams")


if __name__ == "__main__":
    (more if sys.argv[2:] == ["--more"] else main)(sys.argv[1])

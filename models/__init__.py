"""Model wrappers and the model registry."""

import os

# LightGBM's OpenMP threads spin while they wait for work; on a small machine shared with
# other processes (the scoring service, a second job) that turned 1.4 s of training into
# 10-46 s. Passive waiting costs nothing measurable when the machine is idle. Set before
# lightgbm is first imported; an explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

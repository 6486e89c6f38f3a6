"""Write one world as files: `python -m bench.world2 --seed 3 --orders 200000 --out DIR`.

DIR/orders.parquet and DIR/outcomes.parquet are contract data sets (`risk train`, `risk
score` and `risk evaluate` read them); DIR/truth/truth.parquet holds the generator's own
chances and fates, and DIR/truth/world.json its drawn parameters, for measuring only.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from risk.datasets import write_orders, write_outcomes

from .generate import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--days", type=float, default=90.0)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    world = generate(args.seed, args.orders, args.days)
    (args.out / "truth").mkdir(parents=True, exist_ok=True)
    write_orders(world.orders, args.out / f"orders.{args.format}")
    write_outcomes(world.outcomes, args.out / f"outcomes.{args.format}")
    world.truth.to_parquet(args.out / "truth" / "truth.parquet", index=False)
    (args.out / "truth" / "world.json").write_text(json.dumps(dataclasses.asdict(world.world), indent=1))
    print(f"{len(world.orders):,} orders, {len(world.outcomes):,} outcomes written to {args.out}")


if __name__ == "__main__":
    main()

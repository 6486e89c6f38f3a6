"""The sharded dict behaves as a dict, and survives a snapshot loaded by a process with other string hashes."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

from features.state.sharded import SHARDS, ShardedDict


def test_it_reads_and_writes_like_a_dict():
    sharded: ShardedDict[int] = ShardedDict()
    plain = {f"orders:card:{i}": i for i in range(5000)}
    for key, value in plain.items():
        sharded[key] = value
    assert len(sharded) == 5000 and dict(sharded.items()) == plain and set(sharded) == set(plain)
    assert sharded["orders:card:7"] == 7 and sharded.get("missing") is None and "orders:card:9" in sharded
    assert sharded.pop("orders:card:9") == 9 and "orders:card:9" not in sharded and sharded.pop("gone") is None
    assert sum(1 for shard in sharded.shards if shard) > SHARDS // 2  # keys really are spread


def test_a_pickle_from_a_process_with_another_hash_seed_finds_every_key(tmp_path: Path):
    path = tmp_path / "sharded.pkl"
    code = ("import pickle, sys; from features.state.sharded import ShardedDict\n"
            "d = ShardedDict()\nfor i in range(3000): d[f'k{i}'] = i\n"
            "pickle.dump(d, open(sys.argv[1], 'wb'))")
    env = dict(os.environ, PYTHONHASHSEED="12345", PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env=env)
    loaded = pickle.loads(path.read_bytes())
    assert len(loaded) == 3000
    assert all(loaded.get(f"k{i}") == i for i in range(3000))

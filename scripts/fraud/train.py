#!/usr/bin/env python3
"""Trains tmax's default fraud model (tier 2) with the real xgboost package and writes it as
XGBoost JSON to src/fraud/model/default.json (what the server loads when fraud.modelPath is unset).

    bun scripts/fraud/export.ts /tmp/fraud-train.csv --seeds 1,2,3,4,5,6   # mixed + sophisticated, 150 and 300 rps
    bun scripts/fraud/export.ts /tmp/fraud-valid.csv --seeds 101,102
    python3 scripts/fraud/train.py /tmp/fraud-train.csv /tmp/fraud-valid.csv [OUT.json]

The rows come from the seeded traffic model through the server's own feature extractor
(src/fraud/training.ts), so the same seeds give the same model (xgboost's `hist` method, one
thread, fixed seed). Small by design: <= 80 trees of depth <= 5. Prints, on the validation file,
recall per bot kind at the flag threshold and the share of humans above the block threshold.
"""
import csv
import math
import os
import sys

import numpy as np
import xgboost as xgb

FLAG = 0.5
BLOCK = 0.95
PARAMS = {
    "objective": "binary:logistic", "max_depth": 5, "eta": 0.2, "min_child_weight": 2,
    "subsample": 1.0, "tree_method": "hist", "nthread": 1, "seed": 20261204, "eval_metric": "logloss",
}
ROUNDS = 80


def read(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    names = rows[0][2:]
    y = np.array([float(r[0]) for r in rows[1:]], dtype=np.float32)
    kinds = [r[1] for r in rows[1:]]
    x = np.array([[math.nan if v == "" else float(v) for v in r[2:]] for r in rows[1:]], dtype=np.float32)
    return names, x, y, kinds


def report(booster, names, x, y, kinds, title):
    p = booster.predict(xgb.DMatrix(x, feature_names=names))
    print(f"{title}: {len(y)} rows")
    for kind in sorted(set(kinds)):
        idx = [i for i, k in enumerate(kinds) if k == kind]
        flagged = float(np.mean(p[idx] >= FLAG))
        blocked = float(np.mean(p[idx] > BLOCK))
        print(f"  {kind:18s} n={len(idx):6d}  >= {FLAG}: {flagged:.4f}   > {BLOCK}: {blocked:.4f}")


def main():
    train_path, valid_path = sys.argv[1], sys.argv[2]
    out = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "..", "..", "src", "fraud", "model", "default.json")
    names, x, y, kinds = read(train_path)
    vnames, vx, vy, vkinds = read(valid_path)
    assert names == vnames, "train and validation files have different features"
    # Humans weigh more: a blocked human is lost revenue, a missed bot is only flagged-or-not.
    weights = np.where(y == 0, 3.0, 1.0).astype(np.float32)
    dtrain = xgb.DMatrix(x, label=y, weight=weights, feature_names=names)
    dvalid = xgb.DMatrix(vx, label=vy, feature_names=names)
    booster = xgb.train(PARAMS, dtrain, num_boost_round=ROUNDS, evals=[(dvalid, "valid")], verbose_eval=20)
    report(booster, names, vx, vy, vkinds, "validation")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    booster.save_model(out)
    print(f"wrote {out} ({ROUNDS} trees, depth <= {PARAMS['max_depth']}, {len(names)} features)")


if __name__ == "__main__":
    main()

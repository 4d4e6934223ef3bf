#!/usr/bin/env python3
"""Trains small, reproducible XGBoost models and writes the fixtures that tmax's GBDT tests compare
against (tests/fixtures/gbdt/). The tests themselves need no Python: they read what this writes.

    pip install xgboost numpy
    python3 scripts/gbdt/make_fixtures.py

For every supported model NAME it writes tests/fixtures/gbdt/NAME/:
  model.json     the model exactly as XGBoost's `save_model` writes it
  inputs.f32     row-major little-endian float32 features, NaN = missing
  expected.json  {rowCount, featureCount, xgboost, margins, probabilities}: XGBoost's own
                 `inplace_predict` output (float32 values written as float64 text)
and under tests/fixtures/gbdt/unsupported/ small real models tmax must refuse with a clear error.
"""
import json
import os
import sys

import numpy as np
import xgboost as xgb

SEED = 20261204
MISSING_FRACTION = 0.10
RANDOM_ROWS = 1000
EDGE_THRESHOLDS = 40  # split conditions probed exactly, one ulp below and one ulp above
OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "gbdt")


def features(rng, rows, cols, scale=1.0):
    x = (rng.normal(size=(rows, cols)) * scale).astype(np.float32)
    x[rng.random(x.shape) < MISSING_FRACTION] = np.nan
    return x


def labels(rng, x):
    z = np.nan_to_num(x)
    cols = x.shape[1]
    logit = 1.5 * z[:, 0] - 1.5
    if cols >= 3:
        logit += -z[:, 1] * z[:, 2]
    if cols >= 6:
        logit += np.sin(2 * z[:, 3]) + 0.8 * (z[:, 4] > 0.5) + 0.7 * np.isnan(x[:, 5])
    return (rng.random(len(x)) < 1 / (1 + np.exp(-logit))).astype(np.int32)


def train(rng, cols, params, rounds, train_rows=4000):
    x = features(rng, train_rows, cols)
    base = {"objective": "binary:logistic", "seed": SEED, "nthread": 1}
    return xgb.train({**base, **params}, xgb.DMatrix(x, label=labels(rng, x)), num_boost_round=rounds)


def split_conditions(model_json):
    out = []
    for tree in model_json["learner"]["gradient_booster"]["model"]["trees"]:
        for node, left in enumerate(tree["left_children"]):
            if left != -1:
                out.append((tree["split_indices"][node], tree["split_conditions"][node]))
    return out


def edge_rows(rng, model_json, cols):
    """Rows whose feature sits exactly on a split condition, one float32 ulp below, one above."""
    splits = split_conditions(model_json)
    picks = rng.choice(len(splits), size=min(EDGE_THRESHOLDS, len(splits)), replace=False)
    rows = []
    for p in picks:
        feature, cond = splits[p]
        c = np.float32(cond)
        for v in (c, np.nextafter(c, np.float32(-np.inf)), np.nextafter(c, np.float32(np.inf))):
            row = features(rng, 1, cols)[0]
            row[feature] = v
            rows.append(row)
    special = [np.full(cols, np.nan), np.zeros(cols), np.full(cols, -0.0), np.full(cols, 1e30),
               np.full(cols, -1e30), np.full(cols, np.inf), np.full(cols, -np.inf)]
    return np.vstack([np.array(rows, dtype=np.float32), np.array(special, dtype=np.float32)])


def predict(booster, x):
    margins = booster.inplace_predict(x, predict_type="margin")
    probabilities = booster.inplace_predict(x)
    finite = np.all(np.isfinite(x) | np.isnan(x), axis=1)
    assert np.array_equal(probabilities[finite], booster.predict(xgb.DMatrix(x[finite])))
    assert margins.dtype == np.float32 and probabilities.dtype == np.float32
    return margins, probabilities


def write_fixture(name, booster, rng, cols, scale):
    folder = os.path.join(OUT_DIR, name)
    os.makedirs(folder, exist_ok=True)
    model_path = os.path.join(folder, "model.json")
    booster.save_model(model_path)
    with open(model_path) as f:
        model_json = json.load(f)
    x = np.vstack([features(rng, RANDOM_ROWS, cols, scale), edge_rows(rng, model_json, cols)])
    x.astype("<f4").tofile(os.path.join(folder, "inputs.f32"))
    margins, probabilities = predict(booster, x)
    expected = {
        "xgboost": xgb.__version__, "seed": SEED, "rowCount": len(x), "featureCount": cols,
        "margins": [float(v) for v in margins], "probabilities": [float(v) for v in probabilities],
    }
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")
    print(f"{name}: {booster.num_boosted_rounds()} rounds, {len(x)} rows, {os.path.getsize(model_path)} bytes of model")


def write_unsupported(rng):
    folder = os.path.join(OUT_DIR, "unsupported")
    os.makedirs(folder, exist_ok=True)
    x = features(rng, 300, 4)
    y = labels(rng, x)
    params = {"max_depth": 2, "seed": SEED, "nthread": 1}
    multi = xgb.train({**params, "objective": "multi:softprob", "num_class": 3}, xgb.DMatrix(x, label=y + (x[:, 1] > 1)), 2)
    multi.save_model(os.path.join(folder, "multiclass.json"))
    cats = np.floor(np.abs(np.nan_to_num(x[:, :1])) * 2).astype(np.float32)
    xc = np.hstack([cats, x[:, 1:]])
    dcat = xgb.DMatrix(xc, label=(cats[:, 0] > 1).astype(np.int32), feature_types=["c", "q", "q", "q"], enable_categorical=True)
    xgb.train({**params, "objective": "binary:logistic"}, dcat, 2).save_model(os.path.join(folder, "categorical.json"))
    dart = xgb.train({**params, "objective": "binary:logistic", "booster": "dart", "rate_drop": 0.5}, xgb.DMatrix(x, label=y), 2)
    dart.save_model(os.path.join(folder, "dart.json"))
    xgb.train({**params, "objective": "binary:logistic"}, xgb.DMatrix(x, label=y), 2).save_model(os.path.join(folder, "model.ubj"))


def main():
    rng = np.random.default_rng(SEED)
    # The fraud-sized model: 100 trees of depth 6 on 30 features, ~10% missing values.
    fraud = train(rng, 30, {"max_depth": 6, "eta": 0.1}, 100)
    write_fixture("fraud", fraud, rng, 30, 1.5)
    # A tiny exact-method model with an explicit base_score of 0.5 ("5E-1").
    tiny = train(rng, 4, {"max_depth": 2, "eta": 0.3, "tree_method": "exact", "base_score": 0.5}, 3, train_rows=500)
    write_fixture("tiny", tiny, rng, 4, 1.0)
    # A boosted forest: 3 parallel trees per round, unbalanced (lossguide) trees, column sampling.
    forest = train(rng, 8, {"max_depth": 0, "max_leaves": 12, "grow_policy": "lossguide", "num_parallel_tree": 3,
                            "subsample": 0.8, "colsample_bynode": 0.7, "eta": 0.2}, 6, train_rows=1500)
    write_fixture("forest", forest, rng, 8, 1.0)
    write_unsupported(rng)


if __name__ == "__main__":
    sys.exit(main())

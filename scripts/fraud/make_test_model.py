#!/usr/bin/env python3
"""Writes tests/fixtures/fraud/rule-model.json: a tiny real XGBoost model over tmax's fraud features
(src/fraud/features.ts) with known answers, for the pipeline tests:
  has_user_id = 1, eids < 5  -> ~0.10 (allow)
  has_user_id = 0, eids < 5  -> ~0.70 (flag)
  eids >= 5                  -> ~0.99 (block)
Usage: python3 scripts/fraud/make_test_model.py FEATURE_NAMES_JSON
"""
import json
import os
import sys

import numpy as np
import xgboost as xgb

names = json.load(open(sys.argv[1]))
rows = []
labels = []
for user in (0, 1):
    for eids in range(8):
        x = np.zeros(len(names), dtype=np.float32)
        x[names.index("has_user_id")] = user
        x[names.index("eids")] = eids
        p = 0.99 if eids >= 5 else (0.10 if user else 0.70)
        rows.append(x)
        labels.append(p)
d = xgb.DMatrix(np.array(rows * 50), label=np.array(labels * 50), feature_names=names)
booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 1.0, "base_score": 0.5, "seed": 1}, d, num_boost_round=20)
out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "fraud", "rule-model.json")
booster.save_model(out)
print(booster.predict(xgb.DMatrix(np.array(rows), feature_names=names)))

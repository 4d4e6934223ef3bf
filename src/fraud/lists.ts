// The IP lists of tier 1: the data-center ranges (the shipped list, src/fraud/lists/datacenter.txt,
// or `fraud.datacenterListPath`) and the operator's blocklist (`fraud.ipBlocklistPath`). Read at
// worker start and again on an admin reload; a bad file is a config error naming the field and line.
import { readFileSync, statSync } from "node:fs";
import shippedDatacenterRanges from "./lists/datacenter.txt";
import { CidrError, CidrSet } from "./ip/cidr-set.ts";
import { ConfigError } from "../config/errors.ts";
import { FRAUD_LIMITS } from "./limits.ts";
import type { FraudSettings } from "./settings.ts";

export interface FraudLists {
  datacenter: CidrSet;
  blocklist: CidrSet;
}

export function loadFraudLists(settings: FraudSettings): FraudLists {
  const dc = settings.datacenterListPath;
  return {
    datacenter: dc === false ? CidrSet.empty() : dc === null ? parseList(shippedDatacenterRanges, "fraud.datacenterListPath", "(shipped list)") : readList(dc, "fraud.datacenterListPath"),
    blocklist: settings.ipBlocklistPath === null ? CidrSet.empty() : readList(settings.ipBlocklistPath, "fraud.ipBlocklistPath"),
  };
}

function readList(path: string, field: string): CidrSet {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > FRAUD_LIMITS.maxListBytes) throw new Error(`${size} bytes, at most ${FRAUD_LIMITS.maxListBytes}`);
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(field, `cannot read ${path}: ${(err as Error).message}`);
  }
  return parseList(text, field, path);
}

function parseList(text: string, field: string, source: string): CidrSet {
  try {
    return CidrSet.parse(text);
  } catch (err) {
    if (err instanceof CidrError) throw new ConfigError(field, `${source} line ${err.line}: ${err.message}`);
    throw err;
  }
}

// The ledger's SQLite schema (version 1) and its statements. Money columns are INTEGER micros
// (SQLite's 64-bit integers; SUM raises "integer overflow" rather than round). Tables are STRICT.
//
//   billable_events   one row per billable audit event, append-only (UPDATE/DELETE raise)
//     event_id UNIQUE: INSERT OR IGNORE makes a replayed event change nothing
//   daily_totals      per (day, advertiser_id, campaign_id, event_type): events, cost_micros
//     kept by trigger billable_events_totals, inside the inserting transaction, and only when
//     a row was really inserted (an ignored INSERT fires no trigger); equals the GROUP BY of the rows
//   campaign_day_totals   view: daily_totals pivoted to one row per (day, advertiser, campaign)
//   ledger_anomalies  invalid payloads and event_id conflicts (same id, other content), kept once

export const SCHEMA_VERSION = 1;

/** Event types the ledger stores; every other audit event is skipped. */
export const BILLABLE_TYPES = ["auction_result", "win_notice", "billing_notice", "loss_notice"] as const;
export type BillableType = (typeof BILLABLE_TYPES)[number];

const typeList = BILLABLE_TYPES.map((t) => `'${t}'`).join(", ");

export const SCHEMA_DDL = `
CREATE TABLE IF NOT EXISTS billable_events (
  seq              INTEGER PRIMARY KEY,
  event_id         TEXT    NOT NULL UNIQUE,
  event_type       TEXT    NOT NULL CHECK (event_type IN (${typeList})),
  request_id       TEXT,
  imp_id           TEXT,
  bid_id           TEXT,
  advertiser_id    TEXT    NOT NULL,
  campaign_id      TEXT,
  dsp_id           TEXT,
  win_price_micros INTEGER CHECK (win_price_micros >= 0),
  cost_micros      INTEGER CHECK (cost_micros >= 0),
  loss_reason      INTEGER,
  event_time       TEXT    NOT NULL,
  day              TEXT    NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  recorded_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  CHECK (event_type <> 'auction_result' OR (campaign_id IS NOT NULL AND bid_id IS NOT NULL AND cost_micros IS NOT NULL))
) STRICT;
CREATE INDEX IF NOT EXISTS billable_events_day ON billable_events (day, campaign_id);
CREATE INDEX IF NOT EXISTS billable_events_bid ON billable_events (bid_id);

CREATE TABLE IF NOT EXISTS daily_totals (
  day           TEXT    NOT NULL,
  advertiser_id TEXT    NOT NULL,
  campaign_id   TEXT    NOT NULL, -- '' for events without a campaign
  event_type    TEXT    NOT NULL,
  events        INTEGER NOT NULL CHECK (events >= 0),
  cost_micros   INTEGER NOT NULL CHECK (cost_micros >= 0),
  PRIMARY KEY (day, advertiser_id, campaign_id, event_type)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS billable_events_totals AFTER INSERT ON billable_events BEGIN
  INSERT INTO daily_totals (day, advertiser_id, campaign_id, event_type, events, cost_micros)
  VALUES (NEW.day, NEW.advertiser_id, COALESCE(NEW.campaign_id, ''), NEW.event_type, 1, COALESCE(NEW.cost_micros, 0))
  ON CONFLICT (day, advertiser_id, campaign_id, event_type)
  DO UPDATE SET events = events + 1, cost_micros = cost_micros + excluded.cost_micros;
END;
CREATE TRIGGER IF NOT EXISTS billable_events_no_update BEFORE UPDATE ON billable_events BEGIN
  SELECT RAISE(ABORT, 'billable_events is append-only');
END;
CREATE TRIGGER IF NOT EXISTS billable_events_no_delete BEFORE DELETE ON billable_events BEGIN
  SELECT RAISE(ABORT, 'billable_events is append-only');
END;

CREATE VIEW IF NOT EXISTS campaign_day_totals AS
SELECT day, advertiser_id, campaign_id,
  SUM(CASE WHEN event_type = 'auction_result' THEN events ELSE 0 END)      AS wins,
  SUM(CASE WHEN event_type = 'auction_result' THEN cost_micros ELSE 0 END) AS win_cost_micros,
  SUM(CASE WHEN event_type = 'win_notice' THEN events ELSE 0 END)          AS win_notices,
  SUM(CASE WHEN event_type = 'billing_notice' THEN events ELSE 0 END)      AS billing_notices,
  SUM(CASE WHEN event_type = 'billing_notice' THEN cost_micros ELSE 0 END) AS billed_cost_micros,
  SUM(CASE WHEN event_type = 'loss_notice' THEN events ELSE 0 END)         AS loss_notices
FROM daily_totals GROUP BY day, advertiser_id, campaign_id;

CREATE TABLE IF NOT EXISTS ledger_anomalies (
  anomaly_id    TEXT    PRIMARY KEY, -- sha256 of kind and payload: a replay adds nothing
  kind          TEXT    NOT NULL CHECK (kind IN ('invalid', 'conflict')),
  event_id      TEXT,
  reason        TEXT    NOT NULL,
  payload       TEXT    NOT NULL, -- cut to LEDGER_LIMITS.maxAnomalyPayloadBytes
  payload_bytes INTEGER NOT NULL,
  recorded_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT, WITHOUT ROWID;
`;

/** Columns a billable row is written with, in insert order. */
export const ROW_COLUMNS = [
  "event_id", "event_type", "request_id", "imp_id", "bid_id", "advertiser_id", "campaign_id", "dsp_id",
  "win_price_micros", "cost_micros", "loss_reason", "event_time", "day",
] as const;

export const INSERT_EVENT = `INSERT OR IGNORE INTO billable_events (${ROW_COLUMNS.join(", ")})
  VALUES (${ROW_COLUMNS.map((c) => `$${c}`).join(", ")})`;

export const SELECT_EVENT = `SELECT ${ROW_COLUMNS.join(", ")} FROM billable_events WHERE event_id = $event_id`;

export const INSERT_ANOMALY = `INSERT OR IGNORE INTO ledger_anomalies (anomaly_id, kind, event_id, reason, payload, payload_bytes)
  VALUES ($anomaly_id, $kind, $event_id, $reason, $payload, $payload_bytes)`;

/** Per campaign, the day's won cost (auction_result rows) from the totals table. */
export const CAMPAIGN_COSTS = `SELECT campaign_id, advertiser_id, events, cost_micros FROM daily_totals
  WHERE day = $day AND event_type = 'auction_result' ORDER BY campaign_id, advertiser_id`;

/** The totals recomputed from the rows: the self-check compares this with daily_totals. */
export const TOTALS_FROM_ROWS = `SELECT day, advertiser_id, COALESCE(campaign_id, '') AS campaign_id, event_type,
  COUNT(*) AS events, COALESCE(SUM(cost_micros), 0) AS cost_micros
  FROM billable_events GROUP BY day, advertiser_id, COALESCE(campaign_id, ''), event_type
  ORDER BY day, advertiser_id, campaign_id, event_type`;

export const TOTALS_FROM_TABLE = `SELECT day, advertiser_id, campaign_id, event_type, events, cost_micros
  FROM daily_totals ORDER BY day, advertiser_id, campaign_id, event_type`;

export const CAMPAIGN_DAY_TOTALS = `SELECT day, advertiser_id, campaign_id, wins, win_cost_micros, win_notices,
  billing_notices, billed_cost_micros, loss_notices FROM campaign_day_totals WHERE day = $day
  ORDER BY campaign_id, advertiser_id`;

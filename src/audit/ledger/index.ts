// The billing ledger: public API. See README.md beside this file.
export { Ledger, LedgerSchemaError, micros, type ApplyResult, type CampaignCost, type LedgerOptions, type TotalsRow } from "./ledger.ts";
export { classifyEvent, classifyPayload, utcDay, type BillableRow, type Classified } from "./billable.ts";
export { startOutboxLedgerFeeder, type FeederStats, type LedgerSink, type OutboxLedgerFeeder, type OutboxLedgerFeederOptions } from "./outbox-feeder.ts";
export { startKafkaLedgerConsumer, type KafkaLedgerConsumer, type KafkaLedgerConsumerOptions, type KafkaLedgerStats } from "./kafka-consumer.ts";
export { reconcile, formatDiscrepancy, type Discrepancy, type DiscrepancyKind, type Reconciliation, type ReconcileOptions } from "./reconcile.ts";
export { fetchBudgetSpend, parseReservedGauge, readBudgetFile, BudgetSourceError, RESERVED_GAUGE } from "./budget-source.ts";
export { runReconcileCommand, RECONCILE_USAGE, EXIT_OK, EXIT_DISCREPANCIES, EXIT_ERROR, type CommandIo } from "./reconcile-command.ts";
export { runConsumeCommand, CONSUME_USAGE } from "./consume-command.ts";
export { BILLABLE_TYPES, SCHEMA_VERSION } from "./sql.ts";
export { LEDGER_LIMITS, LEDGER_FILE, OUTBOX_CONSUMER, KAFKA_TOPIC, KAFKA_GROUP_ID } from "./limits.ts";

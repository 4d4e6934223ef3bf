// The first audit log: one append-only NDJSON file per worker under audit.dir, one line per
// request, written (to the OS) before the answer leaves. The durable, fsync'd, checksummed outbox
// and the Kafka relay replace this in their own issue; the event shape is kept there.
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";

export interface AuditLog {
  append(event: object): void;
  close(): void;
}

export function auditFilePath(dir: string, workerIndex: number): string {
  return join(dir, `auction-results.w${workerIndex}.ndjson`);
}

export function openAuditLog(dir: string, workerIndex: number): AuditLog {
  mkdirSync(dir, { recursive: true });
  const fd = openSync(auditFilePath(dir, workerIndex), "a");
  let open = true;
  return {
    append(event) {
      if (!open) throw new Error("audit log is closed");
      writeSync(fd, JSON.stringify(event) + "\n");
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

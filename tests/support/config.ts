// Config tests' shared check: the message a config is refused with.
import { parseConfig } from "../../src/config/load.ts";

/** parseConfig's error message for `raw`; throws when the config is accepted. */
export function configErrorOf(raw: unknown): string {
  try {
    parseConfig(raw);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("config was accepted");
}

import { budgetStoreSuite } from "./store.suite.ts";
import { MemoryGlobalStore, MemoryRegionStore } from "./memory.ts";

const stores = { region: new MemoryRegionStore(), global: new MemoryGlobalStore() };
budgetStoreSuite("embedded", () => stores);

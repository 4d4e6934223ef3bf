// Test fixture: a thread that lowers its own priority and posts back its thread id.
import { lowerThisThread } from "./thread-priority.ts";

declare const self: Worker;
self.postMessage(lowerThisThread("test"));

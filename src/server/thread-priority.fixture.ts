// Test fixture: a thread that lowers its own priority and posts back its thread id and the nice value
// the kernel now shows for it (read here, while the thread surely exists).
import { readFileSync } from "node:fs";
import { lowerThisThread } from "./thread-priority.ts";

declare const self: Worker;
const tid = lowerThisThread("test");
const nice = tid === 0 ? null : Number(readFileSync(`/proc/${process.pid}/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]);
self.postMessage({ tid, nice });
self.onmessage = () => {}; // stay until terminated

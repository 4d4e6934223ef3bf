// Where the worker entry point and embedded assets are, from the sources or inside a
// `bun build --compile` binary (see the `compile` script in package.json). In the binary, files
// live under Bun's virtual root with their paths from the project root, the worker compiled to .js.
export const BUNFS_ROOT = "/$bunfs/root";
export const IS_COMPILED = import.meta.url.startsWith(`file://${BUNFS_ROOT}/`);

export const WORKER_URL = IS_COMPILED
  ? `file://${BUNFS_ROOT}/src/server/worker.js`
  : new URL("./server/worker.ts", import.meta.url).href;

/** The audit consumer thread each worker starts (src/audit/consumers/thread.ts); embedded as an entry point too. */
export const CONSUMER_WORKER_URL = IS_COMPILED
  ? `file://${BUNFS_ROOT}/src/audit/consumers/thread.js`
  : new URL("./audit/consumers/thread.ts", import.meta.url).href;

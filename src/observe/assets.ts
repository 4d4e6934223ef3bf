// The dashboard page and its scripts, inlined as text at build time (Bun's `type: "text"` import),
// so `bun src/cli.ts` and the compiled binary serve the same bytes without reading node_modules.
// uPlot: a small (50 KB), fast canvas time-series chart; no CDN.
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import page from "./dashboard/dashboard.html" with { type: "text" };
import appJs from "./dashboard/app.js" with { type: "text" };
import promJs from "./dashboard/prom.js" with { type: "text" };
import pageCss from "./dashboard/dashboard.css" with { type: "text" };

export interface Asset { body: string; type: string }

const js = "text/javascript; charset=utf-8";
const css = "text/css; charset=utf-8";

/** Served under /dashboard/<name>; "" is the page itself. */
export const DASHBOARD_ASSETS: Readonly<Record<string, Asset>> = {
  "": { body: page as unknown as string, type: "text/html; charset=utf-8" },
  "app.js": { body: appJs, type: js },
  "prom.js": { body: promJs, type: js },
  "dashboard.css": { body: pageCss, type: css },
  "uPlot.iife.min.js": { body: uplotJs, type: js },
  "uPlot.min.css": { body: uplotCss, type: css },
};

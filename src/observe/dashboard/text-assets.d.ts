// The dashboard's static files are imported `with { type: "text" }` (assets.ts): Bun inlines their
// text into the bundle, so the one-binary compile carries them too. These say so to TypeScript.
declare module "uplot/dist/uPlot.iife.min.js" { const text: string; export default text; }
declare module "*.css" { const text: string; export default text; }

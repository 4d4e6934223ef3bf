// prom.js is browser code, served as text (see text-assets.d.ts); tests run it in the browser.
declare const text: string;
export default text;

// app.js is browser code, served as text (see text-assets.d.ts).
declare const text: string;
export default text;

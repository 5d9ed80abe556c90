// Loads pages of the built site in Debian's Chromium through
// playwright-core, at a desktop and a phone width, and reports for each:
// axe-core's serious and critical violations, whether the page scrolls
// sideways, and links smaller than 24x24 CSS pixels to tap (WCAG 2.2's
// target size, which axe leaves to experiments), and whether it reads in
// its direction (dir), with code left to right. Screenshots go to the
// directory given.
// Usage: node axe.mjs CHROMIUM SHOTS URL...
import { chromium } from "playwright-core";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const axePath = require.resolve("axe-core/axe.min.js");
const [exe, shots, ...urls] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: exe, args: ["--no-sandbox", "--disable-gpu"] });
let problems = 0;
for (const width of [1280, 390]) {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  for (const url of urls) {
    await page.goto(url, { waitUntil: "load" });
    await page.addScriptTag({ path: axePath });
    const result = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ["violations"] });
      return r.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
    });
    const small = await page.evaluate(() =>
      [...document.querySelectorAll("a.sig")]
        .map((a) => a.getBoundingClientRect())
        .filter((r) => r.width > 0 && (r.width < 24 || r.height < 24))
        .map((r) => `${Math.round(r.width)}x${Math.round(r.height)}`));
    if (small.length > 0) {
      console.log(`FAIL ${width}px ${url}: ${small.length} small links to tap (${small.slice(0, 3).join(", ")})`);
      problems++;
    }
    // The page reads in its language's direction; digests, commands and
    // file names in code read left to right in any.
    const dir = await page.evaluate(() => ({
      want: document.documentElement.getAttribute("dir") || "ltr",
      got: getComputedStyle(document.body).direction,
      rtlCode: [...document.querySelectorAll("code")].filter((c) => getComputedStyle(c).direction !== "ltr").length,
    }));
    if (dir.got !== dir.want || dir.rtlCode > 0) {
      console.log(`FAIL ${width}px ${url}: reads ${dir.got}, want ${dir.want}; ${dir.rtlCode} code elements right to left`);
      problems++;
    }
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    const name = new URL(url).pathname.replace(/\//g, "_") || "_";
    await page.screenshot({ path: `${shots}/${width}${name}.png`, fullPage: true });
    for (const v of result) {
      console.log(`FAIL ${width}px ${url}: ${v}`);
      problems++;
    }
    if (sideways) {
      const wide = await page.evaluate(() => {
        const w = window.innerWidth;
        const out = [...document.querySelectorAll("body *")]
          .filter((e) => e.getBoundingClientRect().right > w + 1 || e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === "visible")
          .slice(0, 4)
          .map((e) => e.tagName.toLowerCase() + (e.className ? "." + e.className : "") + " " + Math.round(e.getBoundingClientRect().right));
        return `${document.documentElement.scrollWidth}px wide in ${w}px: ${out.join(", ")}`;
      });
      console.log(`FAIL ${width}px ${url}: scrolls sideways (${wide})`);
      problems++;
    }
  }
  await page.close();
}
await browser.close();
console.log(`pages ${urls.length} x 2 widths, problems ${problems}`);
process.exit(problems ? 1 : 0);

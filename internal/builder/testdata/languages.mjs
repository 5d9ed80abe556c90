// Asks Netlify's own redirect engine (@netlify/redirects) for pages of a
// built site with a browser's Accept-Language, as Netlify would serve
// them: a rule's redirect, a rewrite's file, or the file at the path.
// Usage: node languages.mjs SITE 'PATH|ACCEPT-LANGUAGE|STATUS|WANT'...
// WANT is the Location of a redirect, or a string the page served holds.
import { RedirectsHandler } from '@netlify/redirects';
import fs from 'node:fs';
import path from 'node:path';

const site = path.resolve(process.argv[2]);
const h = new RedirectsHandler({ configRedirects: [], projectDir: site, publicDir: site, jwtRoleClaim: '', jwtSecret: '' });
const file = (p) => {
  p = path.join(site, decodeURIComponent(p));
  if (fs.existsSync(p) && fs.statSync(p).isDirectory()) p = path.join(p, 'index.html');
  return fs.existsSync(p) ? p : undefined;
};
const staticFile = async (req) => {
  const p = file(new URL(req.url).pathname);
  return p ? async () => new Response(fs.readFileSync(p), { status: 200 }) : undefined;
};
let failed = 0;
for (const c of process.argv.slice(3)) {
  const [p, accept, status, want] = c.split('|');
  const req = new Request('http://localhost' + p, { headers: accept ? { 'accept-language': accept } : {} });
  const m = await h.match(req);
  let res = m ? await h.handle(req, m, staticFile) : undefined;
  if (!res) {
    const f = file(p);
    res = f ? new Response(fs.readFileSync(f), { status: 200 }) : new Response('', { status: 404 });
  }
  const got = res.status === 200 ? await res.text() : (res.headers.get('location') ?? '').replace('http://localhost', '');
  const ok = String(res.status) === status && (res.status === 200 ? got.includes(want) : got === want);
  if (!ok) {
    failed++;
    console.log(`FAIL ${p} (Accept-Language: ${accept}): ${res.status} ${res.status === 200 ? got.slice(0, 80).replace(/\n/g, ' ') : got}, want ${status} ${want}`);
  }
}
console.log(`checked ${process.argv.length - 3}, failed ${failed}`);
process.exit(failed ? 1 : 0);

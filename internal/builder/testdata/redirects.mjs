// Checks a built site's /latest/ links with Netlify's own redirect engine
// (@netlify/redirects): every rule of _redirects, asked with and without a
// trailing slash, must answer 302 with the rule's target, even where a
// page exists at the same path. Usage: node redirects.mjs SITE
import { RedirectsHandler } from '@netlify/redirects';
import fs from 'node:fs';
import path from 'node:path';

const site = path.resolve(process.argv[2]);
const h = new RedirectsHandler({ configRedirects: [], projectDir: site, publicDir: site, jwtRoleClaim: '', jwtSecret: '' });
const staticFile = async (req) => {
  let p = path.join(site, decodeURIComponent(new URL(req.url).pathname));
  if (fs.existsSync(p) && fs.statSync(p).isDirectory()) p = path.join(p, 'index.html');
  if (!fs.existsSync(p)) return undefined;
  return async () => new Response(fs.readFileSync(p), { status: 200 });
};
let checked = 0, failed = 0;
for (const line of fs.readFileSync(path.join(site, '_redirects'), 'utf8').split('\n')) {
  const [from, to] = line.trim().split(/\s+/);
  if (!from || from.startsWith('#')) continue;
  for (const u of [from, from + '/']) {
    const req = new Request('http://localhost' + u);
    const m = await h.match(req);
    const res = m ? await h.handle(req, m, staticFile) : undefined;
    const status = res ? res.status : 'no rule';
    const location = res ? res.headers.get('location') : null;
    checked++;
    if (status !== 302 || location !== to) {
      failed++;
      console.log(`FAIL ${u}: ${status} ${location ?? ''}, want 302 ${to}`);
    }
  }
}
console.log(`checked ${checked}, failed ${failed}`);
process.exit(failed ? 1 : 0);

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { XMLParser } from 'fast-xml-parser';
import JSZip from 'jszip';
import type { JiraState, JiraUser } from './state.js';

/**
 * Jira Data Center's administration as an admin meets it, for apps installed from their jar:
 * sign-in (login.jsp and its session cookie), Settings → Apps (Manage apps) with the sidebar built
 * from each app's atlassian-plugin.xml (web-sections in admin_plugins_menu, their web-items), the
 * admin decorator around a servlet's page (its `decorator` and `admin.active.*` meta tags), the
 * apps' download web-resources, and their servlets: run by the app's own classes in a JDK harness
 * (packages/jira-app/harness), told who is signed in, as Jira's SAL would.
 * https://developer.atlassian.com/server/jira/platform/administration-ui-locations/
 */

export interface InstalledApp {
  key: string;
  name: string;
  version: string;
  description: string;
  sections: Array<{ key: string; label: string; weight: number; items: Array<{ key: string; linkId: string; label: string; link: string; weight: number }> }>;
  /** `<pluginKey>:<webResourceKey>` → download resources (a name ending in / is a folder of the jar). */
  resources: Map<string, Array<{ name: string; location: string }>>;
  servlets: Array<{ pattern: string; className: string }>;
  jar: JSZip;
}

interface RunningServlet {
  prefix: string;
  port: number;
  process: ChildProcess;
}

const SESSION_COOKIE = 'JSESSIONID';
/** Headers the harness reads as the signed-in user; a browser's own copies never pass. */
const USER_HEADER = 'x-jira-simulator-user';
const SYSADMIN_HEADER = 'x-jira-simulator-sysadmin';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

export class JiraAdminShell {
  readonly apps: InstalledApp[] = [];
  private readonly servlets: RunningServlet[] = [];
  private readonly sessions = new Map<string, string>();

  constructor(private readonly state: () => JiraState) {}

  /**
   * Installs an app from its jar, as Manage apps → Upload app does, and starts its servlets in the
   * harness (`java -cp <harnessClasspath> com.exalate.jira.harness.JiraServletHarness`).
   */
  async install(o: { jar: string; harnessClasspath: string; baseUrl: string; java?: string }): Promise<InstalledApp> {
    const zip = await JSZip.loadAsync(readFileSync(o.jar));
    const descriptorFile = zip.file('atlassian-plugin.xml');
    if (!descriptorFile) throw new Error(`${o.jar} is not a Jira app: it has no atlassian-plugin.xml`);
    const app = await parseDescriptor(await descriptorFile.async('string'), zip);
    for (const servlet of app.servlets) {
      const prefix = `/plugins/servlet${servlet.pattern.replace(/\/\*$/, '')}`;
      const child = spawn(
        o.java ?? 'java',
        ['-cp', o.harnessClasspath, 'com.exalate.jira.harness.JiraServletHarness', o.jar, servlet.className, servlet.pattern, o.baseUrl],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.stderr!.on('data', (d: Buffer) => void (err = (err + d.toString()).slice(-4000)));
        child.on('error', reject);
        child.on('exit', (code) => reject(new Error(`the servlet harness of ${app.key} ended (exit ${code}) before serving: ${err}`)));
      });
      child.stdout!.resume();
      child.stderr!.resume();
      this.servlets.push({ prefix, port, process: child });
    }
    this.apps.push(app);
    return app;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servlets.splice(0).map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.process.exitCode !== null) return resolve();
            s.process.once('exit', () => resolve());
            s.process.kill();
          }),
      ),
    );
  }

  /** Who the session cookie belongs to. */
  signedIn(req: Request): JiraUser | undefined {
    const cookie = /(?:^|;\s*)JSESSIONID=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '')?.[1];
    const name = cookie ? this.sessions.get(cookie) : undefined;
    return name ? this.state().users.find((u) => u.name === name && u.active) : undefined;
  }

  private isSysadmin(user: JiraUser): boolean {
    return (this.state().systemAdministrators ?? []).includes(user.name);
  }

  /** Pages, resources and app servlets: before the REST API's authentication (they use the session cookie). */
  pages(): Router {
    const r = express.Router({ caseSensitive: true });
    const form = express.urlencoded({ extended: false, limit: '8kb' });

    r.get('/login.jsp', (req, res) => res.type('html').send(loginPage(String(req.query['os_destination'] ?? ''), null)));
    r.post('/login.jsp', form, (req, res) => {
      const body = req.body as Record<string, string>;
      const destination = safeDestination(body['os_destination']);
      const cred = this.state().credentials.find((c) => c.kind === 'password' && c.login === body['os_username'] && c.secret === body['os_password']);
      const user = cred && this.state().users.find((u) => u.accountId === cred.accountId && u.active);
      if (!user) return res.status(401).type('html').send(loginPage(destination, 'Sorry, your username and password are incorrect - please try again.'));
      const id = randomBytes(18).toString('base64url');
      this.sessions.set(id, user.name);
      res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`);
      res.redirect(303, destination);
    });
    r.get('/logout', (req, res) => {
      const cookie = /(?:^|;\s*)JSESSIONID=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '')?.[1];
      if (cookie) this.sessions.delete(cookie);
      res.redirect(303, '/login.jsp');
    });

    // Settings → Apps: Manage apps (UPM), for system administrators.
    r.get('/plugins/servlet/upm', (req, res) => {
      const user = this.signedIn(req);
      if (!user) return res.redirect(302, `/login.jsp?os_destination=${encodeURIComponent(req.originalUrl)}`);
      if (!this.isSysadmin(user))
        return res
          .status(403)
          .type('html')
          .send(
            this.decorate(user, 'Manage apps', '<p role="alert">You do not have permission to manage apps. Only Jira system administrators can.</p>', null),
          );
      const rows = this.apps
        .map(
          (a) =>
            `<li data-app="${escapeHtml(a.key)}"><strong>${escapeHtml(a.name)}</strong> ${escapeHtml(a.version)}<br><span class="sim-hint">${escapeHtml(a.description)}</span></li>`,
        )
        .join('');
      res
        .type('html')
        .send(
          this.decorate(
            user,
            'Manage apps',
            `<h1>Manage apps</h1><p>User-installed apps</p><ul class="sim-apps">${rows || '<li>No apps installed.</li>'}</ul>`,
            'upm-admin-link',
          ),
        );
    });

    // Download web-resources: only what a web-resource of an installed app lists.
    r.get('/download/resources/:complete/*path', async (req, res) => {
      const complete = String(req.params['complete']);
      const path = posix.normalize(([] as string[]).concat(req.params['path'] as unknown as string[]).join('/'));
      for (const app of this.apps) {
        for (const resource of app.resources.get(complete) ?? []) {
          const inside = resource.name.endsWith('/')
            ? path.startsWith(resource.name)
              ? resource.location + path.slice(resource.name.length)
              : null
            : path === resource.name
              ? resource.location
              : null;
          const file = inside && !inside.split('/').includes('..') ? app.jar.file(inside) : null;
          if (!file) continue;
          res.type(posix.extname(path) || 'application/octet-stream').setHeader('Cache-Control', 'no-cache');
          return void res.send(await file.async('nodebuffer'));
        }
      }
      res.status(404).type('text/plain').send('Not found: no installed app has this web resource.');
    });

    // App servlets, with Jira's sitemesh decorator around their pages.
    r.use('/plugins/servlet', (req, res, next) => {
      const full = `/plugins/servlet${req.path}`;
      const servlet = this.servlets.find((s) => full === s.prefix || full.startsWith(`${s.prefix}/`));
      if (!servlet) return next();
      this.forward(req, res, servlet);
    });
    return r;
  }

  private forward(req: Request, res: Response, servlet: RunningServlet): void {
    const user = this.signedIn(req);
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name === USER_HEADER || name === SYSADMIN_HEADER || name === 'accept-encoding') continue;
      headers[name] = value;
    }
    if (user) {
      headers[USER_HEADER] = user.name;
      headers[SYSADMIN_HEADER] = String(this.isSysadmin(user));
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: servlet.port, method: req.method, path: req.originalUrl, headers }, (answer) => {
      const type = String(answer.headers['content-type'] ?? '');
      if (!type.startsWith('text/html')) {
        res.status(answer.statusCode ?? 502);
        for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && k !== 'transfer-encoding' && k !== 'connection') res.setHeader(k, v);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const html = Buffer.concat(chunks).toString('utf8');
        res
          .status(answer.statusCode ?? 200)
          .type('html')
          .setHeader('Cache-Control', 'no-store');
        res.send(this.sitemesh(html, user));
      });
    });
    upstream.on('error', (error) => res.status(502).type('text/plain').send(`The app's servlet did not answer: ${error.message}`));
    req.pipe(upstream);
  }

  /** Sitemesh: a page that names a decorator gets Jira's chrome around its body, its head kept. */
  private sitemesh(html: string, user: JiraUser | undefined): string {
    const meta = (name: string) => new RegExp(`<meta name="${name.replace(/\./g, '\\.')}" content="([^"]*)"`).exec(html)?.[1] ?? null;
    const decorator = meta('decorator');
    if (!decorator || !user) return html;
    const title = /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? 'Jira';
    const head = /<head>([\s\S]*?)<\/head>/.exec(html)?.[1] ?? '';
    const body = /<body[^>]*>([\s\S]*?)<\/body>/.exec(html)?.[1] ?? html;
    if (decorator !== 'atl.admin') return this.decorate(user, title, body, null, head, false);
    return this.decorate(user, title, body, meta('admin.active.tab'), head);
  }

  private decorate(user: JiraUser, title: string, body: string, activeTab: string | null, head = '', admin = true): string {
    const sidebar = admin
      ? `<nav class="sim-sidebar" aria-label="Apps administration">
          <h2>Atlassian Marketplace</h2><ul><li><a href="/plugins/servlet/upm" ${activeTab === 'upm-admin-link' ? 'aria-current="page"' : ''}>Manage apps</a></li></ul>
          ${this.apps
            .flatMap((a) => a.sections)
            .sort((x, y) => x.weight - y.weight)
            .map(
              (s) =>
                `<h2 data-section="${escapeHtml(s.key)}">${escapeHtml(s.label)}</h2><ul>${s.items.map((i) => `<li><a id="${escapeHtml(i.linkId)}" href="${escapeHtml(i.link)}" ${activeTab === i.linkId ? 'aria-current="page"' : ''}>${escapeHtml(i.label)}</a></li>`).join('')}</ul>`,
            )
            .join('')}
        </nav>`
      : '';
    return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title} - ${escapeHtml(this.state().serverTitle)}</title>${head}<style>${SHELL_CSS}</style></head>
<body class="sim-jira"><header class="sim-header"><a class="sim-logo" href="/">Jira</a><span class="sim-server">${escapeHtml(this.state().serverTitle)}</span>
<nav aria-label="Settings" class="sim-settings"><span>Settings</span> <a href="/plugins/servlet/upm">Apps</a></nav><span class="sim-user" data-user="${escapeHtml(user.name)}">${escapeHtml(user.displayName)}</span> <a href="/logout">Log out</a></header>
${admin ? '<div class="sim-admin-title">Administration <span aria-hidden="true">›</span> Apps</div>' : ''}
<div class="sim-layout">${sidebar}<main class="sim-main">${body}</main></div></body></html>`;
  }
}

/** The parts of atlassian-plugin.xml the shell shows and runs; labels from the app's i18n resource. */
async function parseDescriptor(xml: string, jar: JSZip): Promise<InstalledApp> {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    textNodeName: 'text',
    isArray: (name) => ['web-section', 'web-item', 'web-resource', 'resource', 'servlet', 'url-pattern', 'param'].includes(name),
  });
  const root = (parser.parse(xml) as { 'atlassian-plugin'?: Record<string, unknown> })['atlassian-plugin'];
  if (!root) throw new Error('atlassian-plugin.xml has no <atlassian-plugin> element');
  const key = String(root['key']);
  const info = (root['plugin-info'] ?? {}) as Record<string, unknown>;
  const i18n = list(root['resource'] as Array<Record<string, string>> | undefined).find((r) => r['type'] === 'i18n');
  const labels = new Map<string, string>();
  const properties = i18n ? jar.file(`${i18n['location']!.replace(/\./g, '/')}.properties`) : null;
  if (properties)
    for (const line of (await properties.async('string')).split(/\r?\n/)) {
      const m = /^\s*([^#!=\s][^=]*?)\s*=\s*(.*)$/.exec(line);
      if (m) labels.set(m[1]!, m[2]!);
    }
  const label = (el: Record<string, unknown>) => {
    const l = el['label'] as Record<string, string> | string | undefined;
    if (typeof l === 'string') return l;
    return (l?.['key'] && labels.get(l['key'])) || l?.['key'] || String(el['name'] ?? el['key']);
  };
  const items = list(root['web-item'] as Array<Record<string, unknown>> | undefined);
  const sections = list(root['web-section'] as Array<Record<string, unknown>> | undefined)
    .filter((s) => s['location'] === 'admin_plugins_menu')
    .map((s) => ({
      key: String(s['key']),
      label: label(s),
      weight: Number(s['weight'] ?? 100),
      items: items
        .filter((i) => i['section'] === `admin_plugins_menu/${s['key']}`)
        .map((i) => {
          const link = i['link'] as Record<string, string> | string;
          return {
            key: String(i['key']),
            linkId: (typeof link === 'string' ? undefined : link['linkId']) ?? String(i['key']),
            label: label(i),
            link: typeof link === 'string' ? link : String(link['text'] ?? ''),
            weight: Number(i['weight'] ?? 100),
          };
        })
        .sort((a, b) => a.weight - b.weight),
    }))
    // Jira shows a section only once it holds an item.
    .filter((s) => s.items.length);
  const resources = new Map<string, Array<{ name: string; location: string }>>();
  for (const wr of list(root['web-resource'] as Array<Record<string, unknown>> | undefined)) {
    resources.set(
      `${key}:${wr['key']}`,
      list(wr['resource'] as Array<Record<string, string>> | undefined)
        .filter((r) => r['type'] === 'download')
        .map((r) => ({ name: r['name']!, location: r['location']! })),
    );
  }
  const servlets = list(root['servlet'] as Array<Record<string, unknown>> | undefined).flatMap((s) =>
    list(s['url-pattern'] as string[] | undefined).map((pattern) => ({ pattern: String(pattern), className: String(s['class']) })),
  );
  return {
    key,
    name: String(root['name'] ?? key),
    version: String(info['version'] ?? ''),
    description: String(info['description'] ?? ''),
    sections,
    resources,
    servlets,
    jar,
  };
}

function safeDestination(d: string | undefined): string {
  // Only a path of this Jira: never an open redirect.
  return d && d.startsWith('/') && !d.startsWith('//') ? d : '/plugins/servlet/upm';
}

function loginPage(destination: string, error: string | null): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Log in - Jira</title><style>${SHELL_CSS}</style></head><body class="sim-jira">
<main class="sim-login"><h1>Log in to Jira</h1>${error ? `<p role="alert" class="sim-error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login.jsp"><input type="hidden" name="os_destination" value="${escapeHtml(safeDestination(destination))}">
<label for="login-form-username">Username</label><input id="login-form-username" name="os_username" autocomplete="username" required>
<label for="login-form-password">Password</label><input id="login-form-password" name="os_password" type="password" autocomplete="current-password" required>
<button type="submit" id="login-form-submit">Log In</button></form></main></body></html>`;
}

const SHELL_CSS = `
body.sim-jira{margin:0;font:14px/20px -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,sans-serif;color:#172b4d;background:#fff}
.sim-header{display:flex;gap:1rem;align-items:center;padding:0 1rem;height:3.5rem;background:#0747a6;color:#fff}
.sim-header a{color:#fff}.sim-logo{font-weight:700;font-size:1.1rem;text-decoration:none}.sim-settings{margin-left:auto}
.sim-admin-title{padding:.75rem 1.5rem;font-size:1.25rem;border-bottom:1px solid #dfe1e6}
.sim-layout{display:flex;flex-wrap:wrap;gap:1.5rem;padding:1rem 1.5rem}
.sim-sidebar{flex:0 0 14rem}.sim-sidebar h2{font-size:.75rem;text-transform:uppercase;color:#5e6c84;margin:1rem 0 .25rem}
.sim-sidebar ul{list-style:none;margin:0;padding:0}.sim-sidebar a{display:block;padding:.25rem .5rem;color:#42526e;text-decoration:none;border-radius:3px}
.sim-sidebar a[aria-current]{background:#deebff;color:#0052cc;font-weight:600}
.sim-main{flex:1 1 30rem;min-width:0}.sim-hint{color:#5e6c84}
.sim-login{max-width:24rem;margin:4rem auto;display:flex;flex-direction:column;gap:.5rem}.sim-login form{display:flex;flex-direction:column;gap:.5rem}.sim-error{color:#ae2e24}`;

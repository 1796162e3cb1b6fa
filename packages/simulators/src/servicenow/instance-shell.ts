import { randomBytes } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { credentials } from '../common/http.js';
import type { AppModule, RestApi, RestOperation, ServiceNowApp } from './app-records.js';
import type { BridgeAnswer, BridgeRequest, ScriptRequest } from './script-bridge.js';
import { runServerScript, ScriptFailure } from './script-runtime.js';

/**
 * A ServiceNow instance as a signed-in admin meets it, for applications installed from their
 * update set: sign-in (login.do, its session cookie and the session token every page gets as
 * `g_ck`), Next Experience's unified navigation (the All menu: a filter, each application menu and
 * its modules, shown by role) around the classic content frame, UI pages at `/<name>.do` in the
 * platform's page template, the applications' static assets, and their Scripted REST APIs at
 * `/api/<namespace>/<service id>/…`: authenticated by session (with X-UserToken) or basic auth,
 * refused by ACL, and run by the application's own scripts (script-worker.ts).
 */
export interface ShellUser {
  sys_id: string;
  user_name: string;
  password: string;
  name: string;
  roles: string[];
}

/** What the shell needs of the instance: its users, its tables and its log. */
export interface InstanceServices {
  users(): ShellUser[];
  instanceName(): string;
  tableOps(user: ShellUser): {
    query(table: string, encoded: string, limit: number | null): Array<Record<string, string>>;
    insert(table: string, values: Record<string, string>): string;
    update(table: string, sysId: string, values: Record<string, string>): void;
    delete(table: string, sysId: string): void;
  };
  createTable(name: string, columns: string[]): void;
  log(level: string, message: string, scope: string): void;
}

const SESSION_COOKIE = 'JSESSIONID';
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const failure = (res: Response, status: number, message: string, detail: string) => res.status(status).json({ error: { message, detail }, status: 'failure' });

interface Session {
  userName: string;
  token: string;
}

export class InstanceShell {
  readonly apps: ServiceNowApp[] = [];
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly services: InstanceServices) {}

  /** Commits an application's update set: its records, its roles (admin gets what admin contains) and its tables. */
  install(app: ServiceNowApp): void {
    if (!app.scope.startsWith('x_')) throw new Error(`a scoped application's scope starts with x_ (this one is "${app.scope}")`);
    this.apps.splice(0, this.apps.length, ...this.apps.filter((a) => a.scope !== app.scope), app);
    for (const table of app.tables)
      this.services.createTable(
        table.name,
        table.columns.map((c) => c.element),
      );
  }

  /** Grants a role directly (User administration → Roles). */
  grant(userName: string, role: string): void {
    const user = this.services.users().find((u) => u.user_name === userName);
    if (!user) throw new Error(`no user ${userName}`);
    if (!user.roles.includes(role)) user.roles.push(role);
  }

  /** A user's roles with everything they contain (admin contains the roles the apps grant it). */
  effectiveRoles(user: ShellUser): string[] {
    const all = new Set(user.roles);
    let grew = true;
    while (grew) {
      grew = false;
      for (const c of this.apps.flatMap((a) => a.contains)) {
        if (all.has(c.role) && !all.has(c.contains)) {
          all.add(c.contains);
          grew = true;
        }
      }
    }
    return [...all];
  }

  private hasRole(user: ShellUser, roles: string[]): boolean {
    if (!roles.length) return true;
    const mine = this.effectiveRoles(user);
    // The admin role passes every role check, as on the platform.
    return mine.includes('admin') || roles.some((r) => mine.includes(r));
  }

  private session(req: Request): { user: ShellUser; session: Session } | null {
    const id = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([A-Za-z0-9_-]+)`).exec(req.headers.cookie ?? '')?.[1];
    const session = id ? this.sessions.get(id) : undefined;
    const user = session ? this.services.users().find((u) => u.user_name === session.userName) : undefined;
    return user && session ? { user, session } : null;
  }

  /** Pages, assets and the applications' REST APIs: before the Table API's own authentication. */
  router(): Router {
    const r = express.Router({ caseSensitive: true });
    const form = express.urlencoded({ extended: false, limit: '8kb' });
    const signIn = (req: Request, res: Response) => res.redirect(302, `/login.do?sysparm_goto=${encodeURIComponent(req.originalUrl)}`);

    r.get('/login.do', (req, res) => res.type('html').send(loginPage(String(req.query['sysparm_goto'] ?? ''), null)));
    r.post('/login.do', form, (req, res) => {
      const body = req.body as Record<string, string>;
      const user = this.services.users().find((u) => u.user_name === body['user_name'] && u.password === body['user_password']);
      const goto = safeGoto(body['sysparm_goto']);
      if (!user) return res.status(401).type('html').send(loginPage(goto, 'User name or password invalid'));
      const id = randomBytes(18).toString('base64url');
      this.sessions.set(id, { userName: user.user_name, token: randomBytes(24).toString('hex') });
      res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`);
      res.redirect(303, goto);
    });
    r.get('/logout.do', (req, res) => {
      const id = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([A-Za-z0-9_-]+)`).exec(req.headers.cookie ?? '')?.[1];
      if (id) this.sessions.delete(id);
      res.redirect(303, '/login.do');
    });

    r.get(['/', '/navpage.do', '/now/nav/ui/home'], (req, res) => {
      const s = this.session(req);
      if (!s) return signIn(req, res);
      res.type('html').send(this.navigation(s.user, null));
    });
    // Unified navigation around a classic page: /now/nav/ui/classic/params/target/<encoded URL>.
    r.get(/^\/now\/nav\/ui\/classic\/params\/target\/(.+)$/, (req, res) => {
      const s = this.session(req);
      if (!s) return signIn(req, res);
      const target = safeGoto(`/${decodeURIComponent((req.params as Record<string, string>)[0] ?? '').replace(/^\/+/, '')}`);
      res.type('html').send(this.navigation(s.user, target));
    });

    r.get(/^\/([A-Za-z0-9_]+\.do)$/, (req, res, next) => {
      const endpoint = (req.params as Record<string, string>)[0]!;
      const page = this.apps.flatMap((a) => a.pages).find((p) => p.endpoint === endpoint);
      if (!page) return next();
      const s = this.session(req);
      if (!s) return signIn(req, res);
      res.setHeader('Cache-Control', 'no-store');
      try {
        res.type('html').send(renderJelly(page.html, { sessionToken: s.session.token, direct: page.direct, title: page.name }));
      } catch (error) {
        res
          .status(500)
          .type('html')
          .send(`<p role="alert">The UI page ${escapeHtml(page.name)} could not be rendered: ${escapeHtml((error as Error).message)}</p>`);
      }
    });

    r.get(/^\/uxasset\/externals\/(.+)$/, (req, res) => {
      const name = (req.params as Record<string, string>)[0]!;
      const asset = this.apps.flatMap((a) => a.assets).find((x) => x.name === name);
      if (asset) return void res.type(asset.contentType).send(asset.content);
      // The platform's own libraries (the UX framework) are not simulated: an empty module stands in.
      if (name.startsWith('@devsnc/')) return void res.type('application/javascript').send('export {};');
      res.status(404).end();
    });
    r.get(/^\/uxasset\/set-cache-buster\/[0-9]+\.js$/, (_req, res) => void res.type('application/javascript').send(''));
    r.get('/$uxappimmutables.do', (_req, res) => void res.type('text/css').send(POLARIS_THEME_CSS));

    r.all(/^\/api\/(x_[a-z0-9_]+)\/([A-Za-z0-9_]+)(\/.*)?$/, express.text({ type: () => true, limit: '10mb' }), (req, res, next) => {
      void this.rest(req, res).catch(next);
    });
    return r;
  }

  private async rest(req: Request, res: Response): Promise<void> {
    const params = req.params as Record<string, string>;
    const [namespace, serviceId, rest] = [params[0]!, params[1]!, params[2] ?? '/'];
    const api = this.apps.flatMap((a) => a.apis).find((x) => x.active && x.namespace === namespace && x.serviceId === serviceId);
    if (!api) return void failure(res, 400, 'Requested URI does not represent any resource', `No Scripted REST API at /api/${namespace}/${serviceId}.`);
    const found = this.operation(api, req.method === 'HEAD' ? 'GET' : req.method, rest);
    if (!found) return void failure(res, 405, 'Method not Supported', `The ${api.name} API has no ${req.method} resource at ${rest}.`);
    const { operation, pathParams } = found;
    const app = this.apps.find((a) => a.apis.includes(api))!;

    let user: ShellUser | undefined;
    let token = '';
    if (operation.requiresAuthentication) {
      const cred = credentials(req);
      const s = this.session(req);
      if (cred?.scheme === 'basic') {
        user = this.services.users().find((u) => u.user_name === cred.user && u.password === cred.password);
      } else if (s) {
        // A session call must carry the session's token: a cross-site form or another origin has neither.
        if (req.headers['x-usertoken'] !== s.session.token) return void failure(res, 401, 'User Not Authenticated', 'Required to provide Auth information');
        user = s.user;
        token = s.session.token;
      }
      if (!user) {
        res.setHeader('WWW-Authenticate', 'BASIC realm="Service-now"');
        return void failure(res, 401, 'User Not Authenticated', 'Required to provide Auth information');
      }
      if (operation.requiresAcl) {
        const acls = (operation.enforceAcl.length ? operation.enforceAcl : api.enforceAcl)
          .map((id) => app.acls.find((a) => a.sysId === id || a.name === id))
          .filter((a) => a && a.active);
        if (acls.length && !acls.some((a) => this.hasRole(user!, a!.roles)))
          return void failure(res, 403, 'User Not Authorized', `The user ${user.user_name} has none of the roles the ${api.name} API's ACL requires.`);
      }
    } else {
      user = { sys_id: 'guest', user_name: 'guest', password: '', name: 'Guest', roles: [] };
    }

    const url = new URL(req.originalUrl, `${req.protocol}://${req.get('host')}`);
    const queryParams: Record<string, string[]> = {};
    for (const [k, v] of url.searchParams) (queryParams[k] ??= []).push(v);
    const request: ScriptRequest = {
      method: req.method,
      uri: url.pathname,
      url: url.href,
      queryString: url.search.slice(1),
      pathParams,
      queryParams,
      headers: Object.fromEntries(
        Object.entries(req.headers)
          .filter(([k]) => k !== 'cookie')
          .map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]),
      ),
      body: typeof req.body === 'string' && req.body.length ? req.body : null,
    };
    const actor = user;
    const tables = this.services.tableOps(actor);
    const handlers = async (ask: BridgeRequest): Promise<BridgeAnswer> => {
      switch (ask.op) {
        case 'query': {
          const encoded = [
            ...ask.conditions.map((c) => `${c.field}${c.operator === '=' ? '=' : c.operator}${c.value}`),
            ...ask.encoded,
            ...ask.orderBy.map((o) => `${o.descending ? 'ORDERBYDESC' : 'ORDERBY'}${o.field}`),
          ].join('^');
          return { ok: true, rows: tables.query(ask.table, encoded, ask.limit) };
        }
        case 'insert':
          return { ok: true, sysId: tables.insert(ask.table, ask.values) };
        case 'update':
          tables.update(ask.table, ask.sysId, ask.values);
          return { ok: true };
        case 'delete':
          tables.delete(ask.table, ask.sysId);
          return { ok: true };
        case 'log':
          this.services.log(ask.level, ask.message, app.scope);
          return { ok: true };
        case 'http': {
          const answer = await fetch(ask.url, {
            method: ask.method,
            headers: ask.headers,
            redirect: 'manual',
            signal: AbortSignal.timeout(ask.timeoutMs),
            ...(ask.body === null ? {} : { body: ask.body }),
          });
          return { ok: true, status: answer.status, headers: Object.fromEntries(answer.headers.entries()), body: await answer.text() };
        }
      }
    };
    const instanceUrl = `${req.protocol}://${req.get('host')}/`;
    try {
      const outcome = await runServerScript(
        {
          script: operation.script,
          includes: app.includes.filter((i) => i.active).map((i) => ({ name: i.name, script: i.script })),
          scope: app.scope,
          request,
          user: { sysId: actor.sys_id, userName: actor.user_name, name: actor.name, roles: this.effectiveRoles(actor) },
          properties: { 'glide.servlet.uri': instanceUrl, instance_name: this.services.instanceName() },
          sessionToken: token,
        },
        handlers,
      );
      for (const [k, v] of Object.entries(outcome.headers)) res.setHeader(k, v);
      res.status(outcome.status);
      if (outcome.status === 204 || !outcome.body) return void res.end();
      if (!outcome.headers['content-type']) res.type('application/json');
      res.send(outcome.body);
    } catch (error) {
      if (error instanceof ScriptFailure) return void failure(res, 500, 'Script Evaluation Exception', error.message);
      throw error;
    }
  }

  private operation(api: RestApi, method: string, path: string): { operation: RestOperation; pathParams: Record<string, string> } | null {
    const want = path.replace(/\/+$/, '') || '/';
    for (const operation of this.apps.flatMap((a) => a.operations)) {
      if (operation.api !== api.sysId || !operation.active || operation.method !== method) continue;
      const names: string[] = [];
      const pattern = (operation.relativePath.replace(/\/+$/, '') || '/')
        .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
        .replace(/\{([A-Za-z0-9_]+)\}/g, (_m, n: string) => (names.push(n), '([^/]+)'));
      const m = new RegExp(`^${pattern}$`).exec(want);
      if (m) return { operation, pathParams: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) };
    }
    return null;
  }

  /** Next Experience's unified navigation: the header, the All menu (filter, menus, modules by role) and the content frame. */
  private navigation(user: ShellUser, target: string | null): string {
    const menus = this.apps
      .flatMap((a) => a.menus.map((m) => ({ m, modules: a.modules })))
      .filter(({ m }) => m.active && this.hasRole(user, m.roles))
      .sort((x, y) => x.m.order - y.m.order)
      .map(({ m, modules }) => {
        const items = modules
          .filter((mod) => mod.application === m.sysId && mod.active && this.hasRole(user, mod.roles))
          .sort((x, y) => x.order - y.order)
          .map(
            (mod) => `<li><a class="sn-module" href="${escapeHtml(moduleHref(mod))}" data-module="${escapeHtml(mod.title)}">${escapeHtml(mod.title)}</a></li>`,
          )
          .join('');
        return `<li class="sn-app" data-menu="${escapeHtml(m.title)}"><span class="sn-app-title">${escapeHtml(m.title)}</span><ul>${items}</ul></li>`;
      })
      .join('');
    const frame = target
      ? `<iframe id="gsft_main" name="gsft_main" title="Main Content" src="${escapeHtml(target)}"></iframe>`
      : `<main class="sn-home"><h1>Welcome, ${escapeHtml(user.name)}</h1><p>Open <strong>All</strong> to find an application.</p></main>`;
    return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>ServiceNow</title><style>${SHELL_CSS}</style></head>
<body class="sn-polaris"><header class="sn-header"><span class="sn-logo">servicenow</span>
<button type="button" class="sn-all" aria-expanded="true" aria-controls="sn-navigator">All</button>
<span class="sn-instance">${escapeHtml(this.services.instanceName())}</span><span class="sn-user" data-user="${escapeHtml(user.user_name)}">${escapeHtml(user.name)}</span> <a href="/logout.do">Log out</a></header>
<div class="sn-layout"><nav id="sn-navigator" class="sn-navigator" aria-label="All menu"><input type="search" id="sn-filter" placeholder="Filter" aria-label="Filter navigator">
<ul class="sn-apps">${menus || '<li class="sn-empty">No applications</li>'}</ul></nav>${frame}</div>
<script>${NAVIGATOR_SCRIPT}</script></body></html>`;
  }
}

/** Where a module leads: its URL inside the content frame, as unified navigation opens classic pages. */
function moduleHref(mod: AppModule): string {
  const target = mod.query.startsWith('/') ? mod.query : `/${mod.query}`;
  return `/now/nav/ui/classic/params/target/${encodeURIComponent(target.slice(1))}`;
}

/**
 * A UI page's Jelly, rendered as the platform renders the parts a page built by the SDK uses:
 * `$[…]` expressions for the session token, the UX cache stamp, the theme key and `AMP`;
 * `<g:requires>` (the platform's own scripts, not simulated: left as a comment) and
 * `<g2:client_script>`. Anything else is refused, so a page needing more fails here as it would
 * look broken there. A non-direct page gets the platform's template with `g_ck` around it.
 */
export function renderJelly(html: string, o: { sessionToken: string; direct: boolean; title: string }): string {
  const values: Record<string, string> = {
    'gs.getSession().getSessionToken() || gs.getSessionToken()': o.sessionToken,
    'gs.getSessionToken()': o.sessionToken,
    'UxFrameworkScriptables.getFlushTimestamp()': '1700000000000',
    'sn_ui.PolarisUI.getThemeVariableCssCacheKey()': 'simulated',
    AMP: '&',
  };
  let out = html.replace(/^\s*<\?xml[^>]*\?>\s*/, '');
  const jelly = /^<j:jelly\b[^>]*>([\s\S]*)<\/j:jelly>\s*$/.exec(out.trim());
  if (jelly) out = jelly[1]!;
  out = out.replace(/[$][[{]([^\]}]*)[\]}]/g, (_m, expression: string) => {
    const value = values[expression.trim()];
    if (value === undefined) throw new Error(`the Jelly expression ${expression} is not one this instance evaluates`);
    return value;
  });
  out = out.replace(
    /<g:requires name="([^"]+)"\s*(?:\/>|><\/g:requires>)/g,
    (_m, name: string) => `<!-- g:requires ${escapeHtml(name)} (a platform script) -->`,
  );
  out = out.replace(/<g2:client_script\b[^>]*(?:\/>|><\/g2:client_script>)/g, '');
  const tag = /<\/?([gj]2?):([A-Za-z_]+)/.exec(out);
  if (tag) throw new Error(`the UI page uses the Jelly tag <${tag[1]}:${tag[2]}>, which this instance does not render`);
  if (o.direct) return out.trimStart().startsWith('<!DOCTYPE') ? out : `<!DOCTYPE html>${out}`;
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(o.title)} | ServiceNow</title><script>window.g_ck = ${JSON.stringify(o.sessionToken)};</script></head><body>${out}</body></html>`;
}

function safeGoto(goto: string | undefined): string {
  // Only a path of this instance: never an open redirect.
  return goto && goto.startsWith('/') && !goto.startsWith('//') ? goto : '/now/nav/ui/home';
}

function loginPage(goto: string, error: string | null): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Log in | ServiceNow</title><style>${SHELL_CSS}</style></head><body class="sn-polaris">
<main class="sn-login"><h1>Log in</h1>${error ? `<p role="alert" class="sn-error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login.do"><input type="hidden" name="sysparm_goto" value="${escapeHtml(safeGoto(goto))}">
<label for="user_name">User name</label><input id="user_name" name="user_name" autocomplete="username" required>
<label for="user_password">Password</label><input id="user_password" name="user_password" type="password" autocomplete="current-password" required>
<button type="submit" id="sysverb_login">Log in</button></form></main></body></html>`;
}

// The filter narrows menus and modules as the navigator does: a menu whose title matches shows all
// of its modules; otherwise only the modules that match.
const NAVIGATOR_SCRIPT = `
document.getElementById('sn-filter').addEventListener('input', function (e) {
  var q = e.target.value.trim().toLowerCase();
  document.querySelectorAll('.sn-app').forEach(function (app) {
    var menuHit = app.dataset.menu.toLowerCase().indexOf(q) !== -1;
    var any = false;
    app.querySelectorAll('.sn-module').forEach(function (m) {
      var hit = !q || menuHit || m.textContent.toLowerCase().indexOf(q) !== -1;
      m.parentElement.hidden = !hit;
      any = any || hit;
    });
    app.hidden = !any;
  });
});`;

/** The Polaris theme's variables a Next Experience page reads (the instance serves its theme's). */
const POLARIS_THEME_CSS = `:root{--now-font-family:Lato,"Helvetica Neue",Arial,sans-serif;--now-color--primary-1:3,45,66;--now-color--neutral-18:22,35,44}`;

const SHELL_CSS = `
body.sn-polaris{margin:0;font:14px/20px Lato,"Helvetica Neue",Arial,sans-serif;color:#16232c;background:#f5f7f8;height:100vh;display:flex;flex-direction:column}
.sn-header{display:flex;gap:1rem;align-items:center;padding:0 1rem;height:3rem;background:#032d42;color:#fff;flex:none}
.sn-header a{color:#fff}.sn-logo{font-weight:700;letter-spacing:.02em}.sn-all{background:none;border:1px solid #ffffff66;color:#fff;border-radius:4px;padding:.125rem .75rem;font:inherit;font-weight:700}
.sn-instance{margin-left:auto;opacity:.8}
.sn-layout{display:flex;flex:1;min-height:0}
.sn-navigator{flex:0 0 16rem;background:#fff;border-right:1px solid #cdd4d9;padding:.75rem;overflow:auto}
.sn-navigator input{width:100%;box-sizing:border-box;font:inherit;padding:.375rem .5rem;border:1px solid #8a959e;border-radius:4px}
.sn-apps,.sn-apps ul{list-style:none;margin:0;padding:0}.sn-app{margin-top:.75rem}.sn-app-title{font-weight:700}
.sn-module{display:block;padding:.25rem .5rem;color:#16232c;text-decoration:none;border-radius:4px}.sn-module:hover{background:#e9eef1}
#gsft_main{flex:1;border:0;min-width:0;background:#f5f7f8}.sn-home{padding:1.5rem}
.sn-login{max-width:24rem;margin:4rem auto;display:flex;flex-direction:column;gap:.5rem}.sn-login form{display:flex;flex-direction:column;gap:.5rem}.sn-error{color:#c7291a}`;

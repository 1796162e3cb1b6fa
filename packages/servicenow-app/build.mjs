#!/usr/bin/env node
// `npm run package:servicenow`: the Exalate application for ServiceNow, offline, with ServiceNow's
// SDK: `now-sdk build` compiles the Fluent sources (src/fluent) and bundles the UI page (src/client,
// which takes the page webpack built first into dist/servicenow-page); `now-sdk pack` zips the
// application for `now-sdk install`. Then the same records become an update set XML an admin
// imports under System Update Sets → Retrieved Update Sets (the SDK writes none). Writes
// dist/exalate-servicenow-<version>.zip and dist/exalate-servicenow-<version>-update-set.xml.
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const config = JSON.parse(readFileSync(join(here, 'now.config.json'), 'utf8'));
export const VERSION = pkg.version;
export const PACKAGE = resolve(root, `dist/exalate-servicenow-${VERSION}.zip`);
export const UPDATE_SET = resolve(root, `dist/exalate-servicenow-${VERSION}-update-set.xml`);

const escapeXml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const glideNow = () => new Date().toISOString().slice(0, 19).replace('T', ' ');
/** A sys_id as the platform writes them: 32 hex digits. */
const sysId = (seed) => (seed ? createHash('md5').update(seed).digest('hex') : randomUUID().replace(/-/g, ''));

/** `--quiet` (npm start): the SDK's progress lines are not shown, its errors are. */
const quiet = process.argv.includes('--quiet');

function sdk(...args) {
  const bin = resolve(root, 'node_modules/.bin/now-sdk');
  execFileSync(bin, args, { cwd: here, stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'] });
}

/**
 * The built records as one update set: a sys_remote_update_set (loaded, for this application) and a
 * sys_update_xml per record file, its payload the record file itself, as an instance exports them.
 */
export function updateSetXml(o) {
  const setId = sysId(`${config.scopeId}:${VERSION}`);
  const now = glideNow();
  const app = `<application display_value="${escapeXml(config.name)}">${config.scopeId}</application>`;
  const updates = o.records.map(({ table, name, payload }) => {
    const action = /action="DELETE"/.test(payload) ? 'DELETE' : 'INSERT_OR_UPDATE';
    return `<sys_update_xml action="INSERT_OR_UPDATE"><action>${action}</action>${app}<category>customer</category><comments/><name>${escapeXml(name)}</name><payload>${escapeXml(payload)}</payload><payload_hash/><remote_update_set display_value="${escapeXml(o.title)}">${setId}</remote_update_set><replace_on_upgrade>false</replace_on_upgrade><sys_created_by>admin</sys_created_by><sys_created_on>${now}</sys_created_on><sys_id>${sysId(`${setId}:${name}`)}</sys_id><sys_mod_count>0</sys_mod_count><sys_recorded_at/><sys_updated_by>admin</sys_updated_by><sys_updated_on>${now}</sys_updated_on><table>${escapeXml(table)}</table><target_name/><type/><update_domain>global</update_domain><update_guid/><update_guid_history/><update_set/><view/></sys_update_xml>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?><unload unload_date="${now}">
<sys_remote_update_set action="INSERT_OR_UPDATE">${app}<application_name>${escapeXml(config.name)}</application_name><application_scope>${config.scope}</application_scope><application_version>${VERSION}</application_version><collisions/><commit_date/><deleted/><description>${escapeXml(o.description)}</description><inserted/><name>${escapeXml(o.title)}</name><origin_sys_id/><parent/><release_date/><remote_base_update_set/><remote_parent_id/><remote_sys_id>${setId}</remote_sys_id><state>loaded</state><summary/><sys_class_name>sys_remote_update_set</sys_class_name><sys_created_by>admin</sys_created_by><sys_created_on>${now}</sys_created_on><sys_id>${setId}</sys_id><sys_mod_count>0</sys_mod_count><sys_updated_by>admin</sys_updated_by><sys_updated_on>${now}</sys_updated_on><update_set/><update_source/><updated/></sys_remote_update_set>
${updates.join('\n')}
</unload>
`;
}

/** The record files of the build (the application first), each with its table and update name. */
export function builtRecords(dist = join(here, 'dist/app')) {
  const files = ['scope', 'update'].flatMap((dir) =>
    existsSync(join(dist, dir))
      ? readdirSync(join(dist, dir))
          .filter((f) => f.endsWith('.xml'))
          .sort()
          .map((f) => join(dist, dir, f))
      : [],
  );
  return files.map((file) => {
    const payload = readFileSync(file, 'utf8');
    const table = /<record_update[^>]*\btable="([^"]+)"/.exec(payload)?.[1] ?? /<record_update>\s*<([a-z0-9_]+)/.exec(payload)?.[1];
    // A record without its update name (the SDK's sys_module rows) goes by the platform's default, <table>_<sys_id>.
    const id = /<sys_id>([0-9a-f]{32})<\/sys_id>/.exec(payload)?.[1];
    const name = /<sys_update_name>([^<]+)<\/sys_update_name>/.exec(payload)?.[1] ?? (table && id ? `${table}_${id}` : undefined);
    if (!table || !name) throw new Error(`${file} is not a record the SDK built (no table or sys_update_name)`);
    return { table, name, payload: payload.replace(/^<\?xml[^>]*\?>\s*/, '<?xml version="1.0" encoding="UTF-8"?>') };
  });
}

function main() {
  if (!existsSync(resolve(root, 'dist/servicenow-page/exalate-page.js'))) {
    console.error('The page bundle dist/servicenow-page/exalate-page.js is missing: run `npm run build:servicenow` first (npm run package:servicenow does).');
    process.exit(1);
  }
  sdk('build', '--frozenKeys');
  sdk('pack');
  mkdirSync(resolve(root, 'dist'), { recursive: true });
  const packed = readdirSync(join(here, 'target')).filter((f) => f.endsWith('.zip'));
  if (packed.length !== 1) throw new Error(`now-sdk pack left ${packed.length} zip files in target/`);
  copyFileSync(join(here, 'target', packed[0]), PACKAGE);
  const records = builtRecords();
  writeFileSync(
    UPDATE_SET,
    updateSetXml({
      records,
      title: `Exalate ${VERSION}`,
      description: `The Exalate application (${config.scope}) ${VERSION}: menu, modules, the Exalate page, its REST API, role and settings table.`,
    }),
  );
  if (!quiet) console.log(`Wrote ${PACKAGE} and ${UPDATE_SET} (${records.length} records).`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

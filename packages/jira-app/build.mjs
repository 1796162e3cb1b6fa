#!/usr/bin/env node
// `npm run package:jira`: the Exalate app for Jira Data Center as a P2 jar, offline, from Debian's
// packages: javac compiles the servlet against the servlet API, Gson and compile-only copies of the
// few SAL interfaces it calls (Jira provides the real ones); bnd builds the jar with Gson's used
// classes inside and the page's bundle (dist/jira-admin, built first by `npm run build:jira`).
// Writes dist/exalate-jira-<version>.jar.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const work = resolve(root, 'build/jira-app');
const page = resolve(root, 'dist/jira-admin');
const version = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')).version;
const output = resolve(root, `dist/exalate-jira-${version}.jar`);

/** What the build needs from Debian, and the package each comes from. */
export const DEBIAN_JARS = { servlet: ['/usr/share/java/servlet-api.jar', 'libservlet-api-java'], gson: ['/usr/share/java/gson.jar', 'libgoogle-gson-java'] };
/** The Jira simulator's harness runs the servlet in Debian's Jetty 9. */
export const HARNESS_JARS = ['jetty9-server', 'jetty9-servlet', 'jetty9-http', 'jetty9-io', 'jetty9-util', 'jetty9-security'].map(
  (j) => `/usr/share/java/${j}.jar`,
);
export const JAR = output;
/** The harness's classpath (its classes, the compile-only SAL interfaces it implements, Jetty). */
export const HARNESS_CLASSPATH = [join(work, 'harness'), join(work, 'compile-only'), DEBIAN_JARS.servlet[0], ...HARNESS_JARS].join(':');
export const harnessBuilt = () => existsSync(join(work, 'harness/com/exalate/jira/harness/JiraServletHarness.class'));

/** `--if-possible` (npm start): without the Debian packages, say so and build nothing, successfully. */
const optional = process.argv.includes('--if-possible');

function need() {
  const missing = [];
  for (const [tool, pkg] of [
    ['javac', 'default-jdk-headless'],
    ['bnd', 'bnd'],
  ]) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      missing.push(pkg);
    }
  }
  for (const [path, pkg] of Object.values(DEBIAN_JARS)) if (!existsSync(path)) missing.push(pkg);
  if (missing.length) {
    console.error(`package:jira needs these Debian packages: ${missing.join(' ')}. Install them (sudo apt-get install ${missing.join(' ')}) and run it again.`);
    process.exit(optional ? 0 : 1);
  }
  if (!existsSync(join(page, 'jira-admin.js'))) {
    console.error('The page bundle dist/jira-admin/jira-admin.js is missing: run `npm run build:jira` first (npm run package:jira does).');
    process.exit(1);
  }
}

const javaFiles = (dir) =>
  readdirSync(dir, { recursive: true })
    .filter((f) => String(f).endsWith('.java'))
    .map((f) => join(dir, String(f)));

function build() {
  need();
  rmSync(work, { recursive: true, force: true });
  const stubs = join(work, 'compile-only');
  const classes = join(work, 'classes');
  const resources = join(work, 'resources');
  mkdirSync(stubs, { recursive: true });
  mkdirSync(classes, { recursive: true });
  const cp = [DEBIAN_JARS.servlet[0], DEBIAN_JARS.gson[0]].join(':');
  // Java 11 bytecode: Jira 9 runs on Java 11, Jira 10 on 17.
  execFileSync('javac', ['--release', '11', '-d', stubs, '-cp', cp, ...javaFiles(join(here, 'compile-only'))], { stdio: 'inherit' });
  execFileSync('javac', ['--release', '11', '-Xlint:all', '-Werror', '-d', classes, '-cp', `${cp}:${stubs}`, ...javaFiles(join(here, 'src/main/java'))], {
    stdio: 'inherit',
  });

  mkdirSync(resources, { recursive: true });
  const descriptor = readFileSync(join(here, 'src/main/resources/atlassian-plugin.xml'), 'utf8').replace('${version}', version);
  writeFileSync(join(resources, 'atlassian-plugin.xml'), descriptor);
  // The page without its source maps: the jar carries what Jira serves.
  const webFiles = readdirSync(page).filter((f) => !f.endsWith('.map'));
  const bnd = [
    `Bundle-SymbolicName: com.exalate.jira`,
    `Bundle-Name: Exalate for Jira Data Center`,
    `Bundle-Version: ${version}`,
    `Bundle-Vendor: Exalate (open source)`,
    `Bundle-License: Apache-2.0`,
    `-classpath: ${classes},${stubs},${DEBIAN_JARS.gson[0]},${DEBIAN_JARS.servlet[0]}`,
    `Private-Package: com.exalate.jira`,
    // Only the Gson classes the servlet reaches go in the jar; Jira 10 exports no Gson to apps.
    `-conditionalpackage: com.google.gson.*`,
    // Any servlet API version Jira 9 and 10 export (javax, 3.1 and up); Gson's use of sun.misc is optional.
    `Import-Package: javax.servlet.*;version="[3.1,5)", com.atlassian.sal.api.*, sun.misc;resolution:=optional, *`,
    `-includeresource: atlassian-plugin.xml=${join(resources, 'atlassian-plugin.xml')}, exalate.properties=${join(here, 'src/main/resources/exalate.properties')}, ${webFiles.map((f) => `web/${f}=${join(page, f)}`).join(', ')}`,
    `-removeheaders: Bnd-LastModified, Tool, Created-By`,
    `-reproducible: true`,
    '',
  ].join('\n');
  const bndFile = join(work, 'exalate-jira.bnd');
  writeFileSync(bndFile, bnd);
  mkdirSync(dirname(output), { recursive: true });
  rmSync(output, { force: true });
  execFileSync('bnd', ['do', '-o', output, bndFile], { cwd: work, stdio: 'inherit' });
  if (!existsSync(output)) throw new Error(`bnd wrote no jar at ${output}`);
  console.log(`Wrote ${relative(root, output)}`);
  if (HARNESS_JARS.every((j) => existsSync(j))) {
    execFileSync('javac', ['--release', '11', '-d', join(work, 'harness'), '-cp', HARNESS_CLASSPATH, ...javaFiles(join(here, 'harness'))], {
      stdio: 'inherit',
    });
  } else {
    console.log("(The Jira simulator's harness was not built: it needs Debian's libjetty9-java.)");
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    build();
  } catch (error) {
    // The tool (javac, bnd) has printed what went wrong already.
    console.error(`package:jira failed: ${error.message.split('\n')[0]}`);
    process.exit(1);
  }
}

#!/usr/bin/env node
/**
 * The registry mirror these machines use serves only the platform binaries a Linux machine
 * needs, so `npm install` writes a lockfile without the other platforms' optional packages
 * (Biome's and unrs-resolver's), and `npm ci` then refuses that lockfile. This adds the
 * missing entries as npm would on the public registry: optional, with their os/cpu/libc, so
 * every platform skips the ones it cannot use. Run it after any `npm install` that rewrites
 * package-lock.json: `node scripts/complete-lockfile.mjs`.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

/** `@biomejs/cli-linux-x64-musl` → { os: linux, cpu: x64, libc: musl } */
function platformOf(name) {
  const parts = name
    .split('/')
    .pop()
    .replace(/^(cli|resolver-binding)-/, '')
    .split('-');
  const [os, cpu, ...rest] = parts;
  const libc = rest.some((p) => p.startsWith('musl'))
    ? 'musl'
    : rest.some((p) => p.startsWith('gnu'))
      ? 'glibc'
      : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const parentDir = path === '' ? '' : `${path}/`;
    if (packages[`${parentDir}node_modules/${name}`] || packages[`node_modules/${name}`]) continue;
    if (!/^@(biomejs\/cli|unrs\/resolver-binding)-/.test(name)) continue;
    const { os, cpu, libc } = platformOf(name);
    packages[`node_modules/${name}`] = {
      version,
      cpu: [cpu],
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      os: [os],
      ...(libc ? { libc: [libc] } : {}),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} optional platform entries`);

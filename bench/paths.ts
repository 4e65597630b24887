import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..');
/** Git-ignored; everything the bench writes goes here. */
export const OUT_DIR = join(REPO_ROOT, '.bench');
export const BUNDLE_DIR = join(OUT_DIR, 'bundles');

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function readVersion(): string {
  for (const candidate of [join(__dirname, '..', 'package.json'), join(__dirname, '..', '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'nestjs-pg-backup' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return 'unknown';
}

/** This package's version, recorded with every backup. */
export const PRODUCT_VERSION = readVersion();

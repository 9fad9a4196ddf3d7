import { Injectable, Logger } from '@nestjs/common';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';

/** What the page is made of: plain files, served as they are (no build step). */
const ASSET_NAME = /^[a-z0-9][a-z0-9-]*\.(html|js|css|svg)$/;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface UiAsset {
  /** Text, as every asset is: Nest sends a string as it is (a Buffer would become JSON). */
  body: string;
  contentType: string;
}

/**
 * The package's `ui/` folder: found by walking up from this file to the folder holding
 * package.json (the same from `dist/src/ui`, `dist-x/src/ui` and `node_modules/<pkg>/dist/src/ui`),
 * read once. Only names listed at startup are ever served: no path reaches the file system.
 */
@Injectable()
export class UiAssets {
  private readonly logger = new Logger(UiAssets.name);
  private readonly files: ReadonlyMap<string, UiAsset>;

  constructor() {
    const dir = findUiDir(__dirname);
    this.files = dir ? loadAssets(dir) : new Map();
    if (!dir) this.logger.error(`admin page files not found above ${__dirname} (expected ui/index.html beside package.json)`);
  }

  get(name: string): UiAsset | undefined {
    return this.files.get(name);
  }
}

export function findUiDir(from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      const ui = join(dir, 'ui');
      return existsSync(join(ui, 'index.html')) ? ui : null;
    }
    if (dirname(dir) === dir) return null;
  }
}

function loadAssets(dir: string): Map<string, UiAsset> {
  const files = new Map<string, UiAsset>();
  for (const name of readdirSync(dir)) {
    if (!ASSET_NAME.test(name)) continue;
    files.set(name, { body: readFileSync(join(dir, name), 'utf8'), contentType: CONTENT_TYPES[extname(name)] });
  }
  return files;
}

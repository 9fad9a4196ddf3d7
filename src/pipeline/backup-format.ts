export const COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** How a backup file is encoded: pg_dump's custom format, then compression, then age encryption. */
export interface BackupFormat {
  compression: Compression;
  encrypted: boolean;
}

const COMPRESSION_EXTENSIONS: Record<Compression, string> = { zstd: '.zst', gzip: '.gz', none: '' };

/** `.dump`, `.dump.zst`, `.dump.gz.age`, … so standard tools recognise each layer. */
export function formatExtension(format: BackupFormat): string {
  return `.dump${COMPRESSION_EXTENSIONS[format.compression]}${format.encrypted ? '.age' : ''}`;
}

export const DEFAULT_LEVELS: Record<Compression, number> = { zstd: 1, gzip: 6, none: 0 };

import { PG16_TOOLS } from './support/fixtures';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '@nestjs/common';
import { PassThrough, Readable } from 'node:stream';
import { BackupHistory } from '../../src/backup/backup-history.entity';
import { DatabaseInfoRepository } from '../../src/database/database-info.repository';
import { PgTools, PgToolsRepository } from '../../src/infra/process/pg-tools.repository';
import { BackupType } from '../../src/backup/backup.types';
import { ProcessFailedError, ProcessRepository, SpawnOptions } from '../../src/infra/process/process.repository';
import { OperationHandle } from '../../src/lock/lock.service';
import { PgBackupOptions } from '../../src/pg-backup.options';
import { PipelineStage } from '../../src/pipeline/backup-pipeline.service';
import { BackupTocReader } from '../../src/restore/backup-toc';
import { COMMIT_WINDOW_BYTES, restoreInput, RestoreRunner } from '../../src/restore/restore-runner.service';
import { restoreCommitMarkerSql } from '../../src/restore/restore-commit-marker';
import { wipeDatabaseSql } from '../../src/restore/restore-script';
import { fakePipeline, fakeStage } from './support/fake-pipeline';
import { CollectingWritable, deferred, FakeChild, fakeChild, within } from './support/fake-process';

Logger.overrideLogger(false);

const WIPE = wipeDatabaseSql('backup_admin');
const MARKER = (restoreId: string) => restoreCommitMarkerSql('backup_admin', restoreId);
const SCRIPT = [
  Buffer.from('BEGIN;\nSET statement_timeout = 0;\n'),
  Buffer.from('CREATE TABLE public.orders (id integer);\n'),
  Buffer.from('COPY public.orders (id) FROM stdin;\n1\n2\n\\.\n'),
  Buffer.from('COMMIT;\n\n'),
];

function operation() {
  const reportBytes = mock.fn((_bytes: number) => undefined);
  const markIrrevocable = mock.fn(async () => undefined);
  const handle: OperationHandle = {
    type: 'restore',
    operationId: 'r-1',
    startedBy: 'alice',
    signal: new AbortController().signal,
    reportBytes,
    markIrrevocable,
  };
  return { handle, reportBytes, markIrrevocable };
}

/** pg_restore whose stdout yields exactly these chunks, one by one; its stdin keeps what it is fed. */
function pgRestore(chunks: Buffer[]): FakeChild & { stdin: CollectingWritable } {
  return fakeChild({ name: 'pg_restore', stdout: Readable.from(chunks), stdin: new CollectingWritable() }) as FakeChild & { stdin: CollectingWritable };
}

async function collect(generator: AsyncGenerator<Buffer>): Promise<{ yielded: Buffer[]; error?: Error }> {
  const yielded: Buffer[] = [];
  try {
    for await (const chunk of generator) yielded.push(chunk);
    return { yielded };
  } catch (error) {
    return { yielded, error: error as Error };
  }
}

const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString();
const BODY = text(SCRIPT.slice(0, -1));
const TAIL = text(SCRIPT.slice(-1));

describe('restoreInput', { timeout: 10_000 }, () => {
  it('yields BEGIN and the wipe, then the whole script once pg_restore exited 0', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(0);
    const { handle } = operation();

    const { yielded, error } = await collect(restoreInput(WIPE, script, handle, Promise.resolve()));

    assert.equal(error, undefined);
    assert.equal(yielded[0].toString(), `BEGIN;\n${WIPE}\n`);
    assert.equal(text(yielded.slice(1)), text(SCRIPT), 'the script is passed on unchanged, in order');
  });

  it('puts the marker just before the final COMMIT', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(0);
    const marker = "INSERT INTO \"backup_admin\".restore_commit (restore_id) VALUES ('r-1');";

    const { yielded } = await collect(restoreInput(WIPE, script, operation().handle, Promise.resolve(), { markerSql: marker }));

    assert.equal(text(yielded.slice(1)), `${BODY}${marker}\n${TAIL}`);
  });

  it('throws and never yields the COMMIT when pg_restore fails after writing', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(1, 'pg_restore: error: could not read from input file: end of file\n');

    const { yielded, error } = await collect(restoreInput(WIPE, script, operation().handle, Promise.resolve()));

    assert.ok(error instanceof ProcessFailedError);
    assert.match(error.message, /could not read from input file/);
    assert.equal(text(yielded.slice(1)), BODY);
    assert.ok(!text(yielded).includes('COMMIT'), 'no COMMIT reached psql');
  });

  it('marks the operation irrevocable before the COMMIT, and sends no COMMIT when that is refused (cancelled)', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(0);
    const { handle, markIrrevocable } = operation();
    const { yielded } = await collect(restoreInput(WIPE, script, handle, Promise.resolve()));
    assert.equal(markIrrevocable.mock.callCount(), 1);
    assert.ok(text(yielded).endsWith(TAIL));

    const cancelled = pgRestore(SCRIPT);
    cancelled.exit(0);
    const refusing = { ...operation().handle, markIrrevocable: async () => Promise.reject(new Error('cancelled')) };
    const result = await collect(restoreInput(WIPE, cancelled, refusing, Promise.resolve()));
    assert.match(String(result.error), /cancelled/);
    assert.ok(!text(result.yielded).includes('COMMIT'), 'no COMMIT reached psql');
  });

  it('a drill (irrevocableCommit false) commits without marking', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(0);
    const { handle, markIrrevocable } = operation();
    const { yielded, error } = await collect(restoreInput('', script, handle, Promise.resolve(), { irrevocableCommit: false }));
    assert.equal(error, undefined);
    assert.equal(markIrrevocable.mock.callCount(), 0);
    assert.ok(text(yielded).endsWith(TAIL));
  });

  it('holds the COMMIT back while pg_restore has not exited yet', async () => {
    const script = pgRestore(SCRIPT);
    const input = restoreInput(WIPE, script, operation().handle, Promise.resolve());

    await input.next(); // BEGIN and the wipe
    assert.equal((await input.next()).value.toString(), BODY);
    let settled = false;
    const pending = input.next().finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(settled, false, 'the COMMIT waits for the exit status');

    script.exit(0);
    assert.equal((await pending).value.toString(), TAIL);
    assert.equal((await input.next()).done, true);
  });

  /**
   * pg_restore writes after its COMMIT (a comment, and `\unrestrict <key>` on current minor
   * releases): however the reads split the script's end, nothing from the COMMIT on passes
   * before the exit status is known.
   */
  it('holds back the final COMMIT however the reads split the script', async () => {
    const copyData = Array.from({ length: 7000 }, (_, i) => `${i}\tCOMMIT;\n`).join(''); // data lines that look like it
    const body = `BEGIN;\nCOPY public.t (id, note) FROM stdin;\n${copyData}COMMIT;\n\\.\n\nCREATE INDEX t_idx ON public.t (id);\n\n`;
    const tail = 'COMMIT;\n\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict Zq3abcDEF\n\n';
    const whole = Buffer.from(body + tail);
    assert.ok(whole.length > COMMIT_WINDOW_BYTES, 'longer than the window: its start passes while the rest is read');
    const commitAt = body.length;
    for (let split = commitAt - 12; split <= whole.length; split++) {
      for (const second of [split, Math.min(whole.length, split + 3)]) {
        const chunks = [whole.subarray(0, split), whole.subarray(split, second), whole.subarray(second)].filter((c) => c.length);
        const script = pgRestore(chunks);
        const input = restoreInput('', script, operation().handle, Promise.resolve(), { markerSql: '-- marker' });
        const before: Buffer[] = [];
        while (text(before).length < `BEGIN;\n\n`.length + body.length) {
          const next = await input.next();
          assert.notEqual(next.done, true, `split ${split}/${second}: ended before the exit status`);
          before.push(next.value as Buffer);
        }
        assert.equal(text(before.slice(1)), body, `split ${split}/${second}: all but the COMMIT passed, and no more`);
        let settled = false;
        const pending = input.next().finally(() => (settled = true));
        await new Promise((resolve) => setTimeout(resolve, 2));
        assert.equal(settled, false, `split ${split}/${second}: the COMMIT waits for the exit status`);
        script.exit(0);
        const after: Buffer[] = [];
        for (let next = await pending; !next.done; next = await input.next()) after.push(next.value);
        assert.equal(text(after), `-- marker\n${tail}`, `split ${split}/${second}`);
      }
    }
  });

  it('refuses a script without a final COMMIT, sending none', async () => {
    const script = pgRestore([Buffer.from('BEGIN;\nCREATE TABLE t (id int);\n')]);
    script.exit(0);

    const { yielded, error } = await collect(restoreInput(WIPE, script, operation().handle, Promise.resolve()));

    assert.match(String(error), /does not end in COMMIT/);
    assert.equal(yielded.length, 1, 'only BEGIN and the wipe, which roll back');
  });

  it('yields nothing of a script that fails in its only chunk', async () => {
    const script = pgRestore([Buffer.from('BEGIN;\nCREATE TABLE half')]);
    script.exit(1, 'pg_restore: error: input file appears to be corrupt');

    const { yielded, error } = await collect(restoreInput(WIPE, script, operation().handle, Promise.resolve()));

    assert.match(String(error), /appears to be corrupt/);
    assert.equal(yielded.length, 1, 'only BEGIN and the wipe, which roll back');
  });

  it('throws and never yields the COMMIT when upstream (decryption) failed, even though pg_restore exited 0', async () => {
    // pg_restore saw a clean end of input: a truncated stream can still parse as a complete script
    const script = pgRestore(SCRIPT);
    script.exit(0);
    const decryptFailed = new Error('damaged or truncated age file: the last chunk does not authenticate');
    const upstream = Promise.reject(decryptFailed);
    upstream.catch(() => undefined);

    const { yielded, error } = await collect(restoreInput(WIPE, script, operation().handle, upstream));

    assert.equal(error, decryptFailed);
    assert.equal(text(yielded.slice(1)), BODY, 'everything but the COMMIT, which psql rolls back');
    assert.ok(!text(yielded).includes('COMMIT'), 'no COMMIT reached psql');
  });

  it('holds the COMMIT back while upstream has not finished, though pg_restore exited 0', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(0);
    const upstream = deferred();
    const input = restoreInput(WIPE, script, operation().handle, upstream.promise);

    await input.next();
    await input.next();
    let settled = false;
    const pending = input.next().finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(settled, false, 'the COMMIT waits for decryption and decompression to succeed');

    upstream.resolve();
    assert.equal((await within(pending)).value.toString(), TAIL);
    assert.equal((await input.next()).done, true);
  });

  it('throws and never yields the COMMIT when upstream succeeded but pg_restore failed', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(1, 'pg_restore: error: could not read from input file: end of file');

    const { yielded, error } = await collect(restoreInput(WIPE, script, operation().handle, Promise.resolve()));

    assert.ok(error instanceof ProcessFailedError);
    assert.ok(!text(yielded).includes('COMMIT'));
  });
});

const tools = PG16_TOOLS;

const FILE = [Buffer.from('PGDMP\x01\x0e\x00'), Buffer.alloc(1024, 9)];

/** `script` is pg_restore; its stdin, where the decoded file goes, is a CollectingWritable when not given. */
function runHarness(script: FakeChild, stages: () => PipelineStage[] = () => [], pgTools: PgTools = tools) {
  const psqlStdin = new CollectingWritable();
  const psql = fakeChild({ name: 'psql', stdin: psqlStdin, stdout: null });
  psqlStdin.on('finish', () => psql.exit(0)); // psql runs the script to its end
  // reading pg_restore itself, psql commits once the gate opens
  const gate = { sql: 'DO $gate$ … $gate$', open: mock.fn(async () => psql.exit(0)), close: mock.fn(async () => undefined) };
  // what psql reads itself when pg_restore's stdout is handed to it
  const psqlHandedIn = new CollectingWritable();
  const spawn = mock.fn((command: string, _args: string[], options: SpawnOptions) => {
    if (command !== tools.psql) return script;
    if (options.stdin instanceof Readable) options.stdin.pipe(psqlHandedIn);
    return psql;
  });
  const database = {
    server: mock.fn(async () => ({ database: 'shop', version: '16.4', major: 16 })),
    blockersOf: mock.fn(async () => []),
    terminate: mock.fn(async () => true),
    isOwnSession: () => false,
    openCommitGate: mock.fn(async (_databaseUrl: string) => gate),
    dropTrash: mock.fn(async () => undefined),
    terminateSessions: mock.fn(async (_applicationName: string) => undefined),
    installationSchemas: mock.fn(async () => ['backup_admin']),
  };
  const options = {
    databaseUrl: 'postgres://u:s3cret@h:5432/shop',
    schema: 'backup_admin',
    backupDir: '/var/backups/pg',
    restoreGraceMs: 10_000,
  } as PgBackupOptions;
  const storage = { openRead: mock.fn((_path: string) => Readable.from(FILE)) };
  const pipeline = fakePipeline();
  pipeline.decoders.mock.mockImplementation(stages);
  const runner = new RestoreRunner(
    options,
    database as unknown as DatabaseInfoRepository,
    { forServer: mock.fn(async () => pgTools) } as unknown as PgToolsRepository,
    { spawn } as unknown as ProcessRepository,
    pipeline.asPipeline(),
    {} as BackupTocReader,
  );
  const backup = { id: 'b-1', filename: 'shop-manual-20250601T120000Z-0a1b2c3d.dump', compression: 'none', encrypted: false } as BackupHistory;
  const source = { location: `/var/backups/pg/${backup.filename}`, open: () => storage.openRead(`/var/backups/pg/${backup.filename}`) };
  return { runner, spawn, psql, psqlStdin, psqlHandedIn, gate, database, storage, pipeline, backup, source };
}

describe('RestoreRunner.run', { timeout: 10_000 }, () => {
  it('feeds psql BEGIN, the wipe and the whole script, and passes the password in the environment only', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(0);
    const h = runHarness(script);

    const outcome = await h.runner.run('r-1', h.backup, h.source, operation().handle);

    assert.deepEqual(outcome, { terminatedPids: [] });
    assert.equal(h.psqlStdin.bytes.toString(), `BEGIN;\n${WIPE}\n${BODY}${MARKER('r-1')}\n${TAIL}`);
    assert.equal(h.database.terminateSessions.mock.callCount(), 0, 'a restore that succeeded leaves no session to end');
    const psqlCall = h.spawn.mock.calls.find((c) => c.arguments[0] === tools.psql)!;
    const restoreCall = h.spawn.mock.calls.find((c) => c.arguments[0] === tools.pgRestore)!;
    for (const arg of [...psqlCall.arguments[1], ...restoreCall.arguments[1]]) assert.ok(!arg.includes('s3cret'), arg);
    assert.equal(psqlCall.arguments[2].env.PGPASSWORD, 's3cret');
    assert.equal(psqlCall.arguments[2].env.PGAPPNAME, 'nestjs-pg-backup:restore:r-1');
    assert.equal(restoreCall.arguments[2].env.PGPASSWORD, undefined, 'pg_restore reads a file, it needs no password');
    assert.deepEqual(restoreCall.arguments[1], ['--single-transaction', '--file=-'], 'pg_restore reads the dump from stdin');
    assert.equal(restoreCall.arguments[2].stdin, true);
    assert.deepEqual(h.storage.openRead.mock.calls.map((c) => c.arguments[0]), [`/var/backups/pg/${h.backup.filename}`]);
    assert.deepEqual(script.stdin.bytes, Buffer.concat(FILE), 'the backup file reaches pg_restore');
    assert.deepEqual(h.pipeline.decoders.mock.calls[0].arguments, [{ compression: 'none', encrypted: false }, { handOverOutput: true }]);
  });

  it('reports progress as bytes of the backup file read', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(0);
    const h = runHarness(script);
    const { handle, reportBytes } = operation();

    await h.runner.run('r-1', h.backup, h.source, handle);

    assert.equal(reportBytes.mock.calls.at(-1)?.arguments[0], Buffer.concat(FILE).length);
  });

  it('has zstd read a local unencrypted zstd file itself: Node opens it and reads no byte', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(0);
    const h = runHarness(script);
    const zstdOutput = new PassThrough();
    h.pipeline.decodeFileForProcess.mock.mockImplementation(() => ({ output: zstdOutput, stages: [] }));
    const dir = mkdtempSync(join(tmpdir(), 'pgb-local-'));
    const path = join(dir, 'b.dump.zst');
    writeFileSync(path, Buffer.concat(FILE));
    try {
      await h.runner.run('r-10', { ...h.backup, compression: 'zstd' }, { ...h.source, localFile: () => path }, operation().handle);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    assert.equal(h.storage.openRead.mock.callCount(), 0, 'Node never read the file');
    assert.equal(typeof h.pipeline.decodeFileForProcess.mock.calls[0].arguments[0], 'number', 'zstd got the open descriptor');
    const restoreCall = h.spawn.mock.calls.find((c) => c.arguments[0] === tools.pgRestore)!;
    assert.equal(restoreCall.arguments[2].stdin, zstdOutput, "zstd's stdout is pg_restore's stdin");
  });

  it('hashes the bytes it decodes, and commits only when they match the recorded SHA-256', async () => {
    const sha256 = createHash('sha256').update(Buffer.concat(FILE)).digest('hex');
    const good = pgRestore(SCRIPT);
    good.exit(0);
    const h = runHarness(good);
    await h.runner.run('r-11', { ...h.backup, sha256 }, h.source, operation().handle);
    assert.ok(h.psqlStdin.bytes.toString().endsWith(TAIL), 'committed');

    const swapped = pgRestore(SCRIPT);
    swapped.exit(0);
    const other = runHarness(swapped);
    const { handle, markIrrevocable } = operation();
    await assert.rejects(other.runner.run('r-12', { ...other.backup, sha256: 'f'.repeat(64) }, other.source, handle), /changed after its integrity check/);
    assert.ok(!other.psqlStdin.bytes.toString().includes('COMMIT'), 'no COMMIT reached psql');
    assert.equal(markIrrevocable.mock.callCount(), 0);
  });

  it('hashes a local zstd file from the descriptor zstd reads, and leaves the gate shut on a mismatch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgb-local-'));
    const path = join(dir, 'b.dump.zst');
    writeFileSync(path, Buffer.concat(FILE));
    try {
      const runWith = (sha256: string) => {
        const script = pgRestore(SCRIPT);
        script.exit(0);
        const h = runHarness(script);
        h.pipeline.decodeFileForProcess.mock.mockImplementation(() => ({ output: new PassThrough(), stages: [] }));
        const backup = { ...h.backup, compression: 'zstd', sha256, metadata: { largeObjects: 0 } } as BackupHistory;
        return { h, run: h.runner.run('r-13', backup, { ...h.source, localFile: () => path }, operation().handle) };
      };
      const intact = runWith(createHash('sha256').update(Buffer.concat(FILE)).digest('hex'));
      await intact.run;
      assert.equal(intact.h.gate.open.mock.callCount(), 1);
      const swapped = runWith('0'.repeat(64));
      await assert.rejects(swapped.run, /hash to [0-9a-f]{64}, 0{64} recorded/);
      assert.equal(swapped.h.gate.open.mock.callCount(), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an uploaded or imported backup without \\restrict-capable tools, before spawning anything', async () => {
    for (const untrusted of [{ type: BackupType.Upload }, { type: BackupType.Manual, origin: { imported: true as const } }]) {
      const h = runHarness(pgRestore(SCRIPT));
      await assert.rejects(h.runner.run('r-14', { ...h.backup, ...untrusted } as BackupHistory, h.source, operation().handle), /uploaded or imported.*16\.4; psql/s);
      assert.equal(h.spawn.mock.callCount(), 0);
    }
  });

  it('restores an uploaded backup with tools that have \\restrict', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(0);
    const h = runHarness(script, () => [], { ...tools, restrict: true });
    await h.runner.run('r-15', { ...h.backup, type: BackupType.Upload }, h.source, operation().handle);
    assert.ok(h.psqlStdin.bytes.toString().endsWith(TAIL), 'committed');
  });

  describe('a backup without large objects: pg_restore writes into psql directly', () => {
    const direct = (h: ReturnType<typeof runHarness>) => ({ ...h.backup, metadata: { largeObjects: 0 } } as BackupHistory);

    it('psql runs BEGIN and the wipe, reads pg_restore itself, then waits at the gate, which opens once pg_restore exited 0', async () => {
      const script = pgRestore(SCRIPT);
      script.exit(0);
      const h = runHarness(script);
      const { handle, markIrrevocable } = operation();

      await h.runner.run('r-7', direct(h), h.source, handle);

      const restoreCall = h.spawn.mock.calls.find((c) => c.arguments[0] === tools.pgRestore)!;
      const psqlCall = h.spawn.mock.calls.find((c) => c.arguments[0] === tools.psql)!;
      assert.deepEqual(restoreCall.arguments[1], ['--file=-'], 'no --single-transaction: the script has no COMMIT of its own');
      assert.equal(psqlCall.arguments[2].stdin, script.stdout, "pg_restore's stdout is psql's stdin");
      assert.deepEqual(
        psqlCall.arguments[1].slice(-4),
        [`--command=BEGIN;\n${WIPE}`, '--file=-', `--command=${h.gate.sql};\n${MARKER('r-7')}`, '--command=COMMIT'],
        'head, script, gate and marker, COMMIT: in that order',
      );
      assert.deepEqual(h.database.openCommitGate.mock.calls[0].arguments, ['postgres://u:s3cret@h:5432/shop'], 'the gate is on the restored database');
      assert.equal(h.psqlStdin.bytes.length, 0, 'Node wrote none of the script');
      assert.deepEqual(h.psqlHandedIn.bytes, Buffer.concat(SCRIPT), 'psql read all of it');
      assert.equal(markIrrevocable.mock.callCount(), 1);
      assert.equal(h.gate.open.mock.callCount(), 1);
      assert.equal(h.gate.close.mock.callCount(), 1, 'its connection closed after');
    });

    it('leaves the gate shut, so psql rolls back, when pg_restore fails', async () => {
      const script = pgRestore(SCRIPT);
      script.exit(1, 'pg_restore: error: could not read from input file: end of file');
      const h = runHarness(script);

      await assert.rejects(h.runner.run('r-8', direct(h), h.source, operation().handle), /end of file/);

      assert.equal(h.gate.open.mock.callCount(), 0, 'never opened');
      assert.equal(h.gate.close.mock.callCount(), 1, 'closed: a session waiting at it fails');
      assert.ok(h.psql.kill.mock.callCount() >= 1, 'psql killed');
      assert.deepEqual(h.database.terminateSessions.mock.calls.map((c) => c.arguments[0]), ['nestjs-pg-backup:restore:r-8'], 'and its session ended');
    });

    it('leaves the gate shut and marks nothing irrevocable when psql fails before pg_restore ends', async () => {
      const script = pgRestore(SCRIPT);
      const h = runHarness(script);
      const { handle, markIrrevocable } = operation();
      h.psql.exit(3, 'psql:<stdin>:12: ERROR:  relation "orders" already exists');

      await assert.rejects(h.runner.run('r-9', direct(h), h.source, handle), /already exists/);
      script.exit(0);
      await new Promise((resolve) => setTimeout(resolve, 20));

      assert.equal(h.gate.open.mock.callCount(), 0);
      assert.equal(markIrrevocable.mock.callCount(), 0);
    });
  });

  it('feeds pg_restore through the decoder stages of the backup format', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(0);
    const unmask = (chunk: Buffer) => Buffer.from(chunk.map((b) => b ^ 0x55));
    const decrypt = fakeStage('decrypt', { transform: unmask });
    const decompress = fakeStage('decompress');
    const h = runHarness(script, () => [decrypt, decompress]);
    const backup = { ...h.backup, filename: `${h.backup.filename}.zst.age`, compression: 'zstd', encrypted: true };

    await h.runner.run('r-3', backup, h.source, operation().handle);

    assert.deepEqual(h.pipeline.decoders.mock.calls[0].arguments, [{ compression: 'zstd', encrypted: true }, { handOverOutput: true }]);
    assert.deepEqual(script.stdin.bytes, unmask(Buffer.concat(FILE)), 'pg_restore reads the decoded file');
    assert.ok(h.psqlStdin.bytes.toString().endsWith('COMMIT;\n\n'), 'committed once everything succeeded');
  });

  it('rejects and sends no COMMIT when decryption fails, though pg_restore exited 0; every stage is killed', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(0);
    const decrypt = fakeStage('decrypt', { streamError: new Error('damaged age file: chunk 0 does not authenticate') });
    const decompress = fakeStage('decompress');
    const h = runHarness(script, () => [decrypt, decompress]);

    await assert.rejects(h.runner.run('r-4', { ...h.backup, encrypted: true }, h.source, operation().handle), /chunk 0 does not authenticate/);

    const sent = h.psqlStdin.bytes.toString();
    assert.ok(!sent.includes('COMMIT'), 'psql never saw a COMMIT, so the transaction rolls back');
    assert.ok(decrypt.kill.mock.callCount() >= 1 && decompress.kill.mock.callCount() >= 1, 'every stage killed');
    assert.ok(h.psql.kill.mock.callCount() >= 1, 'psql killed');
  });

  it('rejects and sends no COMMIT when a decoder process exits non-zero', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(0);
    const decompress = fakeStage('decompress', { completion: 'pending' });
    const h = runHarness(script, () => [decompress]);
    h.storage.openRead.mock.mockImplementation(() => {
      const file = Readable.from(FILE);
      file.once('end', () => decompress.settle(new ProcessFailedError('zstd', 1, null, 'zstd: /*stdin*\\: premature end')));
      return file;
    });

    await assert.rejects(h.runner.run('r-5', { ...h.backup, compression: 'zstd' }, h.source, operation().handle), /zstd exited with code 1/);

    assert.ok(!h.psqlStdin.bytes.toString().includes('COMMIT'));
  });

  it("names pg_restore's error, not the SIGPIPE it caused upstream, when pg_restore stops reading", async () => {
    const script = pgRestore(SCRIPT);
    script.exit(1, 'pg_restore: error: input file does not appear to be a valid archive');
    const decompress = fakeStage('decompress', { completion: 'pending' });
    decompress.settle(new ProcessFailedError('zstd', null, 'SIGPIPE', ''));
    const h = runHarness(script, () => [decompress]);

    await assert.rejects(h.runner.run('r-6', { ...h.backup, compression: 'zstd' }, h.source, operation().handle), /does not appear to be a valid archive/);

    assert.ok(!h.psqlStdin.bytes.toString().includes('COMMIT'));
  });

  it('rejects, sends no COMMIT and kills both processes when pg_restore fails mid-way', async () => {
    const script = pgRestore(SCRIPT);
    script.exit(1, 'pg_restore: error: could not uncompress data: invalid distance too far back');
    const h = runHarness(script);

    await assert.rejects(h.runner.run('r-2', h.backup, h.source, operation().handle), /invalid distance too far back/);

    const sent = h.psqlStdin.bytes.toString();
    assert.ok(sent.startsWith('BEGIN;\n'));
    assert.ok(!sent.includes('COMMIT'), 'psql never saw a COMMIT, so the transaction rolls back');
    assert.equal(h.psql.kill.mock.callCount() >= 1, true);
    assert.equal(script.kill.mock.callCount() >= 1, true);
  });
});

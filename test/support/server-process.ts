import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { sleep } from './net';

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  output(): string;
  kill(signal: NodeJS.Signals): void;
  exited(): Promise<number | null>;
}

const MAIN = join(__dirname, '..', '..', 'src', 'main.js');

/** The compiled standalone server as a child process, as an operator runs it. */
export async function startServerProcess(env: Record<string, string>, { waitReady = true } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${env.PORT}/api/admin`;
  if (waitReady) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${output}`);
      try {
        await fetch(`${base}/operations/current`);
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`server not ready: ${output}`);
        await sleep(200);
      }
    }
  }
  return { child, base, output: () => output, kill: (signal) => child.kill(signal), exited: () => exit };
}

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eicarHex } from '../../../src/host/scanners/eicar.js';
import {
  exchange,
  freePort,
  makeTempDir,
  removeDir,
  requireBinary,
  spawnManaged,
  stopManaged,
  waitUntilReady,
} from './common.js';

export const TEST_SIGNATURE = 'Unseal.Test.EICAR';
/** clamd appends `.UNOFFICIAL` to signatures from databases it cannot verify. */
export const TEST_SIGNATURE_REPORTED = `${TEST_SIGNATURE}.UNOFFICIAL`;

export interface ClamdOptions {
  tcp?: boolean;
  alertExceedsMax?: boolean;
  streamMaxLength?: string;
  maxFileSize?: string;
  maxScanSize?: string;
  /** More `.ndb` body signatures (`Name:0:*:HEX`), in a second database file: a "signature update". */
  extraSignatures?: string[];
}

export interface ClamdHandle {
  readonly socketPath: string;
  readonly port?: number;
  /** `clamd+unix://` URL of the private socket. */
  readonly url: string;
  readonly tcpUrl?: string;
  readonly configPath: string;
  readonly dir: string;
  readonly pid: number;
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  log(): string;
}

export async function startClamd(opts: ClamdOptions = {}): Promise<ClamdHandle> {
  const clamd = requireBinary('clamd', ['/usr/sbin/clamd', '/usr/bin/clamd', '/usr/local/sbin/clamd']);
  const dir = makeTempDir('unseal-clamd-');
  const db = join(dir, 'db');
  const socketPath = join(dir, 'clamd.ctl');
  const configPath = join(dir, 'clamd.conf');
  const logPath = join(dir, 'clamd.log');
  mkdirSync(db, { mode: 0o755 });
  // A body signature at any offset: the test string is found wherever it sits (end of a padded
  // object, inside a stored zip member, in a decoded MIME part).
  writeFileSync(join(db, 'eicar.ndb'), `${TEST_SIGNATURE}:0:*:${eicarHex()}\n`);
  if (opts.extraSignatures?.length) writeFileSync(join(db, 'update.ndb'), `${opts.extraSignatures.join('\n')}\n`);
  const port = opts.tcp ? await freePort() : undefined;
  const lines = [
    'Foreground yes',
    `LocalSocket ${socketPath}`,
    // c-icap's clamd_mod connects as the unprivileged c-icap user.
    'LocalSocketMode 666',
    `DatabaseDirectory ${db}`,
    `LogFile ${logPath}`,
    'SelfCheck 0',
    'Bytecode no',
    'ScanMail yes',
    'ScanArchive yes',
    'ScanPDF yes',
    `StreamMaxLength ${opts.streamMaxLength ?? '100M'}`,
    // Unset means clamd's own default (no): the fail-open configuration the canaries must catch.
    ...(opts.alertExceedsMax === undefined ? [] : [`AlertExceedsMax ${opts.alertExceedsMax ? 'yes' : 'no'}`]),
    ...(opts.maxFileSize ? [`MaxFileSize ${opts.maxFileSize}`] : []),
    ...(opts.maxScanSize ? [`MaxScanSize ${opts.maxScanSize}`] : []),
    ...(port ? ['TCPAddr 127.0.0.1', `TCPSocket ${port}`] : []),
  ];
  writeFileSync(configPath, lines.join('\n') + '\n');
  const m = spawnManaged(clamd, ['-c', configPath]);
  const readLog = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8').slice(-4000) : '');
  try {
    await waitUntilReady(
      'clamd',
      m,
      async () => {
        if (!existsSync(socketPath)) return false;
        const r = await exchange({ path: socketPath }, 'zPING\0', (b) => b.includes(0));
        return r.toString() === 'PONG\0';
      },
      20_000,
      readLog,
    );
  } catch (e) {
    removeDir(dir);
    throw e;
  }
  const pid = m.child.pid ?? -1;
  return {
    socketPath,
    port,
    url: `clamd+unix://${socketPath}`,
    tcpUrl: port ? `clamd://127.0.0.1:${port}` : undefined,
    configPath,
    dir,
    pid,
    log: readLog,
    async stop() {
      await stopManaged(m);
      removeDir(dir);
    },
    kill(signal) {
      m.child.kill(signal);
    },
  };
}

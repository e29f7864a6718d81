// Loopback infrastructure for the e2e tests: real parts, started by the test and stopped by it.
//
// - A test CA (openssl): a CA and leaf certificates for 127.0.0.1/localhost.
// - Debian's docker-registry on a free loopback port, TLS from the test CA, htpasswd (bcrypt)
//   auth, config and storage in a temp directory. The engines trust it through
//   /etc/docker/certs.d/127.0.0.1:PORT/ca.crt, which stop() removes again.
// - A second dockerd, the "fresh runner": its own --data-root, --exec-root, --pidfile, unix
//   socket, config file, and bridge; optionally also tcp://127.0.0.1:PORT with --tlsverify.
// - An sshd on a loopback port with its own host key and config, and an ssh-agent holding the key
//   it authorises, so DOCKER_HOST=ssh://root@127.0.0.1:PORT works (the far side runs
//   `docker system dial-stdio`, with the first engine behind it).
//
// Each start() waits until the part answers, or fails with its log's tail; each stop() ends only
// the processes it started, by pid, and undoes what it set up. They need root (dockerd, bridges,
// iptables, /etc/docker/certs.d). Gated like the other e2e tests: requireInfra() skips with a
// reason, or under DERIVC_E2E=1 fails.
//
// Why the second dockerd has --iptables=false and its own rules: a dockerd with iptables on
// flushes the DOCKER chains at start (libnetwork's bridge driver removes and recreates them),
// which would drop the first engine's port mappings and isolation rules on a shared machine. So
// this one programs nothing, and the fixture adds exactly the three rules its bridge needs for RUN
// steps to reach the network (apt), and deletes exactly those at stop: a MASQUERADE for its
// subnet, and FORWARD accepts for its bridge — the first engine set the FORWARD policy to DROP.
// The bridge is made beforehand (`ip link add … type bridge`, with an address) and passed as
// --bridge: dockerd 20.10 creates only docker0 itself, and --bip alone would re-address the
// first engine's docker0.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as dns from 'node:dns/promises';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { findOnPath, probeFile } from '../../cli/host-tools.js';
import { dockerodeEngine } from '../../targets/io/dockerode-engine.js';
import { e2eRequired } from './require.js';

// ---------------------------------------------------------------------------------------------
// Gate

/** What each part runs, with its Debian package. */
const NEEDS: Record<'ca' | 'registry' | 'engine' | 'sshd', readonly (readonly [string, string])[]> = {
  ca: [['openssl', 'openssl']],
  registry: [
    ['docker-registry', 'docker-registry'],
    ['htpasswd', 'apache2-utils'],
    ['docker', 'docker.io'],
  ],
  engine: [
    ['dockerd', 'docker.io'],
    ['docker', 'docker.io'],
    ['ip', 'iproute2'],
    ['iptables', 'iptables'],
  ],
  sshd: [
    ['/usr/sbin/sshd', 'openssh-server'],
    ['ssh-keygen', 'openssh-client'],
    ['ssh-agent', 'openssh-client'],
    ['ssh-add', 'openssh-client'],
    ['ssh', 'openssh-client'],
    ['docker', 'docker.io'],
  ],
};

export type InfraPart = keyof typeof NEEDS;

/** True when every program the parts need is here and we are root; otherwise skips (false) or, under DERIVC_E2E=1, throws. */
export async function requireInfra(parts: readonly InfraPart[]): Promise<boolean> {
  const missing: string[] = [];
  const packages = new Set<string>();
  for (const [name, pkg] of parts.flatMap((p) => NEEDS[p])) {
    const found = name.startsWith('/') ? await probeFile(name) : (await findOnPath(name)) !== undefined;
    if (!found && !missing.includes(name)) {
      missing.push(name);
      packages.add(pkg);
    }
  }
  let reason: string | undefined;
  if (missing.length) reason = `${missing.map((m) => `\`${m}\``).join(', ')} missing (apt-get install -y ${[...packages].join(' ')})`;
  else if (process.getuid?.() !== 0) reason = `the loopback ${parts.join(', ')} fixtures need root (dockerd, bridges, iptables, /etc/docker/certs.d)`;
  if (reason === undefined) return true;
  if (e2eRequired()) throw new Error(`${reason} (DERIVC_E2E=1: end-to-end tests must run, not skip)`);
  console.warn(`e2e skipped: ${reason} (set DERIVC_E2E=1 to make this a failure)`);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Processes

/** A TCP port on `host` (127.0.0.1) nothing listens on right now. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
  });
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The last lines of a log file, for error messages. */
function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Processes still running when the test process exits get SIGTERM: a crashed test leaves no daemon running (its bridge, rules and directories stay: stop() removes those). */
const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
});

/** A process this fixture started, its output in a log file. */
class Daemon {
  readonly pid: number;
  private exited: Promise<void>;
  private done = false;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    if (child.pid === undefined) throw new Error(`${name} did not start: see ${logFile}`);
    this.pid = child.pid;
    running.add(this.pid);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        this.done = true;
        running.delete(this.pid);
        resolve();
      }),
    );
  }

  static start(name: string, file: string, args: readonly string[], logFile: string, env?: NodeJS.ProcessEnv): Daemon {
    const log = fs.openSync(logFile, 'a');
    try {
      const child = spawn(file, args, { stdio: ['ignore', log, log], env: env ?? process.env });
      child.once('error', (err) => fs.appendFileSync(logFile, `\n${name}: ${err.message}\n`));
      return new Daemon(name, child, logFile);
    } finally {
      fs.closeSync(log);
    }
  }

  get alive(): boolean {
    return !this.done;
  }

  tail(lines = 30): string {
    return tail(this.logFile, lines);
  }

  /** Polls `ready` until it says yes; fails with the log's tail when the process dies or time runs out. */
  async waitReady(ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.alive) throw new Error(`${this.name} (pid ${this.pid}) exited before it was ready; the end of ${this.logFile}:\n${this.tail()}`);
      if (await ready().catch(() => false)) return;
      if (Date.now() > deadline) {
        throw new Error(`${this.name} (pid ${this.pid}) was not ready within ${timeoutMs / 1000} s; the end of ${this.logFile}:\n${this.tail()}`);
      }
      await sleep(200);
    }
  }

  /** SIGTERM, then SIGKILL (said on the console, with the log's tail) if it has not exited within `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = sleep(graceMs).then(() => 'timeout' as const);
    if ((await Promise.race([this.exited.then(() => 'exited' as const), timer])) === 'timeout') {
      console.warn(`${this.name} (pid ${this.pid}) did not stop within ${graceMs / 1000} s of SIGTERM: killed; the end of ${this.logFile}:\n${this.tail()}`);
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Runs `fn` for every cleanup step, then throws the first failure: one failing step never skips the others. */
async function cleanup(steps: readonly (() => unknown)[]): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

/** A stop() that does its work once, however often it is called (afterAll and a test may both call it). */
function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(port, '127.0.0.1', () => {
      probe.destroy();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
  });
}

// ---------------------------------------------------------------------------------------------
// Test CA

export interface TestCa {
  dir: string;
  /** The CA's certificate (PEM): what clients trust. */
  cert: string;
  /** A leaf certificate and key signed by the CA, for 127.0.0.1, localhost and the DNS names and IPs given. */
  issue(name: string, use: 'server' | 'client', dnsNames?: readonly string[], ips?: readonly string[]): Promise<{ cert: string; key: string }>;
  remove(): void;
}

/** A throwaway CA (EC P-256, valid for two days) in its own temp directory. */
export async function makeTestCa(): Promise<TestCa> {
  const dir = tempDir('derivc-e2e-ca-');
  const cert = path.join(dir, 'ca.pem');
  const caKey = path.join(dir, 'ca.key');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await execa('openssl', ['req', '-x509', ...ec, '-keyout', caKey, '-out', cert, '-days', '2', '-subj', '/CN=derivc e2e test CA']);
  return {
    dir,
    cert,
    async issue(name, use, dnsNames = [], ips = []) {
      const leafCert = path.join(dir, `${name}.pem`);
      const key = path.join(dir, `${name}.key`);
      const csr = path.join(dir, `${name}.csr`);
      const ext = path.join(dir, `${name}.ext`);
      fs.writeFileSync(
        ext,
        use === 'server'
          ? `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${['IP:127.0.0.1', ...ips.map((i) => `IP:${i}`), 'DNS:localhost', ...dnsNames.map((d) => `DNS:${d}`)].join(',')}\n`
          : 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
      );
      await execa('openssl', ['req', '-new', ...ec, '-keyout', key, '-out', csr, '-subj', `/CN=${use === 'server' ? 'localhost' : 'derivc-e2e-client'}`]);
      const serial = `0x${randomBytes(8).toString('hex')}`;
      await execa('openssl', [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        cert,
        '-CAkey',
        caKey,
        '-set_serial',
        serial,
        '-days',
        '2',
        '-out',
        leafCert,
        '-extfile',
        ext,
      ]);
      return { cert: leafCert, key };
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** An HTTPS GET to `host` (127.0.0.1) trusting only `ca`: the status, or the TLS error's code. */
export function httpsStatus(port: number, urlPath: string, ca: string | undefined, auth?: string, host = '127.0.0.1'): Promise<number | string> {
  return new Promise((resolve) => {
    const req = https.get({ host, port, path: urlPath, ca: ca === undefined ? undefined : fs.readFileSync(ca), auth, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

// ---------------------------------------------------------------------------------------------
// Registry

const CERTS_D = '/etc/docker/certs.d';

export interface TestRegistry {
  /** host:port, as image references and `docker login` name it. */
  address: string;
  port: number;
  user: string;
  password: string;
  /** The CA certificate (PEM file) the registry's certificate chains to. */
  caCert: string;
  /** Where the engines find that CA: /etc/docker/certs.d/<address>/ca.crt. */
  trustFile: string;
  dir: string;
  pid: number;
  logTail(lines?: number): string;
  /** `docker login` with the docker CLI into the docker config directory `configDir`. */
  login(configDir: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * This machine's host name and its address when it resolves to exactly one loopback address
 * (Debian's /etc/hosts maps it to 127.0.1.1; .ci/run makes sure it does), else undefined: with
 * several, Go's resolver (the engines') might pick another than the one the registry listens on.
 */
export async function loopbackHostname(): Promise<{ name: string; address: string } | undefined> {
  const name = os.hostname();
  try {
    const addresses = [...new Set((await dns.lookup(name, { all: true })).map((a) => a.address))];
    return addresses.length === 1 && addresses[0]!.startsWith('127.') ? { name, address: addresses[0]! } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Debian's docker-registry on 127.0.0.1 with TLS from `ca` and one htpasswd user. Named by its IP
 * (`127.0.0.1:PORT`), or with `byName` by this machine's host name (`loopbackHostname()`): the
 * BuildKit inside Docker 20.10 speaks plain HTTP to any registry named by a loopback IP or
 * `localhost` (containerd's MatchLocalhost), so a BuildKit pull or cache import from a TLS
 * registry needs a name that is neither — dockerd's own pushes and pulls use TLS either way.
 */
export async function startRegistry(ca: TestCa, opts: { byName?: boolean } = {}): Promise<TestRegistry> {
  const named = opts.byName ? await loopbackHostname() : { name: '127.0.0.1', address: '127.0.0.1' };
  if (named === undefined)
    throw new Error(`the registry fixture needs this machine's host name (${os.hostname()}) to resolve to one 127.x.x.x address (add it to /etc/hosts)`);
  const { name, address: ip } = named;
  const dir = tempDir('derivc-e2e-registry-');
  const port = await freePort(ip);
  const address = `${name}:${port}`;
  const user = 'derivc';
  const password = randomBytes(12).toString('hex');
  // Its address too: the readiness check below and the engines connect to it (127.0.1.1 on Debian).
  const tls = await ca.issue(`registry-${port}`, 'server', opts.byName ? [name] : [], ip === '127.0.0.1' ? [] : [ip]);
  const htpasswd = path.join(dir, 'htpasswd');
  // -B: bcrypt, the only hash docker-registry accepts.
  await execa('htpasswd', ['-B', '-b', '-c', htpasswd, user, password]);
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(
    config,
    stringify({
      version: 0.1,
      log: { level: 'info', fields: { service: 'registry' } },
      storage: { filesystem: { rootdirectory: path.join(dir, 'storage') }, delete: { enabled: true } },
      http: { addr: `${ip}:${port}`, secret: randomBytes(16).toString('hex'), tls: { certificate: tls.cert, key: tls.key } },
      auth: { htpasswd: { realm: 'derivc-e2e', path: htpasswd } },
    }),
  );
  const trustDir = path.join(CERTS_D, address);
  const madeCertsD = !fs.existsSync(CERTS_D);
  fs.mkdirSync(trustDir, { recursive: true });
  const trustFile = path.join(trustDir, 'ca.crt');
  fs.copyFileSync(ca.cert, trustFile);

  const daemon = Daemon.start('docker-registry', 'docker-registry', ['serve', config], path.join(dir, 'registry.log'));
  const stop = once(() =>
    cleanup([
      () => daemon.stop(),
      () => fs.rmSync(trustDir, { recursive: true, force: true }),
      () => {
        try {
          if (madeCertsD) fs.rmdirSync(CERTS_D);
        } catch (err) {
          // Another fixture's trust file is there: that fixture removes its own.
          if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY') throw err;
        }
      },
      () => fs.rmSync(dir, { recursive: true, force: true }),
    ]),
  );
  try {
    // 401 is the answer of a registry that is up and wants credentials.
    // Through the name the engines use, so a certificate without it fails here, not in a test.
    await daemon.waitReady(async () => (await httpsStatus(port, '/v2/', ca.cert, undefined, name)) === 401, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    port,
    user,
    password,
    caCert: ca.cert,
    trustFile,
    dir,
    pid: daemon.pid,
    logTail: (lines) => daemon.tail(lines),
    async login(configDir) {
      await execa('docker', ['--config', configDir, 'login', address, '--username', user, '--password-stdin'], { input: password });
    },
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// A second dockerd: the fresh runner

export interface SecondEngine {
  /** unix:// address of its socket. */
  host: string;
  socket: string;
  /** Its tcp://127.0.0.1:PORT with --tlsverify, when started with a CA. */
  tls?: {
    host: string;
    port: number;
    /** DOCKER_CERT_PATH: ca.pem, cert.pem, key.pem (a client certificate from the CA). */
    certPath: string;
  };
  dataRoot: string;
  bridge: string;
  subnet: string;
  pid: number;
  /** DOCKER_HOST for its unix socket. */
  env(): Record<string, string>;
  /** DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for its TLS port. */
  tlsEnv(): Record<string, string>;
  /** Copies an image from the first engine (`docker save | docker -H … load`). */
  loadImage(ref: string): Promise<void>;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

let engines = 0;

/** A /24 in 10.213.0.0/16 no route on this host covers (pid-based start, so parallel test processes differ). */
async function freeSubnet(): Promise<number> {
  const routes = (await execa('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout;
  for (let i = 0; i < 250; i++) {
    const n = (process.pid + engines * 37 + i) % 250;
    if (!routes.includes(`10.213.${n}.`)) return n;
  }
  throw new Error('no free 10.213.N.0/24 subnet for the second engine');
}

/** iptables rules for the bridge: [table, chain, rule]. */
function bridgeRules(bridge: string, subnet: string): [string, string, string[]][] {
  return [
    ['nat', 'POSTROUTING', ['-s', subnet, '!', '-o', bridge, '-j', 'MASQUERADE']],
    ['filter', 'FORWARD', ['-i', bridge, '-j', 'ACCEPT']],
    ['filter', 'FORWARD', ['-o', bridge, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']],
  ];
}

/** Mount points at or under `dir` (a stopped dockerd leaves none). */
function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mount) => mount === dir || mount.startsWith(`${dir}/`));
}

/**
 * dockerd stops the containerd it started; if dockerd had to be killed, that containerd is left and
 * is ours to end — only if the pid in its pid file really is a containerd of this exec root.
 */
async function stopOrphanContainerd(execRoot: string): Promise<void> {
  let pid: number;
  let cmdline: string;
  try {
    pid = Number(fs.readFileSync(path.join(execRoot, 'containerd', 'containerd.pid'), 'utf8').trim());
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // no pid file, or no such process: nothing left
  }
  if (!cmdline.startsWith('containerd\0') || !cmdline.includes(execRoot)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && fs.existsSync(`/proc/${pid}`); i++) await sleep(100);
}

/** A second dockerd with everything of its own; `ca` adds a TLS tcp port (client certificates required). */
export async function startSecondEngine(opts: { ca?: TestCa } = {}): Promise<SecondEngine> {
  engines += 1;
  const dir = tempDir('derivc-e2e-engine-');
  const socket = path.join(dir, 'docker.sock');
  const dataRoot = path.join(dir, 'data');
  const execRoot = path.join(dir, 'exec');
  const pidFile = path.join(dir, 'dockerd.pid');
  const daemonJson = path.join(dir, 'daemon.json');
  // Not /etc/docker/daemon.json: whatever the host configures there is the first engine's.
  fs.writeFileSync(daemonJson, '{}\n');
  const bridge = `dvc${process.pid % 1_000_000}-${engines}`.slice(0, 15);
  const n = await freeSubnet();
  const subnet = `10.213.${n}.0/24`;
  const rules = bridgeRules(bridge, subnet);
  /** What was set up outside the temp directory, undone in reverse order. */
  const added: (() => Promise<unknown>)[] = [];

  let daemon: Daemon | undefined;
  let tls: SecondEngine['tls'];
  const stop = once(() =>
    cleanup([
      () => daemon?.stop(30_000),
      () => stopOrphanContainerd(execRoot),
      ...[...added].reverse(),
      async () => {
        const left = mountsUnder(dir);
        if (left.length) throw new Error(`the second engine left mounts under ${dir}; not removing it: ${left.join(', ')}`);
        // rm(1), not fs.rmSync: several times faster on a data root's many small files, and
        // --one-file-system never descends into a mount should one appear meanwhile.
        await execa('rm', ['-rf', '--one-file-system', '--', dir]);
      },
    ]),
  );

  try {
    await execa('ip', ['link', 'add', bridge, 'type', 'bridge']);
    added.push(() => execa('ip', ['link', 'del', bridge]));
    await execa('ip', ['addr', 'add', `10.213.${n}.1/24`, 'dev', bridge]);
    await execa('ip', ['link', 'set', bridge, 'up']);
    for (const [table, chain, rule] of rules) {
      await execa('iptables', ['-t', table, chain === 'FORWARD' ? '-I' : '-A', chain, ...rule]);
      added.push(() => execa('iptables', ['-t', table, '-D', chain, ...rule]));
    }
    const args = [
      '--data-root',
      dataRoot,
      '--exec-root',
      execRoot,
      '--pidfile',
      pidFile,
      '--config-file',
      daemonJson,
      '-H',
      `unix://${socket}`,
      '--bridge',
      bridge,
      '--iptables=false',
      '--ip-masq=false',
    ];
    if (opts.ca) {
      const port = await freePort();
      const server = await opts.ca.issue(`dockerd-${port}`, 'server');
      const client = await opts.ca.issue(`docker-client-${port}`, 'client');
      const certPath = path.join(dir, 'client');
      fs.mkdirSync(certPath);
      fs.copyFileSync(opts.ca.cert, path.join(certPath, 'ca.pem'));
      fs.copyFileSync(client.cert, path.join(certPath, 'cert.pem'));
      fs.copyFileSync(client.key, path.join(certPath, 'key.pem'));
      args.push('-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', opts.ca.cert, '--tlscert', server.cert, '--tlskey', server.key);
      tls = { host: `tcp://127.0.0.1:${port}`, port, certPath };
    }
    daemon = Daemon.start('the second dockerd', 'dockerd', args, path.join(dir, 'dockerd.log'));
    const probe = dockerodeEngine({ DOCKER_HOST: `unix://${socket}` });
    await daemon.waitReady(async () => {
      await probe.info();
      return true;
    }, 60_000);
    if (tls) {
      const port = tls.port;
      await daemon.waitReady(() => accepting(port), 10_000);
    }
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  const host = `unix://${socket}`;
  const d = daemon;
  return {
    host,
    socket,
    ...(tls ? { tls } : {}),
    dataRoot,
    bridge,
    subnet,
    pid: d.pid,
    env: () => ({ DOCKER_HOST: host }),
    tlsEnv: () => {
      if (!tls) throw new Error('this second engine was started without a CA: it has no TLS port');
      return { DOCKER_HOST: tls.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: tls.certPath };
    },
    async loadImage(ref) {
      // Not buffered: an image is larger than execa's buffer, which would cut the stream short.
      await execa('docker', ['save', ref], { buffer: false }).pipe('docker', ['-H', host, 'load']);
    },
    logTail: (lines) => d.tail(lines),
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// sshd and ssh-agent

export interface SshServer {
  port: number;
  /** DOCKER_HOST for the engine behind it: ssh://root@127.0.0.1:PORT. */
  dockerHost: string;
  /** The agent holding the authorised key (SSH_AUTH_SOCK). */
  agentSocket: string;
  /** DOCKER_HOST and SSH_AUTH_SOCK. */
  env(): Record<string, string>;
  /** sshd's log: each accepted login is a line in it. */
  log(): string;
  /** Runs a command on the far side with the ssh client (strict host key checking against this sshd's key). */
  ssh(command: string): Promise<string>;
  stop(): Promise<void>;
}

/** An sshd on 127.0.0.1 letting root in with one generated key, and an ssh-agent holding that key. */
export async function startSshServer(): Promise<SshServer> {
  const dir = tempDir('derivc-e2e-sshd-');
  const port = await freePort();
  const hostKey = path.join(dir, 'host_ed25519');
  const userKey = path.join(dir, 'id_ed25519');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'derivc e2e host', '-f', hostKey]);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'derivc e2e client', '-f', userKey]);
  const authorizedKeys = path.join(dir, 'authorized_keys');
  fs.copyFileSync(`${userKey}.pub`, authorizedKeys);
  const knownHosts = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${port} ${fs.readFileSync(`${hostKey}.pub`, 'utf8')}`);
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'AllowUsers root',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      // The key and its directory are in the temp directory, under a world-writable /tmp.
      'StrictModes no',
      'UseDNS no',
      'AllowTcpForwarding no',
      'AllowAgentForwarding no',
      'X11Forwarding no',
      // docker-modem opens one ssh connection per API call, several at once.
      'MaxStartups 100',
      'MaxSessions 100',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  // The privilege-separation directory Debian's ssh.service would make; left in place (it is the package's).
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const agentSocket = path.join(dir, 'agent.sock');
  let agent: Daemon | undefined;
  let sshd: Daemon | undefined;
  const stop = once(() => cleanup([() => sshd?.stop(), () => agent?.stop(), () => fs.rmSync(dir, { recursive: true, force: true })]));
  const sshArgs = (command: string) => [
    '-F',
    '/dev/null',
    '-p',
    String(port),
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'ConnectTimeout=5',
    'root@127.0.0.1',
    command,
  ];
  const sshEnv = { ...process.env, SSH_AUTH_SOCK: agentSocket };
  try {
    // -D: in the foreground, so the pid is the agent's own.
    agent = Daemon.start('ssh-agent', 'ssh-agent', ['-D', '-a', agentSocket], path.join(dir, 'agent.log'));
    await agent.waitReady(async () => fs.existsSync(agentSocket), 10_000);
    await execa('ssh-add', ['-q', userKey], { env: sshEnv });
    // sshd re-executes itself and wants its absolute path; -D foreground, -e log to stderr.
    sshd = Daemon.start('sshd', '/usr/sbin/sshd', ['-D', '-e', '-f', config], path.join(dir, 'sshd.log'));
    await sshd.waitReady(async () => (await execa('ssh', sshArgs('true'), { env: sshEnv, reject: false, stdin: 'ignore' })).exitCode === 0, 20_000);
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  const s = sshd;
  return {
    port,
    dockerHost: `ssh://root@127.0.0.1:${port}`,
    agentSocket,
    env: () => ({ DOCKER_HOST: `ssh://root@127.0.0.1:${port}`, SSH_AUTH_SOCK: agentSocket }),
    log: () => s.tail(10_000),
    async ssh(command) {
      return (await execa('ssh', sshArgs(command), { env: sshEnv, stdin: 'ignore' })).stdout;
    },
    stop,
  };
}

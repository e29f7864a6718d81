// Without DOCKER_HOST, derivc talks to the engine of the current docker context, found as the
// docker CLI finds it: DOCKER_CONTEXT, else `currentContext` in $DOCKER_CONFIG/config.json; the
// context's address in contexts/meta/<sha256 of its name>/meta.json and its TLS files beside it.
// Each case writes such a store into a temp DOCKER_CONFIG, in the layout and JSON the docker CLI
// writes (`docker context create`; the e2e suite reads one the CLI itself made).

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chooseEngine, contextDigest, describeSource, type ContextFiles } from '../targets/io/docker-context.js';
import { connectionFromEnv, dockerodeEngine } from '../targets/io/dockerode-engine.js';
import { EngineUnreachableError } from '../targets/io/engine.js';
import { lazyEngine } from '../targets/io/lazy-engine.js';

let config: string;
beforeEach(() => void (config = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-docker-config-'))));
afterEach(() => fs.rmSync(config, { recursive: true, force: true }));

/** A context as `docker context create NAME --docker host=HOST[,ca=…,cert=…,key=…,skip-tls-verify=…]` stores it. */
function addContext(name: string, host: string, tls: { ca?: string; cert?: string; key?: string; skipVerify?: boolean } = {}): void {
  const digest = createHash('sha256').update(name).digest('hex');
  const meta = path.join(config, 'contexts', 'meta', digest);
  fs.mkdirSync(meta, { recursive: true });
  const endpoint = { Host: host, SkipTLSVerify: tls.skipVerify ?? false };
  fs.writeFileSync(path.join(meta, 'meta.json'), JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: endpoint } }));
  for (const part of ['ca', 'cert', 'key'] as const) {
    const text = tls[part];
    if (text === undefined) continue;
    const dir = path.join(config, 'contexts', 'tls', digest, 'docker');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${part}.pem`), text);
  }
}

/** `docker context use NAME` (the CLI writes the config with tabs; any JSON object does). */
function useContext(name: string): void {
  fs.writeFileSync(path.join(config, 'config.json'), JSON.stringify({ auths: {}, currentContext: name }, null, '\t'));
}

const env = (more: Record<string, string> = {}) => ({ DOCKER_CONFIG: config, ...more });

describe('which engine: the docker CLI order', () => {
  it('uses the context config.json names, and says so', () => {
    addContext('build', 'unix:///run/build/docker.sock');
    useContext('build');
    const choice = chooseEngine(env());
    expect(choice).toMatchObject({ host: 'unix:///run/build/docker.sock', source: { kind: 'context', name: 'build', setBy: 'config' } });
    expect(describeSource(choice.source)).toBe(`docker context "build" (currentContext in ${path.join(config, 'config.json')})`);
    expect(connectionFromEnv(env())).toMatchObject({
      endpoint: 'unix:///run/build/docker.sock',
      options: { socketPath: '/run/build/docker.sock', host: undefined },
    });
  });

  it('lets DOCKER_CONTEXT win over config.json', () => {
    addContext('build', 'unix:///run/build/docker.sock');
    addContext('other', 'unix:///run/other/docker.sock');
    useContext('build');
    const choice = chooseEngine(env({ DOCKER_CONTEXT: 'other' }));
    expect(choice).toMatchObject({ host: 'unix:///run/other/docker.sock', source: { kind: 'context', name: 'other', setBy: 'DOCKER_CONTEXT' } });
    expect(describeSource(choice.source)).toBe('docker context "other" (DOCKER_CONTEXT)');
  });

  it('lets DOCKER_HOST win over DOCKER_CONTEXT and config.json, with DOCKER_TLS_VERIFY its own', () => {
    addContext('build', 'tcp://10.0.0.9:2376', { ca: 'context-ca' });
    useContext('build');
    const e = env({ DOCKER_CONTEXT: 'build', DOCKER_HOST: 'tcp://10.0.0.5:2375' });
    expect(chooseEngine(e)).toEqual({ source: { kind: 'DOCKER_HOST' }, host: 'tcp://10.0.0.5:2375' });
    expect(connectionFromEnv(e)).toMatchObject({ endpoint: 'tcp://10.0.0.5:2375', options: { protocol: 'http', ca: undefined } });
  });

  it('is the default socket without a config, without currentContext, or for the context named default', () => {
    const defaultSocket = { source: { kind: 'default' }, host: 'unix:///var/run/docker.sock' };
    expect(chooseEngine(env())).toEqual(defaultSocket);
    fs.writeFileSync(path.join(config, 'config.json'), '{"auths":{}}');
    expect(chooseEngine(env())).toEqual(defaultSocket);
    useContext('default');
    expect(chooseEngine(env())).toEqual(defaultSocket);
    addContext('build', 'unix:///run/build/docker.sock');
    useContext('build');
    expect(chooseEngine(env({ DOCKER_CONTEXT: 'default' }))).toEqual(defaultSocket);
    expect(describeSource({ kind: 'default' })).toBe('the default socket (no DOCKER_HOST, no docker context)');
  });

  it('finds the config in $HOME/.docker without DOCKER_CONFIG', () => {
    const home = config;
    config = path.join(home, '.docker');
    addContext('build', 'unix:///run/build/docker.sock');
    useContext('build');
    expect(chooseEngine({ HOME: home }).host).toBe('unix:///run/build/docker.sock');
    config = home; // removed by afterEach
  });

  it('stores each context under the SHA-256 of its name, so no name reaches a path', () => {
    expect(contextDigest('t1')).toBe('628b49d96dcde97a430dd4f597705899e09a968f793491e4b704cae33a40dc02'); // as the docker CLI named it
    const choice = chooseEngine(env({ DOCKER_CONTEXT: '../../../etc/passwd' }));
    expect(choice.problem).toContain(path.join(config, 'contexts', 'meta', contextDigest('../../../etc/passwd'), 'meta.json'));
  });
});

describe('a context as a connection', () => {
  it('tcp:// with the TLS files in the context store: https with its CA and client certificate', () => {
    addContext('remote', 'tcp://10.0.0.9:2376', { ca: 'CA', cert: 'CERT', key: 'KEY' });
    useContext('remote');
    const c = connectionFromEnv(env({ DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '/nonexistent' }));
    expect(c).toMatchObject({ endpoint: 'tcp://10.0.0.9:2376', options: { protocol: 'https', host: '10.0.0.9', port: '2376', socketPath: undefined } });
    expect([c.options?.ca, c.options?.cert, c.options?.key].map(String)).toEqual(['CA', 'CERT', 'KEY']);
    expect(c.options?.agent).toBeUndefined();
  });

  it('tcp:// with SkipTLSVerify: https whose agent accepts any server certificate', () => {
    addContext('insecure', 'tcp://10.0.0.9:2376', { skipVerify: true });
    const c = connectionFromEnv(env({ DOCKER_CONTEXT: 'insecure' }));
    expect(c.options).toMatchObject({ protocol: 'https', ca: undefined });
    expect(c.options?.agent?.options.rejectUnauthorized).toBe(false);
  });

  it('tcp:// without TLS files: plain http, whatever DOCKER_TLS_VERIFY says (it is for DOCKER_HOST)', () => {
    addContext('plain', 'tcp://10.0.0.9');
    const c = connectionFromEnv(env({ DOCKER_CONTEXT: 'plain', DOCKER_TLS_VERIFY: '1' }));
    expect(c).toMatchObject({ endpoint: 'tcp://10.0.0.9:2375', options: { protocol: 'http', ca: undefined } });
  });

  it('ssh://: user, host and port, through the agent at SSH_AUTH_SOCK', () => {
    addContext('builder', 'ssh://ci@build.example:2222');
    useContext('builder');
    expect(connectionFromEnv(env({ SSH_AUTH_SOCK: '/run/agent.sock' }))).toMatchObject({
      endpoint: 'ssh://ci@build.example:2222',
      options: { protocol: 'ssh', host: 'build.example', port: '2222', username: 'ci', sshOptions: { agent: '/run/agent.sock' }, socketPath: undefined },
    });
  });

  it('an empty Host is the default socket, as the docker CLI reads it', () => {
    addContext('blank', '');
    expect(connectionFromEnv(env({ DOCKER_CONTEXT: 'blank' })).options).toMatchObject({ socketPath: '/var/run/docker.sock' });
  });

  it('an address derivc does not speak names the context', () => {
    addContext('win', 'npipe:////./pipe/docker_engine');
    expect(connectionFromEnv(env({ DOCKER_CONTEXT: 'win' })).problem).toBe(
      'the host npipe:////./pipe/docker_engine of docker context "win" (DOCKER_CONTEXT) is not supported; use unix:///path/to/docker.sock, tcp://host:port or ssh://user@host',
    );
  });

  it('the lazy client names the context engine in its messages before loading anything', () => {
    addContext('remote', 'tcp://10.0.0.9:2376');
    useContext('remote');
    expect(lazyEngine(env()).endpoint).toBe('tcp://10.0.0.9:2376');
    expect(lazyEngine(env({ DOCKER_CONTEXT: 'gone' })).endpoint).toBe('docker context "gone" (DOCKER_CONTEXT)');
    expect(lazyEngine(env({ DOCKER_HOST: 'unix:///x.sock' })).endpoint).toBe('unix:///x.sock');
  });
});

describe('a context that cannot be used is a clear error naming it, not a crash', () => {
  const problem = (e: Record<string, string>) => chooseEngine(env(e)).problem;

  it('a context that does not exist', async () => {
    useContext('gone');
    const meta = path.join(config, 'contexts', 'meta', contextDigest('gone'), 'meta.json');
    expect(problem({})).toBe(`the context does not exist: there is no ${meta} (\`docker context ls\` lists the contexts)`);
    // Through the engine: every call is EngineUnreachableError naming the context and how it was chosen.
    const err = await dockerodeEngine(env())
      .info()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineUnreachableError);
    expect((err as Error).message).toBe(
      `cannot reach the Docker Engine at docker context "gone" (currentContext in ${path.join(config, 'config.json')}): the context does not exist: there is no ${meta} (\`docker context ls\` lists the contexts)`,
    );
    await expect(dockerodeEngine(env()).imageLabels('x')).rejects.toBeInstanceOf(EngineUnreachableError);
  });

  it('a meta.json that is not JSON, or has no docker endpoint, or a Host that is not a string', () => {
    addContext('bad', 'unix:///x.sock');
    const meta = path.join(config, 'contexts', 'meta', contextDigest('bad'), 'meta.json');
    fs.writeFileSync(meta, '{"Name":');
    expect(problem({ DOCKER_CONTEXT: 'bad' })).toMatch(new RegExp(`^the context cannot be read: ${meta.replace(/[.]/g, '\\.')}: .*JSON`));
    fs.writeFileSync(meta, '{"Name":"bad","Endpoints":{}}');
    expect(problem({ DOCKER_CONTEXT: 'bad' })).toBe(`the context has no docker endpoint in ${meta}`);
    fs.writeFileSync(meta, '{"Name":"bad","Endpoints":{"docker":{"Host":7}}}');
    expect(problem({ DOCKER_CONTEXT: 'bad' })).toBe(`the context has a docker endpoint whose Host is not a string in ${meta}`);
  });

  it('a client certificate without its key', () => {
    addContext('half', 'tcp://10.0.0.9:2376', { cert: 'CERT' });
    expect(problem({ DOCKER_CONTEXT: 'half' })).toBe(
      `the context has cert.pem but no key.pem in ${path.join(config, 'contexts', 'tls', contextDigest('half'), 'docker')}`,
    );
  });

  it('a docker config that is not JSON, or whose currentContext is not a string', () => {
    const file = path.join(config, 'config.json');
    fs.writeFileSync(file, '{');
    expect(chooseEngine(env())).toMatchObject({
      source: { kind: 'default' },
      host: '',
      problem: expect.stringMatching(/^the docker config .* cannot be read/),
    });
    fs.writeFileSync(file, '{"currentContext":["a"]}');
    expect(problem({})).toBe(`currentContext in the docker config ${file} is not a string`);
    // DOCKER_CONTEXT does not need the config at all.
    addContext('build', 'unix:///run/build/docker.sock');
    expect(chooseEngine(env({ DOCKER_CONTEXT: 'build' })).host).toBe('unix:///run/build/docker.sock');
  });

  it('a file that exists but cannot be read (the reader throws) is a problem, not an exception', () => {
    const files: ContextFiles = {
      readFile(file) {
        if (file.endsWith('config.json')) return Buffer.from('{"currentContext":"locked"}');
        throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES' });
      },
      homeDir: () => '/home/nobody',
    };
    expect(chooseEngine({}, files)).toMatchObject({
      source: { kind: 'context', name: 'locked', setBy: 'config', configFile: '/home/nobody/.docker/config.json' },
      problem: expect.stringMatching(/^the context cannot be read: \/home\/nobody\/\.docker\/contexts\/meta\/[0-9a-f]{64}\/meta\.json: EACCES/),
    });
  });
});

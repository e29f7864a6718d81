// A minimal Language Server Protocol client for tests: it starts a server as a child process,
// speaks JSON-RPC to it over stdio (vscode-jsonrpc does the Content-Length framing), answers the
// server's `workspace/configuration` requests with the settings it was given, and hands over the
// diagnostics the server publishes for a document it opened, as an editor would show them.

import { spawn, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node.js';

export interface Position {
  line: number;
  character: number;
}

export interface Diagnostic {
  range: { start: Position; end: Position };
  message: string;
  severity?: number;
  source?: string;
}

export interface CompletionItem {
  label: string;
  kind?: number;
}

export interface Hover {
  contents: { kind: string; value: string } | string | ({ language: string; value: string } | string)[];
}

export interface LspServerOptions {
  /** The server's command line (`[node, script, '--stdio']`). */
  command: readonly string[];
  /** The workspace folder, and the server's working directory. */
  root: string;
  /** How long the server may take to answer `initialize` (default 30 s; it usually takes 1–3 s). */
  startTimeoutMs?: number;
  /** Answers to `workspace/configuration`, by section (`yaml`, `[yaml]`, …); an unknown section gets null. */
  settings: Readonly<Record<string, unknown>>;
}

export class LspClient {
  private readonly waiting = new Map<string, ((d: Diagnostic[]) => void)[]>();
  /** How many `workspace/configuration` requests were answered: the server has pulled the settings. */
  private configurationsAnswered = 0;
  private readonly onConfiguration: (() => void)[] = [];
  /** What the server wrote to stderr, for failure messages. */
  stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly connection: MessageConnection,
  ) {}

  /** Starts the server and runs the `initialize` handshake. */
  static async start(opts: LspServerOptions): Promise<LspClient> {
    const [cmd, ...args] = opts.command;
    const child = spawn(cmd!, args, { cwd: opts.root, stdio: ['pipe', 'pipe', 'pipe'] });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const client = new LspClient(child, connection);
    child.stderr!.on('data', (b: Buffer) => void (client.stderr += b.toString()));
    let timer: NodeJS.Timeout | undefined;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`the language server exited (${signal ?? code}) before it answered: ${client.stderr}`)));
      const ms = opts.startTimeoutMs ?? 30_000;
      timer = setTimeout(() => reject(new Error(`the language server did not answer \`initialize\` within ${ms} ms: ${client.stderr}`)), ms);
    });
    failed.catch(() => {}); // only awaited below, while starting
    connection.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) => {
      client.configurationsAnswered++;
      queueMicrotask(() => client.onConfiguration.splice(0).forEach((f) => f()));
      return params.items.map((item) => (item.section !== undefined && item.section in opts.settings ? opts.settings[item.section] : null));
    });
    connection.onNotification('textDocument/publishDiagnostics', (params: { uri: string; diagnostics: Diagnostic[] }) => {
      for (const resolve of client.waiting.get(params.uri) ?? []) resolve(params.diagnostics);
      client.waiting.delete(params.uri);
    });
    connection.listen();
    const root = pathToFileURL(opts.root).href;
    try {
      await Promise.race([
        connection.sendRequest('initialize', {
          processId: process.pid,
          rootUri: root,
          workspaceFolders: [{ uri: root, name: 'workspace' }],
          capabilities: {
            workspace: { configuration: true, workspaceFolders: true, didChangeConfiguration: { dynamicRegistration: false } },
            textDocument: {
              completion: { completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'] } },
              hover: { contentFormat: ['markdown', 'plaintext'] },
              publishDiagnostics: { relatedInformation: true },
            },
          },
        }),
        failed,
      ]);
      await connection.sendNotification('initialized', {});
    } catch (err) {
      child.kill('SIGKILL'); // the caller has no client to stop
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  /** Tells the server its settings changed; it pulls them with `workspace/configuration`. */
  async changeConfiguration(settings: unknown): Promise<void> {
    await this.connection.sendNotification('workspace/didChangeConfiguration', { settings });
  }

  /** Resolves once the server has pulled its settings `count` times (rejects after `timeoutMs`). */
  async configurationsPulled(count: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.configurationsAnswered < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the server pulled its settings ${this.configurationsAnswered} times, not ${count}, within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.onConfiguration.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  /**
   * Opens a document and resolves with the diagnostics the server publishes for it next
   * (or rejects after `timeoutMs`, naming what was published before, if anything).
   */
  async open(uri: string, text: string, timeoutMs = 20_000): Promise<Diagnostic[]> {
    const next = new Promise<Diagnostic[]>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no diagnostics for ${uri} within ${timeoutMs} ms (server stderr: ${this.stderr || 'empty'})`)),
        timeoutMs,
      );
      this.waiting.set(uri, [
        ...(this.waiting.get(uri) ?? []),
        (d) => {
          clearTimeout(timer);
          resolve(d);
        },
      ]);
    });
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
    return next;
  }

  async completion(uri: string, position: Position): Promise<CompletionItem[]> {
    const result = await this.connection.sendRequest<{ items: CompletionItem[] } | CompletionItem[] | null>('textDocument/completion', {
      textDocument: { uri },
      position,
    });
    return Array.isArray(result) ? result : (result?.items ?? []);
  }

  /** The hover's text, whatever shape the server sent it in. */
  async hover(uri: string, position: Position): Promise<string | undefined> {
    const result = await this.connection.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position });
    if (!result) return undefined;
    const parts = Array.isArray(result.contents) ? result.contents : [result.contents];
    return parts.map((p) => (typeof p === 'string' ? p : p.value)).join('\n');
  }

  /** Asks the server to shut down and exit; kills it if it has not within `graceMs`. Safe to call twice. */
  async stop(graceMs = 3_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      await Promise.race([this.connection.sendRequest('shutdown').then(() => this.connection.sendNotification('exit')), exited]);
    } catch {
      this.child.kill('SIGKILL'); // the connection is gone: the process may still be there
    }
    await exited;
    clearTimeout(timer);
    this.connection.dispose();
  }
}

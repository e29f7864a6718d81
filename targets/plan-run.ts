// Carries out a target plan with injected effects. Everything happens in a fresh work directory
// next to the outputs; only the last step renames finished files into place, and the work
// directory is removed whatever happens — a failed or cancelled run leaves nothing half-written.

import { dirname, isAbsolute, join } from 'node:path';
import { TargetError, type Artifact, type StepAction, type TargetIO, type TargetPlan } from './target.js';
import { bootCatalogSector, BOOT_RECORD_SECTOR, efiImageSector, fatSerialOffset, ISO_SECTOR, serialBytes } from './iso/efi-serial.js';
import { cidPatch, descriptorRange, VMDK_HEADER_BYTES } from './ova/vmdk.js';
import { patchDiskboot, patchMbr, SECTOR } from './raw/bios-boot.js';
import { DOCKER_INIT_FILES, imageFilesystem, resolveCaptured, type Capture } from './iso/image-tar.js';

/** Memory allowed for files kept from the image stream (a kernel and an initrd are ~100 MB). */
const CAPTURE_LIMIT_BYTES = 512 * 1024 * 1024;

function cancelled(signal: AbortSignal): Error {
  const err = new Error('cancelled', { cause: signal.reason });
  err.name = 'AbortError';
  return err;
}

export async function runPlan(plan: TargetPlan, io: TargetIO): Promise<Artifact[]> {
  if (plan.sourceDateEpoch === null) throw new TargetError('this plan was made without SOURCE_DATE_EPOCH: it can be shown, not run');
  if (io.signal?.aborted) throw cancelled(io.signal);
  const work = await io.fs.makeTempDir(plan.workDir.parent, plan.workDir.prefix);
  const run = new PlanRun(io, work);
  try {
    for (const step of plan.steps) {
      if (io.signal?.aborted) throw cancelled(io.signal);
      io.progress?.(`${plan.target}: ${step.title}`);
      await run.step(step.action);
    }
    if (io.signal?.aborted) throw cancelled(io.signal);
    return run.artifacts;
  } catch (err) {
    throw io.signal?.aborted ? cancelled(io.signal) : err;
  } finally {
    await io.fs.remove(work);
  }
}

class PlanRun {
  readonly artifacts: Artifact[] = [];
  /** Files kept from image streams, by image. */
  private readonly captures = new Map<string, Capture>();
  /** Checksums made so far, by work-relative path. */
  private readonly sums = new Map<string, { sha256: string; bytes: number }>();

  constructor(
    private readonly io: TargetIO,
    private readonly work: string,
  ) {}

  /** Digests read by `write` sizes and `ovf-manifest`; dropped by any step that may change files. */
  private readonly fresh = new Map<string, Promise<{ sha256: string; bytes: number }>>();

  /** SHA-256 and size of a work file as it is now: the OVA's disk is read once for its size and its .mf line. */
  private sum(file: string): Promise<{ sha256: string; bytes: number }> {
    let sum = this.fresh.get(file);
    if (!sum) this.fresh.set(file, (sum = this.io.fs.sha256(this.at(file))));
    return sum;
  }

  private at(p: string): string {
    return isAbsolute(p) ? p : join(this.work, p);
  }

  async step(action: StepAction): Promise<void> {
    const { io } = this;
    // Only these leave the work files they do not write unchanged.
    if (action.kind === 'write') this.fresh.delete(action.path);
    else if (action.kind === 'ovf-manifest') this.fresh.delete(action.to);
    else this.fresh.clear();
    switch (action.kind) {
      case 'exec': {
        const opts = { cwd: this.work, ...(action.env ? { env: action.env } : {}) };
        if (!action.stdin) return io.exec(action.tool, action.args, opts);
        const { engine } = io;
        if (!engine.exportContainer || !engine.readEntries) throw new TargetError('this Docker Engine client cannot export an image filesystem');
        // Read in parallel with the export; only wanted once the export has streamed through.
        const image = action.stdin.image;
        // A failed or cancelled export stops that read too (a `docker save` is seconds of Engine work).
        const done = new AbortController();
        const entries = engine.readEntries(image, DOCKER_INIT_FILES, io.signal ? AbortSignal.any([io.signal, done.signal]) : done.signal);
        entries.catch(() => undefined);
        const capture: Capture | undefined = action.stdin.capture ? { under: action.stdin.capture, limit: CAPTURE_LIMIT_BYTES, entries: new Map() } : undefined;
        try {
          await engine.exportContainer(image, (tar) => io.exec(action.tool, action.args, { ...opts, stdin: imageFilesystem(tar, () => entries, capture) }), io.signal);
        } finally {
          done.abort();
        }
        if (capture) this.captures.set(image, capture);
        return;
      }
      case 'extract': {
        const capture = this.captures.get(action.image);
        const found = new Map(action.files.map((f) => [f.from, capture && resolveCaptured(capture, f.from)]));
        const missing = action.files.map((f) => f.from).filter((f) => found.get(f) === undefined);
        if (missing.length > 0) {
          const read = io.engine.readFiles ? await io.engine.readFiles(action.image, missing) : new Map(await Promise.all(missing.map(async (f) => [f, await io.engine.readFile(action.image, f)] as const)));
          for (const f of missing) found.set(f, read.get(f));
        }
        for (const f of action.files) {
          const content = found.get(f.from);
          if (content === undefined) throw new TargetError(`the image ${action.image} has no ${f.from} (or it does not lead to a regular file)`);
          await io.fs.mkdir(dirname(this.at(f.to)));
          await io.fs.writeFile(this.at(f.to), content);
        }
        return;
      }
      case 'mkdir':
        return io.fs.mkdir(this.at(action.path));
      case 'write': {
        let content = action.content;
        for (const { placeholder, file } of action.sizes ?? []) content = content.split(placeholder).join(String((await this.sum(file)).bytes));
        await io.fs.mkdir(dirname(this.at(action.path)));
        return io.fs.writeFile(this.at(action.path), content);
      }
      case 'set-vmdk-cid': {
        const vmdk = this.at(action.vmdk);
        const range = descriptorRange(await io.fs.read(vmdk, 0, VMDK_HEADER_BYTES));
        const patch = cidPatch(await io.fs.read(vmdk, range.offset, range.length), action.cid);
        return io.fs.patch(vmdk, range.offset + patch.offset, patch.bytes);
      }
      case 'ovf-manifest': {
        const lines = [];
        for (const f of action.files) lines.push(`SHA256(${f.name})= ${(await this.sum(f.file)).sha256}\n`);
        return io.fs.writeFile(this.at(action.to), lines.join(''));
      }
      case 'copy-tree':
        return io.fs.copyTree(action.from, this.at(action.to));
      case 'set-efi-serial': {
        if (typeof action.serial !== 'number') throw new TargetError('the EFI serial is a placeholder: this plan cannot run');
        const iso = this.at(action.iso);
        const catalog = bootCatalogSector(await io.fs.read(iso, BOOT_RECORD_SECTOR * ISO_SECTOR, ISO_SECTOR));
        const image = efiImageSector(await io.fs.read(iso, catalog * ISO_SECTOR, ISO_SECTOR)) * ISO_SECTOR;
        const offset = fatSerialOffset(await io.fs.read(iso, image, 512));
        return io.fs.patch(iso, image + offset, serialBytes(action.serial));
      }
      case 'install-bios-boot': {
        const disk = this.at(action.disk);
        const mbr = patchMbr(await io.fs.read(disk, 0, SECTOR), await io.fs.read(action.bootImage, 0, SECTOR), action.coreLba);
        const diskboot = patchDiskboot(await io.fs.read(disk, action.coreLba * SECTOR, SECTOR), action.coreLba, action.partitionSectors);
        await io.fs.patch(disk, 0, mbr);
        return io.fs.patch(disk, action.coreLba * SECTOR, diskboot);
      }
      case 'checksum': {
        const sum = await io.fs.sha256(this.at(action.file));
        this.sums.set(action.file, sum);
        return io.fs.writeFile(this.at(action.to), `${sum.sha256}  ${action.name}\n`);
      }
      case 'publish': {
        // A sidecar (checksum) that stays while its file is replaced would describe other bytes.
        for (const f of action.files.slice(1)) await io.fs.remove(f.to);
        for (const f of action.files) {
          await io.fs.rename(this.at(f.from), f.to);
          const sum = this.sums.get(f.from);
          if (sum) this.artifacts.push({ path: f.to, ...sum });
        }
        return;
      }
      case 'checksums': {
        let lines = '';
        for (const f of action.files) {
          const sum = await io.fs.sha256(this.at(f.file));
          this.sums.set(f.file, sum);
          lines += `${sum.sha256}  ${f.name}\n`;
        }
        return io.fs.writeFile(this.at(action.to), lines);
      }
      case 'publish-dir': {
        // rename() cannot replace a directory that holds files; and none may stay from an earlier run.
        await io.fs.remove(action.to);
        await io.fs.rename(this.at(action.from), action.to);
        const prefix = `${action.from}/`;
        for (const [file, sum] of this.sums) if (file.startsWith(prefix)) this.artifacts.push({ path: join(action.to, file.slice(prefix.length)), ...sum });
        return;
      }
    }
  }
}

// The media half of the IR: `targets` and `tests` as the later stages read them, every default
// of the manifest schema applied (the schema is the one source of them), local paths resolved
// from the manifest's folder. Kept out of Build on purpose: the build ID digests Build, and a
// medium's option must never rebuild the image. Pure: no file is read, so `derivc validate`
// makes it too, for the targets to check their options.

import { join } from 'node:path';
import manifestSchema from '../../schema/derivative.schema.json' with { type: 'json' };
import type { IsoTarget, OvaTarget, PackerTarget, RawTarget, Targets } from '../generated/manifest-types.js';
import { parseDuration } from '../units.js';
import type { ValidatedManifest } from '../validate/index.js';

/** The one firmware type: what media boot with, and what tests boot them under. */
export type Firmware = 'bios' | 'uefi';
export type BootMedia = 'iso' | 'raw';
export type TargetName = keyof Targets;

/** Every target a manifest can name, in the order derivc plans and makes them (the OVA after the raw disk it reuses). */
export const TARGET_NAMES: readonly TargetName[] = ['iso', 'raw', 'ova', 'packer'];

/** `T` with the keys the schema gives a default always set. */
type Defaulted<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
type Packer = Required<PackerTarget>;

export type IsoOptions = Defaulted<IsoTarget, 'label' | 'firmware' | 'compression'>;
export type RawPartitions = Defaulted<NonNullable<RawTarget['partitions']>, 'oem' | 'persistent'>;
export type RawOptions = Omit<Defaulted<RawTarget, 'format' | 'firmware' | 'size'>, 'partitions'> & { partitions: RawPartitions };
export type OvaOptions = Defaulted<OvaTarget, 'cpus' | 'memory' | 'firmware' | 'network' | 'osType'>;
export interface PackerOptions {
  builders: Packer['builders'];
  qemu: Defaulted<Packer['qemu'], 'cpus' | 'memory' | 'headless' | 'format'>;
  virtualboxIso: Defaulted<Packer['virtualboxIso'], 'cpus' | 'memory' | 'headless' | 'guestOsType'>;
  vmwareIso: Defaulted<Packer['vmwareIso'], 'cpus' | 'memory' | 'headless' | 'guestOsType'>;
  amazonEbs: Defaulted<Packer['amazonEbs'], 'region' | 'instanceType' | 'volumeType'>;
  googlecompute: Defaulted<Packer['googlecompute'], 'zone' | 'machineType'>;
  azureArm: Defaulted<Packer['azureArm'], 'location' | 'vmSize'>;
}

/** Every target's options with the schema's defaults (`--target X` makes X even when the manifest does not enable it). */
export interface TargetsIR {
  /** The targets the manifest enables (`targets.<name>` present), in TARGET_NAMES order. */
  enabled: TargetName[];
  /** `overlay` as a path the host can open. */
  iso: IsoOptions;
  raw: RawOptions;
  ova: OvaOptions;
  packer: PackerOptions;
}

/** `tests.boot` with MANIFEST.md's defaults. */
export interface BootTestIR {
  media: BootMedia[];
  firmware: Firmware[];
  timeoutMs: number;
  expect: string[];
  forbid: string[];
}

// Media default to the ISO alone: it is the medium every derivative with a kernel can produce.
export const BOOT_TEST_DEFAULTS = {
  media: ['iso'] as BootMedia[],
  firmware: ['bios', 'uefi'] as Firmware[],
  timeout: '5m',
  expect: ['login:'],
  forbid: ['Kernel panic', 'emergency mode'],
};

interface SchemaNode {
  $ref?: string;
  default?: unknown;
  properties?: Record<string, SchemaNode>;
}

const DEFINITIONS = manifestSchema.definitions as unknown as Record<string, SchemaNode>;

function resolved(node: SchemaNode): SchemaNode {
  const name = node.$ref?.replace(/^#\/definitions\//, '');
  return name !== undefined && DEFINITIONS[name] ? resolved(DEFINITIONS[name]) : node;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `value` with every absent property that has a `default` in the schema set to it, recursively
 * (a `default` may sit beside a `$ref` or in the definition it names). An object default (`{}`)
 * is filled in turn, so the options of a builder the manifest does not mention get theirs.
 */
export function withSchemaDefaults(node: SchemaNode, value: unknown): unknown {
  const schema = resolved(node);
  if (!schema.properties || !isObject(value)) return value;
  const out: Record<string, unknown> = { ...value };
  for (const [key, property] of Object.entries(schema.properties)) {
    const given = out[key] ?? structuredClone(property.default ?? resolved(property).default);
    if (given !== undefined) out[key] = withSchemaDefaults(property, given);
  }
  return out;
}

/** The manifest's `targets` (schema-valid) as the IR; `dir` is the manifest's folder. */
export function targetsIR(targets: Targets | undefined, dir: string): TargetsIR {
  const stated = (targets ?? {}) as Record<string, unknown>;
  const options = (name: TargetName) => withSchemaDefaults(DEFINITIONS[`${name}Target`]!, stated[name] ?? {});
  const iso = options('iso') as IsoOptions;
  return {
    enabled: TARGET_NAMES.filter((t) => stated[t] !== undefined),
    iso: iso.overlay !== undefined ? { ...iso, overlay: join(dir, iso.overlay) } : iso,
    raw: options('raw') as RawOptions,
    ova: options('ova') as OvaOptions,
    packer: options('packer') as PackerOptions,
  };
}

export function targetsOf(v: ValidatedManifest): TargetsIR {
  return targetsIR(v.manifest.targets, v.dir);
}

export function bootTestOf(v: ValidatedManifest): BootTestIR {
  const boot = v.manifest.tests?.boot ?? {};
  const d = BOOT_TEST_DEFAULTS;
  return {
    media: [...(boot.media ?? d.media)],
    firmware: [...(boot.firmware ?? d.firmware)],
    // The schema refused any other form.
    timeoutMs: parseDuration(boot.timeout ?? d.timeout)!,
    expect: [...(boot.expect ?? d.expect)],
    forbid: [...(boot.forbid ?? d.forbid)],
  };
}

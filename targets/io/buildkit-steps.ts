// BuildKit names a Dockerfile step after its stage and its place in that stage —
// `[stage-1 3/12] RUN …`, `[luet 1/2] FROM …`, padded (`[ 3/12]`) and without a stage on some
// versions — and loads a base image in a vertex of its own (`[internal] load metadata for
// docker.io/library/debian:12`). derivc's displays and failure mapping number steps the way the
// classic builder does: every instruction line of the Dockerfile, from 1. This maps the one to
// the other, from the Dockerfile text (one instruction per line, as derivc writes it).

export interface StepRef {
  /** The classic builder's step number: the instruction's position among the Dockerfile's instructions, from 1. */
  index: number;
  total: number;
  /** The instruction as the Dockerfile writes it. */
  instruction: string;
}

interface Stage {
  name: string;
  /** Instructions BuildKit numbers (FROM, RUN, COPY, ADD, WORKDIR), in order. */
  numbered: StepRef[];
}

const NUMBERED = /^(FROM|RUN|COPY|ADD|WORKDIR)\s/i;
const VERTEX = /^\[(?:(\S+)\s+)?\s*(\d+)\/(\d+)\]\s(.*)$/s;
const METADATA = /^\[internal\] load metadata for (\S+)$/;

const keyword = (instruction: string) => instruction.split(/\s/, 1)[0]!.toUpperCase();
/** An instruction as BuildKit may show it: escapes and runs of spaces aside. */
const loose = (instruction: string) => instruction.replace(/\\/g, '').replace(/\s+/g, ' ');

/** Where a Docker reference names its image in full: `debian:12` → `docker.io/library/debian:12`. */
export function fullReference(ref: string): string {
  const slash = ref.indexOf('/');
  const first = slash === -1 ? '' : ref.slice(0, slash);
  const hasDomain = first.includes('.') || first.includes(':') || first === 'localhost';
  if (hasDomain) return ref;
  const path = slash === -1 ? `library/${ref}` : ref;
  return `docker.io/${path}`;
}

/** The vertex → step map of one Dockerfile. */
export class DockerfileSteps {
  readonly total: number;
  private readonly stages: Stage[] = [];
  /** FROM lines by the full reference they name (`docker.io/library/debian:12`). */
  private readonly froms = new Map<string, StepRef>();

  constructor(dockerfile: string) {
    const instructions = dockerfile.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    this.total = instructions.length;
    instructions.forEach((instruction, i) => {
      const ref: StepRef = { index: i + 1, total: this.total, instruction };
      if (/^FROM\s/i.test(instruction)) {
        const words = instruction.split(/\s+/);
        const as = words.findIndex((w, at) => at > 1 && w.toUpperCase() === 'AS');
        this.stages.push({ name: as !== -1 && words[as + 1] ? words[as + 1]! : `stage-${this.stages.length}`, numbered: [] });
        const image = words.slice(1).find((w) => !w.startsWith('--'));
        if (image && !this.froms.has(fullReference(image))) this.froms.set(fullReference(image), ref);
      }
      const stage = this.stages[this.stages.length - 1];
      if (stage && NUMBERED.test(instruction)) stage.numbered.push(ref);
    });
  }

  /** The step a vertex runs, or undefined for BuildKit's own vertices (context, metadata, export). */
  step(vertexName: string): StepRef | undefined {
    const m = VERTEX.exec(vertexName);
    if (!m) return undefined;
    const stage = m[1] === undefined ? this.stages[this.stages.length - 1] : this.stages.find((s) => s.name === m[1]);
    if (!stage) return undefined;
    const text = m[4]!;
    const byPlace = stage.numbered[Number(m[2]) - 1];
    // The place decides when the instruction agrees (BuildKit shows a FROM with the reference it
    // resolved, a RUN's JSON without its escapes); else the text does (a BuildKit that numbers
    // other instructions still names them as written); else the place, for the same instruction.
    const from = (i: string) => keyword(i) === 'FROM';
    if (byPlace && (loose(byPlace.instruction) === loose(text) || (from(byPlace.instruction) && from(text)))) return byPlace;
    const byText = stage.numbered.find((s) => loose(s.instruction) === loose(text));
    return byText ?? (byPlace && keyword(byPlace.instruction) === keyword(text) ? byPlace : undefined);
  }

  /** The FROM step whose image a `[internal] load metadata for REF` vertex resolves: where a failed pull belongs. */
  baseOf(vertexName: string): StepRef | undefined {
    const m = METADATA.exec(vertexName);
    if (!m) return undefined;
    // As written, or as BuildKit completes it: with the digest it resolved, `:latest` when untagged.
    const ref = m[1]!;
    const undigested = ref.replace(/@sha256:[0-9a-f]{64}$/, '');
    return this.froms.get(ref) ?? this.froms.get(undigested) ?? this.froms.get(undigested.replace(/:latest$/, ''));
  }
}

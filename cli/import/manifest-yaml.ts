// The converted manifest as YAML text, through yaml@2 (never pasted strings): a header naming the
// Dockerfile it came from, and above each build step the Dockerfile line it keeps and why.

import { Document, isMap, isSeq, type YAMLMap } from 'yaml';
import { commentText } from '../../compiler/quote.js';
import type { Conversion } from './from-dockerfile.js';

export function manifestYaml(conversion: Conversion, dockerfileName: string): string {
  const doc = new Document(conversion.manifest);
  doc.commentBefore = [
    ' yaml-language-server: $schema=./derivative.schema.json',
    ` Converted by \`derivc init --from\` from ${commentText(dockerfileName)}: review it, and the report of what`,
    ' could not be mapped. `derivc validate` checks it, `derivc compile -o out` shows what it generates.',
  ].join('\n');
  const steps = doc.getIn(['build', 'steps'], true);
  if (isSeq(steps)) {
    steps.items.forEach((item, i) => {
      const step = conversion.steps[i];
      if (step && isMap(item)) (item as YAMLMap).commentBefore = ` ${commentText(`${dockerfileName}:${step.line} — not mapped: ${step.reason}`)}`;
    });
  }
  return doc.toString({ lineWidth: 0 });
}

// The compiled Dockerfile is one file whatever builds it. BuildKit reads its `RUN --mount=…`
// flags (the package manager's cache, repository credentials); the classic builder knows no such
// flag, so it gets the same lines without them. The package scripts tell whether their cache is
// mounted and clean up in the image when it is not; credentials need BuildKit (derivc refuses to
// build them classically before anything starts).

/** The Dockerfile as the classic builder takes it: every RUN line's leading `--mount=…` flags removed. */
export function classicDockerfile(text: string): string {
  // derivc writes mount flags without spaces (quote.ts dockerMount); exec-form arguments start with `[`.
  return text.replace(/^RUN (?:--mount=\S+ )+/gm, 'RUN ');
}

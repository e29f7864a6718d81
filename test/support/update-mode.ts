// Whether a test may rewrite its expected files (UPDATE_EXPECTED=1, UPDATE_GOLDEN=1): never in CI,
// where a rewrite would make the comparison pass whatever the output is.

export function updating(variable: 'UPDATE_EXPECTED' | 'UPDATE_GOLDEN', env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  if (!env[variable]) return false;
  if (env['CI']) throw new Error(`${variable} is set while CI is: expected files are never rewritten in CI; unset ${variable}`);
  return true;
}

// Image names each cloud accepts, made from `<name>-<version>` (a version may hold `+`, `_`, `.`
// or capitals that some clouds refuse), with an optional suffix that truncation never cuts off
// (so an imported image and the image built from it always differ). Deterministic.

/** An AMI name: 3–128 of letters, digits, space and ( ) [ ] . / - ' @ _. */
export function amiName(text: string, suffix = ''): string {
  return text.replace(/[^A-Za-z0-9()[\]./\-'@_ ]/g, '-').slice(0, 128 - suffix.length) + suffix;
}

/** A Compute Engine image name: a lowercase letter, then up to 62 of [a-z0-9-], not ending in `-`. */
export function gcpImageName(text: string, suffix = ''): string {
  const name = text.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return (/^[a-z]/.test(name) ? name : `i-${name}`).slice(0, 63 - suffix.length).replace(/-+$/, '') + suffix;
}

/** An Azure managed image name: up to 80 of [A-Za-z0-9._-], from a letter or digit, ending in one or `_`. */
export function azureImageName(text: string, suffix = ''): string {
  return (
    text
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 80 - suffix.length)
      .replace(/[.-]+$/, '') + suffix
  );
}

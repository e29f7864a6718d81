// Node warnings that a bundled dependency causes and a user can do nothing about.
//
// docker-modem builds an `ssh:host:port…` address for every request over `ssh://` and passes it
// to url.resolve(), which warns DEP0170 ("The URL ssh:… is invalid") on every run; that address is
// not what connects (its ssh agent dials the host itself). Known upstream: apocas/docker-modem#184.
// Only that warning is dropped: Node's own printer is kept and gets every other warning unchanged.

/** Whether a warning is docker-modem's invalid `ssh:` address. */
export function isModemSshUrlWarning(warning: Error & { code?: unknown }): boolean {
  return warning.code === 'DEP0170' && /^The URL ssh:/.test(warning.message);
}

type Listener = (warning: Error) => void;

/** Puts the filter in front of the process's `warning` listeners (Node's printer among them); returns what undoes it. */
export function quietDependencyWarnings(target: NodeJS.EventEmitter = process): () => void {
  const listeners = target.listeners('warning') as Listener[];
  const filtered: Listener = (warning) => {
    if (isModemSshUrlWarning(warning)) return;
    for (const listener of listeners) listener.call(target, warning);
  };
  for (const listener of listeners) target.removeListener('warning', listener);
  target.on('warning', filtered);
  return () => {
    target.removeListener('warning', filtered);
    for (const listener of listeners) target.on('warning', listener);
  };
}

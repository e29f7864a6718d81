// An image's size, from the Engine's image inspect (`Size`: its layers unpacked). Asked of the
// Engine API through dockerode, as the rest of the DockerEngine port (dockerode-engine.ts) is;
// lazy-engine.ts offers it where that client does not.

import Docker from 'dockerode';
import { connectionFromEnv } from './dockerode-engine.js';

export async function imageSize(env: Readonly<Record<string, string | undefined>>, ref: string): Promise<number | undefined> {
  const connection = connectionFromEnv(env);
  if (connection.problem) throw new Error(connection.problem);
  try {
    const { Size } = await new Docker(connection.options).getImage(ref).inspect();
    return Number.isSafeInteger(Size) && Size >= 0 ? Size : undefined;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw new Error(`cannot inspect image ${ref}: ${(err as Error).message}`, { cause: err });
  }
}

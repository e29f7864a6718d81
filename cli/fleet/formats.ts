// The output formats of `derivc graph` and `derivc matrix`: here, not in the commands, so the
// usage table (cli/usage.ts) lists them without loading the commands.

export const GRAPH_FORMATS = ['pretty', 'dot', 'json'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export const MATRIX_FORMATS = ['github', 'gitlab', 'json'] as const;
export type MatrixFormat = (typeof MATRIX_FORMATS)[number];

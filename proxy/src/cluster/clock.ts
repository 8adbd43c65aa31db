/** Milliseconds on a monotonic-enough clock; caches and registries take one so tests can move time. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

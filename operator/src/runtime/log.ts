/** The logger every part of the runtime writes to (the CLI backs it with pino, tests with a quiet one). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export type LogLevel = keyof Logger;

/** Where the client reports what it does on its own (renewals, reconnects); silent by default. */
export interface TicketsClientLogger {
  debug?(message: string, details?: Record<string, unknown>): void;
  info?(message: string, details?: Record<string, unknown>): void;
  warn?(message: string, details?: Record<string, unknown>): void;
  error?(message: string, details?: Record<string, unknown>): void;
}

/** The logger with every level present; a logger that throws is not the caller's problem. */
export interface Log {
  debug(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

export function toLog(logger: TicketsClientLogger | undefined): Log {
  const level =
    (name: keyof TicketsClientLogger) =>
    (message: string, details?: Record<string, unknown>): void => {
      try {
        logger?.[name]?.(message, details);
      } catch {
        // A failing logger must not fail the call it reports on.
      }
    };
  return { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') };
}

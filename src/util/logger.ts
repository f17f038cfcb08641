/** The logging port every layer takes: a function of a level and a line, so tests can collect lines. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string) => void;

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

let stderrSilenced = false;

/** Logs to stderr from LOG_LEVEL (debug, info, warn, error; default info), as wireguard-go does. */
export function stderrLogger(prefix: string): Logger {
  const wanted = LOG_LEVELS.indexOf((process.env.LOG_LEVEL ?? 'info') as LogLevel);
  const min = wanted < 0 ? 1 : wanted;
  return (level, message) => {
    if (!stderrSilenced && LOG_LEVELS.indexOf(level) >= min)
      process.stderr.write(`${level.toUpperCase()}: (${prefix}) ${message}\n`);
  };
}

/** A detached daemon's parent has stopped reading its stderr: from then on stderr loggers say nothing. */
export function silenceStderrLoggers(): void {
  stderrSilenced = true;
}

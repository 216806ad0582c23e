type Fields = Readonly<Record<string, unknown>>;
type Level = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Readonly<Record<Level, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

function threshold(): number {
  if (process.env.DROP_LOG_LEVEL === 'silent') return Number.POSITIVE_INFINITY;
  return ORDER[(process.env.DROP_LOG_LEVEL as Level) ?? 'info'] ?? ORDER.info;
}

/** JSON lines on stdout: one object per line, fields first-class so log pipelines can index them. */
export function createLogger(base: Fields = {}): Logger {
  const write = (level: Level, message: string, fields: Fields = {}) => {
    if (ORDER[level] < threshold()) return;
    process.stdout.write(
      `${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...base, ...fields })}\n`,
    );
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }),
  };
}

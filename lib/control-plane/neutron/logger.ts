/** The few log calls the Neutron control plane makes; the agent passes its own logger. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** The logger of a part (the agent's loggers have them: docs/logging.md, "Logger names"). */
  child?(name: string): Logger;
}

/** The logger named `name` under `logger`, or `logger` itself when it has no named children. */
export function sub(logger: Logger, name: string): Logger {
  return logger.child ? logger.child(name) : logger;
}

/** Warnings and errors to stderr; the default when the agent gives no logger. */
export const stderrLogger: Logger = {
  debug() {},
  info() {},
  warn: (m) => process.stderr.write(`ovs-agent neutron WARNING ${m}\n`),
  error: (m) => process.stderr.write(`ovs-agent neutron ERROR ${m}\n`),
};

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The few log calls the Neutron control plane makes; the agent passes its own logger. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Warnings and errors to stderr; the default when the agent gives no logger. */
export const stderrLogger: Logger = {
  debug() {},
  info() {},
  warn: (m) => process.stderr.write(`ovs-agent neutron WARNING ${m}\n`),
  error: (m) => process.stderr.write(`ovs-agent neutron ERROR ${m}\n`),
};

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export { loadConfig, convert, ConfigError, type AgentConfig, type LoadOptions, type LoadedConfig, type ConfigText, type ConfigDir } from './load.js';
export { configSources } from './cli-sources.js';
export { OPTIONS, type OptionSpec, type OptionType } from './options.js';
export { parseIni, IniSyntaxError, type IniDocument, type IniValue } from './ini.js';

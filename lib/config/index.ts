export { loadConfig, convert, ConfigError, type AgentConfig, type LoadOptions, type LoadedConfig, type ConfigText } from './load.js';
export { OPTIONS, type OptionSpec, type OptionType } from './options.js';
export { parseIni, IniSyntaxError, type IniDocument, type IniValue } from './ini.js';

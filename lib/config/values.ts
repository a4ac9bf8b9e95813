/**
 * One option's value as oslo.config's types read it (booleans, integers
 * with bounds, lists, dicts, choices, IP addresses...), and the error that
 * names the option and where the value was written.
 */
import { isIP } from 'node:net';
import type { OptionSpec } from './options.js';

/** Where a value came from, for error messages. */
export interface ValueSource {
  file: string;
  line?: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(message: string, readonly code: 'CONFIG_INVALID' | 'CONFIG_SYNTAX' | 'CONFIG_UNREADABLE', readonly source?: ValueSource) {
    super(message);
  }
}

export function where(src: ValueSource): string {
  return src.line ? `${src.file}:${src.line}` : src.file;
}

export function invalid(section: string, name: string, src: ValueSource, detail: string): ConfigError {
  return new ConfigError(`invalid value for [${section}] ${name} at ${where(src)}: ${detail}`, 'CONFIG_INVALID', src);
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function splitList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Converts one raw value according to its spec, as oslo.config's types do. */
export function convert(section: string, name: string, spec: OptionSpec, raw: unknown, src: ValueSource): unknown {
  const t = spec.type;
  const text = Array.isArray(raw) ? raw.join(',') : String(raw).trim();
  switch (t.kind) {
    case 'string':
      if (t.choices && !t.choices.includes(text)) throw invalid(section, name, src, `${JSON.stringify(text)} is not one of ${t.choices.join(', ')}`);
      return text;
    case 'int': {
      if (text === '' && spec.default === undefined) return undefined;
      if (!/^[+-]?\d+$/.test(text)) throw invalid(section, name, src, `${JSON.stringify(text)} is not an integer`);
      const n = Number(text);
      if (t.min !== undefined && n < t.min) throw invalid(section, name, src, `${n} is below the minimum ${t.min}`);
      if (t.max !== undefined && n > t.max) throw invalid(section, name, src, `${n} is above the maximum ${t.max}`);
      return n;
    }
    case 'float': {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) throw invalid(section, name, src, `${JSON.stringify(text)} is not a number`);
      if (t.min !== undefined && n < t.min) throw invalid(section, name, src, `${n} is below the minimum ${t.min}`);
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const l = text.toLowerCase();
      if (TRUE.has(l)) return true;
      if (FALSE.has(l)) return false;
      throw invalid(section, name, src, `${JSON.stringify(text)} is not a boolean (true/false)`);
    }
    case 'list': {
      const items = splitList(text);
      if (t.choices) {
        for (const item of items) {
          if (!t.choices.includes(item)) throw invalid(section, name, src, `${JSON.stringify(item)} is not one of ${t.choices.join(', ')}`);
        }
      }
      return items;
    }
    case 'dict': {
      // Keys are the operator's (physical network names): no prototype, so none is mistaken for a key.
      const out: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const item of splitList(text)) {
        const colon = item.indexOf(':');
        if (colon <= 0 || colon === item.length - 1) {
          throw invalid(section, name, src, `${JSON.stringify(item)} is not "key:value"`);
        }
        const key = item.slice(0, colon).trim();
        if (Object.hasOwn(out, key)) throw invalid(section, name, src, `key ${JSON.stringify(key)} appears twice`);
        out[key] = item.slice(colon + 1).trim();
      }
      return out;
    }
    case 'multi':
      return Array.isArray(raw) ? raw.map(String) : [String(raw)];
    case 'ip':
      if (text === '') return undefined;
      if (!isIP(text)) throw invalid(section, name, src, `${JSON.stringify(text)} is not an IP address`);
      return text;
  }
}

export function copyDefault(d: unknown): unknown {
  return Array.isArray(d) ? [...d] : d && typeof d === 'object' ? { ...d } : d;
}


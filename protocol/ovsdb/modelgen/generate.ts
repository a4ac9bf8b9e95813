/**
 * The model generator: turns an `.ovsschema` into one self-contained
 * TypeScript module holding
 *
 *  - one row interface per table, typed as `datum.ts` decodes rows
 *    (scalar → the atom, optional → atom | null, set → readonly atom[],
 *    map → ReadonlyMap), with `enum` constraints as literal unions;
 *  - `<Db>Tables`: table name → row type, the type parameter of a replica;
 *  - `<db>Model`: the schema JSON itself (so a replica can validate before it
 *    has asked the server) and per-table descriptors (columns, indexes).
 *
 * The output has no imports, so it compiles wherever it is written, and it is
 * deterministic (tables and columns sorted), so a check-in can be compared
 * with a fresh generation.
 */
import { parseSchema } from '../schema.js';
import type { BaseType, ColumnSchema, ColumnType, DatabaseSchema, TableSchema } from '../schema.js';

export interface GeneratedFile {
  /** File name relative to the output directory. */
  name: string;
  contents: string;
}

export interface GenerateOptions {
  /** Shown in the header comment: where the schema came from (a file name, not a path). */
  source?: string;
}

const TS_IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `Open_vSwitch` → `OpenVSwitch`, `sFlow` → `SFlow`, `NB_Global` → `NBGlobal`. */
export function typeName(table: string): string {
  return table
    .split('_')
    .filter((p) => p.length > 0)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');
}

/** `Open_vSwitch` → `open-vswitch`, `OVN_Northbound` → `ovn-northbound`. */
export function fileBase(db: string): string {
  return db
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase()
    .replace(/-v-switch/, '-vswitch');
}

/** `OpenVSwitch` → `openVSwitch`, `OVNSouthbound` → `ovnSouthbound`. */
function lowerFirst(s: string): string {
  return s.replace(/^[A-Z]+(?=[A-Z][a-z])|^[A-Z]+$|^[A-Z]/, (m) => m.toLowerCase());
}

function prop(name: string): string {
  return TS_IDENT.test(name) ? name : JSON.stringify(name);
}

function atomType(base: BaseType): string {
  if (base.enum !== undefined && base.type !== 'uuid') {
    return base.enum.map((e) => JSON.stringify(e)).join(' | ');
  }
  switch (base.type) {
    case 'integer':
    case 'real':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    case 'uuid':
      return 'Uuid';
  }
}

function paren(t: string): string {
  return t.includes('|') ? `(${t})` : t;
}

/** The natural TypeScript type of a column, as `datum.ts` decodes it. */
export function valueType(type: ColumnType): string {
  const key = atomType(type.key);
  if (type.value !== undefined) return `ReadonlyMap<${key}, ${atomType(type.value)}>`;
  if (type.min === 1 && type.max === 1) return key;
  if (type.max === 1) return `${key} | null`;
  return `readonly ${paren(key)}[]`;
}

function describeType(c: ColumnSchema): string {
  const t = c.type;
  const parts: string[] = [];
  const base = (b: BaseType): string => {
    const bits: string[] = [b.type];
    if (b.refTable) bits.push(`→ ${b.refTable}${b.refType === 'weak' ? ' (weak)' : ''}`);
    if (b.minInteger !== undefined || b.maxInteger !== undefined) bits.push(`[${b.minInteger ?? ''}..${b.maxInteger ?? ''}]`);
    if (b.minReal !== undefined || b.maxReal !== undefined) bits.push(`[${b.minReal ?? ''}..${b.maxReal ?? ''}]`);
    if (b.minLength !== undefined || b.maxLength !== undefined) bits.push(`length [${b.minLength ?? ''}..${b.maxLength ?? ''}]`);
    return bits.join(' ');
  };
  if (t.value !== undefined) parts.push(`map ${base(t.key)} → ${base(t.value)}`);
  else if (t.min === 1 && t.max === 1) parts.push(base(t.key));
  else if (t.max === 1) parts.push(`optional ${base(t.key)}`);
  else parts.push(`set of ${base(t.key)}`);
  if (t.max !== 1 && Number.isFinite(t.max)) parts.push(`at most ${t.max}`);
  if (t.value === undefined && t.max !== 1 && t.min > 0) parts.push(`at least ${t.min}`);
  if (c.ephemeral) parts.push('ephemeral');
  if (!c.mutable) parts.push('immutable');
  return parts.join(', ');
}

function userColumns(t: TableSchema): ColumnSchema[] {
  return [...t.columns.values()].filter((c) => !c.name.startsWith('_')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function sortedTables(db: DatabaseSchema): TableSchema[] {
  return [...db.tables.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Stable JSON: object keys sorted, so the embedded schema does not depend on the file's key order. */
function stableJson(v: unknown, indent: string): string {
  if (Array.isArray(v)) {
    if (v.every((e) => e === null || typeof e !== 'object')) return JSON.stringify(v);
    return `[\n${v.map((e) => `${indent}  ${stableJson(e, `${indent}  `)}`).join(',\n')}\n${indent}]`;
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).sort();
    if (keys.length === 0) return '{}';
    const o = v as Record<string, unknown>;
    return `{\n${keys.map((k) => `${indent}  ${prop(k)}: ${stableJson(o[k], `${indent}  `)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(v);
}

/** Generates the model module for one schema (the parsed JSON of an `.ovsschema`). */
export function generateModel(schemaJson: unknown, opts: GenerateOptions = {}): GeneratedFile {
  const db = parseSchema(schemaJson);
  const dbType = typeName(db.name);
  const names = new Map<string, string>();
  const used = new Set<string>([`${dbType}Tables`, 'Uuid']);
  for (const t of sortedTables(db)) {
    let n = typeName(t.name);
    while (used.has(n)) n = `${n}Row`;
    used.add(n);
    names.set(t.name, n);
  }

  const out: string[] = [];
  out.push(
    '// Generated by protocol/ovsdb/modelgen: do not edit by hand.',
    `// Schema: ${db.name} ${db.version}${db.cksum ? ` (cksum ${db.cksum})` : ''}${opts.source ? ` from ${opts.source}` : ''}.`,
    '',
    '/** A uuid in canonical text form. */',
    'type Uuid = string;',
    '',
  );
  for (const t of sortedTables(db)) {
    const flags = [t.isRoot ? 'root table' : 'non-root table'];
    if (Number.isFinite(t.maxRows)) flags.push(`at most ${t.maxRows} row(s)`);
    if (t.indexes.length) flags.push(`unique: ${t.indexes.map((i) => i.join('+')).join(', ')}`);
    out.push(`/** A row of ${db.name}.${t.name} (${flags.join('; ')}). */`);
    out.push(`export interface ${names.get(t.name)} {`);
    out.push('  readonly _uuid: Uuid;');
    for (const c of userColumns(t)) {
      out.push(`  /** ${describeType(c)} */`);
      out.push(`  readonly ${prop(c.name)}: ${valueType(c.type)};`);
    }
    out.push('}', '');
  }
  out.push(`/** Table name → row type: the type parameter of a replica of ${db.name}. */`);
  out.push(`export interface ${dbType}Tables {`);
  for (const t of sortedTables(db)) out.push(`  ${prop(t.name)}: ${names.get(t.name)};`);
  out.push('}', '');

  const modelName = `${lowerFirst(dbType)}Model`;
  out.push(`/** The ${db.name} schema and its table descriptors. */`);
  out.push(`export const ${modelName} = {`);
  out.push(`  name: ${JSON.stringify(db.name)},`);
  out.push(`  version: ${JSON.stringify(db.version)},`);
  out.push('  tables: {');
  for (const t of sortedTables(db)) {
    out.push(`    ${prop(t.name)}: {`);
    out.push(`      columns: ${JSON.stringify(userColumns(t).map((c) => c.name))},`);
    out.push(`      indexes: ${JSON.stringify(t.indexes)},`);
    out.push(`      isRoot: ${t.isRoot},`);
    out.push('    },');
  }
  out.push('  },');
  out.push(`  schema: ${stableJson(db.raw, '  ')},`);
  out.push('} as const;', '');
  return { name: `${fileBase(db.name)}.ts`, contents: out.join('\n') };
}

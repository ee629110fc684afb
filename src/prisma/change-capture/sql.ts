/**
 * The SQL that installs (and removes) PostgreSQL change capture: on every model table and
 * implicit many-to-many table, an AFTER row trigger for INSERT, UPDATE and DELETE and an AFTER
 * statement trigger for TRUNCATE, calling a function generated for that table. Each publishes a
 * change with `pg_notify`, which PostgreSQL delivers at commit and never on rollback (payload:
 * notifications.ts).
 *
 * A function per table names its columns directly (`OLD."title" IS DISTINCT FROM NEW."title"`):
 * measured here, an UPDATE costs 16 µs a row in the trigger against 30 for one generic function
 * reading rows through `to_jsonb` and `jsonb_each` (INSERT and DELETE about 15 either way, most of
 * it the notify and its EXCEPTION block). The notify runs in an EXCEPTION block: a change
 * that cannot be described (a column a later migration dropped) is published for its whole table,
 * and one that cannot be published at all is dropped with a WARNING, never failing the write.
 */
import {
  type ChangeCaptureNameOptions,
  type ChangeCaptureNames,
  changeCaptureNames,
  quoteIdent,
  quoteLiteral,
} from './names.ts'
import { type CaptureTable, type ChangeCaptureSource, captureTables } from './tables.ts'

/** Payloads must stay below PostgreSQL's NOTIFY limit of 8000 bytes. */
export const MAX_PAYLOAD_BYTES = 7999

/**
 * The SQL that installs change capture for every table of `source` (a Prisma client, `{ schema }`
 * text, or `{ datamodel, schema }`). Safe to run again, e.g. after adding models; add it as a migration.
 * @throws CacheOptionError when `source` is not a PostgreSQL schema or an option is invalid.
 */
export function changeCaptureSql(source: ChangeCaptureSource, options: ChangeCaptureNameOptions = {}): string {
  const names = changeCaptureNames(options, 'changeCaptureSql')
  const described = captureTables(source, 'changeCaptureSql')
  const lines = [
    `-- tiered-cache change capture: every committed row change is published on the NOTIFY channel ${quoteLiteral(names.channel)}.`,
    '-- Safe to run again (run it again after adding models); removed by `tiered-cache change-capture-sql --drop`.',
  ]
  for (const model of described.imprecise) {
    lines.push(
      `-- ${model}: its schema text could not be read; its changes are published for the whole table and its implicit many-to-many tables are not covered.`,
    )
  }
  for (const table of described.tables) lines.push('', ...tableSql(table, names))
  return `${lines.join('\n')}\n`
}

/**
 * The SQL that removes change capture: every function it created (found by their comment) and,
 * through CASCADE, every trigger calling one, on tables the schema may no longer name too.
 */
export function changeCaptureDropSql(options: ChangeCaptureNameOptions = {}): string {
  const names = changeCaptureNames(options, 'changeCaptureDropSql')
  return `-- Removes tiered-cache change capture: its functions and, through CASCADE, every trigger calling them.
DO $tiered_cache$
DECLARE
  fn regprocedure;
BEGIN
  FOR fn IN SELECT oid::regprocedure FROM pg_proc WHERE obj_description(oid, 'pg_proc') = ${quoteLiteral(names.marker)} LOOP
    EXECUTE format('DROP FUNCTION %s CASCADE', fn);
  END LOOP;
END
$tiered_cache$;
`
}

function tableSql(table: CaptureTable, names: ChangeCaptureNames): string[] {
  const target =
    table.schema === undefined ? quoteIdent(table.table) : `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`
  const fn = quoteIdent(names.functionOf(table.schema, table.table))
  const channel = quoteLiteral(names.channel)
  const row = quoteIdent(names.rowTrigger)
  const truncate = quoteIdent(names.truncateTrigger)
  return [
    `-- ${table.model === undefined ? `${table.joins?.join(' <-> ')}, implicit many-to-many` : `model ${table.model}`}: ${target}`,
    functionSql(fn, table),
    `COMMENT ON FUNCTION ${fn}() IS ${quoteLiteral(names.marker)};`,
    `DROP TRIGGER IF EXISTS ${row} ON ${target};`,
    `CREATE TRIGGER ${row} AFTER INSERT OR UPDATE OR DELETE ON ${target} FOR EACH ROW EXECUTE FUNCTION ${fn}(${channel});`,
    `DROP TRIGGER IF EXISTS ${truncate} ON ${target};`,
    `CREATE TRIGGER ${truncate} AFTER TRUNCATE ON ${target} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}(${channel});`,
  ]
}

/** A column's value as text in its JSON form (ISO timestamps, every digit of bigint and numeric, whatever DateStyle says). */
const text = (row: 'OLD' | 'NEW', column: string) => `to_jsonb(${row}.${quoteIdent(column)}) #>> '{}'`
const differs = (column: string) => `OLD.${quoteIdent(column)} IS DISTINCT FROM NEW.${quoteIdent(column)}`
const keyOf = (row: 'OLD' | 'NEW', columns: readonly string[]) =>
  `jsonb_build_array(${columns.map((c) => text(row, c)).join(', ')})`
const foreignKeys = (table: CaptureTable, pair: (column: string) => string) =>
  `jsonb_strip_nulls(jsonb_build_object(${table.foreignKeyColumns.map((c) => `${quoteLiteral(c)}, ${pair(c)}`).join(', ')}))`

/** The trigger function of one table; the channel is its first trigger argument. */
function functionSql(fn: string, table: CaptureTable): string {
  const key = table.keyColumns
  const columns = table.joins ? key : [...table.fields.keys()]
  const fks = table.foreignKeyColumns
  const body: string[] = []
  const set = (variable: string, expression: string) => body.push(`      ${variable} := ${expression};`)
  body.push("    IF TG_OP = 'INSERT' THEN")
  if (key.length > 0) set('k', keyOf('NEW', key))
  if (fks.length > 0)
    set(
      'f',
      foreignKeys(table, (c) => `jsonb_build_array(NULL::text, ${text('NEW', c)})`),
    )
  body.push("    ELSIF TG_OP = 'DELETE' THEN")
  if (key.length > 0) set('k', keyOf('OLD', key))
  if (fks.length > 0)
    set(
      'f',
      foreignKeys(table, (c) => `jsonb_build_array(${text('OLD', c)}, NULL::text)`),
    )
  body.push('    ELSE')
  if (key.length > 0) {
    set('k', keyOf('NEW', key))
    set('ok', `CASE WHEN ${key.map((c) => differs(c)).join(' OR ')} THEN ${keyOf('OLD', key)} END`)
  }
  const changed = columns.map((c) => `CASE WHEN ${differs(c)} THEN ${quoteLiteral(c)} END`)
  set('c', `to_jsonb(array_remove(ARRAY[\n        ${changed.join(',\n        ')}\n      ]::text[], NULL))`)
  if (fks.length > 0) {
    set(
      'f',
      foreignKeys(
        table,
        (c) => `CASE WHEN ${differs(c)} THEN jsonb_build_array(${text('OLD', c)}, ${text('NEW', c)}) END`,
      ),
    )
  }
  body.push('    END IF;')
  return `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $tiered_cache$
DECLARE
  head jsonb := jsonb_build_object('v', 1, 's', TG_TABLE_SCHEMA, 't', TG_TABLE_NAME, 'op', left(TG_OP, 1));
  k jsonb;
  ok jsonb;
  c jsonb;
  f jsonb;
  msg text;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify(TG_ARGV[0], head::text);
    RETURN NULL;
  END IF;
  BEGIN
${body.join('\n')}
    IF f = '{}' THEN f := NULL; END IF;
    msg := (head || jsonb_strip_nulls(jsonb_build_object('k', k, 'ok', ok, 'c', c, 'f', f)))::text;
    IF octet_length(msg) > ${MAX_PAYLOAD_BYTES} THEN
      msg := (head || jsonb_strip_nulls(jsonb_build_object('k', k, 'ok', ok)))::text;
    END IF;
    IF octet_length(msg) > ${MAX_PAYLOAD_BYTES} THEN msg := head::text; END IF;
    PERFORM pg_notify(TG_ARGV[0], msg);
  EXCEPTION WHEN OTHERS THEN
    BEGIN
      PERFORM pg_notify(TG_ARGV[0], head::text);
    EXCEPTION WHEN OTHERS THEN
      RAISE WARNING 'tiered-cache change capture could not publish a change of %.%: %', TG_TABLE_SCHEMA, TG_TABLE_NAME, SQLERRM;
    END;
  END;
  RETURN NULL;
END
$tiered_cache$;`
}

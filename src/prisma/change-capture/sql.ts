/**
 * The SQL that installs (and removes) PostgreSQL change capture: one trigger function and, on
 * every model table and implicit many-to-many table, an AFTER row trigger for INSERT, UPDATE and
 * DELETE and an AFTER statement trigger for TRUNCATE. Each publishes a change with `pg_notify`,
 * which PostgreSQL delivers at commit and never on rollback (payload: notifications.ts).
 *
 * One generic function, told its table's key and foreign-key columns through trigger arguments,
 * keeps the script short and survives columns that a later migration adds. The notify runs in
 * an EXCEPTION block: a change that cannot be described is published for its whole table, and
 * a change that cannot be published at all is dropped with a WARNING, never failing the write.
 */
import { type ChangeCaptureNameOptions, changeCaptureNames, quoteIdent, quoteLiteral } from './names.ts'
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
  const fn = quoteIdent(names.functionName)
  const lines = [
    `-- tiered-cache change capture: every committed row change is published on the NOTIFY channel ${quoteLiteral(names.channel)}.`,
    '-- Safe to run again (run it again after adding models); removed by `tiered-cache change-capture-sql --drop`.',
    '',
    functionSql(fn),
  ]
  for (const model of described.imprecise) {
    lines.push(
      `-- ${model}: its schema text could not be read; its changes are published for the whole table and its implicit many-to-many tables are not covered.`,
    )
  }
  for (const table of described.tables) lines.push('', ...triggerSql(table, names, fn))
  return `${lines.join('\n')}\n`
}

/**
 * The SQL that removes change capture: dropping the function drops every trigger that calls it,
 * on tables the schema may no longer name too.
 */
export function changeCaptureDropSql(options: ChangeCaptureNameOptions = {}): string {
  const names = changeCaptureNames(options, 'changeCaptureDropSql')
  return [
    '-- Removes tiered-cache change capture (the function and, through CASCADE, every trigger calling it).',
    `DROP FUNCTION IF EXISTS ${quoteIdent(names.functionName)}() CASCADE;`,
    '',
  ].join('\n')
}

function triggerSql(table: CaptureTable, names: ReturnType<typeof changeCaptureNames>, fn: string): string[] {
  const target =
    table.schema === undefined ? quoteIdent(table.table) : `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`
  const args = [names.channel, String(table.keyColumns.length), ...table.keyColumns, ...table.foreignKeyColumns]
  const row = quoteIdent(names.rowTrigger)
  const truncate = quoteIdent(names.truncateTrigger)
  return [
    `-- ${table.model === undefined ? `${table.joins?.join(' <-> ')}, implicit many-to-many` : `model ${table.model}`}: ${target}`,
    `DROP TRIGGER IF EXISTS ${row} ON ${target};`,
    `CREATE TRIGGER ${row} AFTER INSERT OR UPDATE OR DELETE ON ${target}`,
    `  FOR EACH ROW EXECUTE FUNCTION ${fn}(${args.map(quoteLiteral).join(', ')});`,
    `DROP TRIGGER IF EXISTS ${truncate} ON ${target};`,
    `CREATE TRIGGER ${truncate} AFTER TRUNCATE ON ${target}`,
    `  FOR EACH STATEMENT EXECUTE FUNCTION ${fn}(${quoteLiteral(names.channel)});`,
  ]
}

/**
 * Trigger arguments: channel, number of key columns n, the n key columns, then the foreign-key
 * columns. Values travel as text (`->>`), so bigint and numeric keep every digit.
 */
function functionSql(fn: string): string {
  return `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $tiered_cache$
DECLARE
  head jsonb := jsonb_build_object('v', 1, 's', TG_TABLE_SCHEMA, 't', TG_TABLE_NAME, 'op', left(TG_OP, 1));
  n int;
  o jsonb;
  r jsonb;
  k jsonb;
  ok jsonb;
  c jsonb;
  f jsonb;
  msg text;
BEGIN
  BEGIN
    msg := head::text;
    IF TG_OP <> 'TRUNCATE' THEN
      n := TG_ARGV[1]::int;
      IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;
      IF TG_OP <> 'DELETE' THEN r := to_jsonb(NEW); END IF;
      IF n > 0 THEN
        k := '[]';
        FOR i IN 2 .. n + 1 LOOP
          k := k || jsonb_build_array(coalesce(r, o) ->> TG_ARGV[i]);
        END LOOP;
      END IF;
      IF TG_OP = 'UPDATE' THEN
        IF n > 0 THEN
          ok := '[]';
          FOR i IN 2 .. n + 1 LOOP
            ok := ok || jsonb_build_array(o ->> TG_ARGV[i]);
          END LOOP;
          IF ok = k THEN ok := NULL; END IF;
        END IF;
        SELECT coalesce(jsonb_agg(e.key), '[]') INTO c FROM jsonb_each(r) AS e WHERE e.value IS DISTINCT FROM o -> e.key;
      END IF;
      FOR i IN n + 2 .. TG_NARGS - 1 LOOP
        IF TG_OP <> 'UPDATE' OR (o -> TG_ARGV[i]) IS DISTINCT FROM (r -> TG_ARGV[i]) THEN
          f := coalesce(f, '{}') || jsonb_build_object(TG_ARGV[i], jsonb_build_array(o ->> TG_ARGV[i], r ->> TG_ARGV[i]));
        END IF;
      END LOOP;
      msg := (head || jsonb_strip_nulls(jsonb_build_object('k', k, 'ok', ok, 'c', c, 'f', f)))::text;
      IF octet_length(msg) > ${MAX_PAYLOAD_BYTES} THEN
        msg := (head || jsonb_strip_nulls(jsonb_build_object('k', k, 'ok', ok)))::text;
      END IF;
      IF octet_length(msg) > ${MAX_PAYLOAD_BYTES} THEN msg := head::text; END IF;
    END IF;
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

import { createHash } from 'node:crypto'

/**
 * The Lua scripts of the L2. Each runs in one round trip and only touches keys under the cache's
 * prefix.
 *
 * Storage format (see types.ts): an entry is `header \n payload`, the header being tab-separated
 * `freshUntilMs, staleUntilMs, tag1, version1, tag2, version2, ...`; a tag's current version is the
 * string at `<prefix>:#v:<tag>` ('' when absent). Version keys of the tags stored in an entry are
 * only known after reading it, so the scripts build them from the version-key prefix passed in
 * ARGV[1] (the one place besides redis.ts that knows the layout).
 */
export interface LuaScript {
  readonly source: string
  readonly sha: string
}

function script(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

/** Shared helper: current versions of a list of version keys, '' for absent, in chunks (unpack has a stack limit). */
const VERSIONS = `
local function versions(keys)
  local out = {}
  for i = 1, #keys, 500 do
    local chunk = redis.call('MGET', unpack(keys, i, math.min(i + 499, #keys)))
    for j = 1, #chunk do out[#out + 1] = chunk[j] or '' end
  end
  return out
end
`

/**
 * get: KEYS[1] entry, KEYS[2..] version keys of the tags to capture; ARGV[1] version-key prefix.
 * Returns {1, raw, captured...} for a valid entry, {0, captured...} otherwise. An entry whose tags
 * moved, or whose header is unreadable, or that is not a string, is deleted.
 */
export const GET_SCRIPT = script(`${VERSIONS}
local capture = {}
for i = 2, #KEYS do capture[#capture + 1] = KEYS[i] end
local captured = versions(capture)
local raw = redis.pcall('GET', KEYS[1])
if type(raw) == 'table' and raw.err then
  redis.call('DEL', KEYS[1])
  raw = false
end
if raw then
  local valid = false
  local nl = string.find(raw, '\\n', 1, true)
  if nl then
    local fields = {}
    for field in string.gmatch(string.sub(raw, 1, nl - 1) .. '\\t', '([^\\t]*)\\t') do fields[#fields + 1] = field end
    if #fields >= 2 and #fields % 2 == 0 and tonumber(fields[1]) and tonumber(fields[2]) then
      local keys = {}
      for i = 3, #fields, 2 do keys[#keys + 1] = ARGV[1] .. fields[i] end
      local current = versions(keys)
      valid = true
      for i = 1, #current do
        if current[i] ~= fields[2 * i + 2] then valid = false break end
      end
    end
  end
  if valid then
    local out = {1, raw}
    for i = 1, #captured do out[#out + 1] = captured[i] end
    return out
  end
  redis.call('DEL', KEYS[1])
end
local out = {0}
for i = 1, #captured do out[#out + 1] = captured[i] end
return out
`)

/**
 * set: KEYS[1] entry, KEYS[2] max-lifetime key; ARGV: version-key prefix, px, freshUntil,
 * staleUntil, nCaptured, (tag, version)*, nGuards, (tag, version)*, nLate, tag*, payload.
 * Stores nothing and returns 0 if a captured or guard version moved; otherwise stores the entry
 * with the captured and late tags (guards are checked, not stored), raises the max lifetime, returns 1.
 */
export const SET_SCRIPT = script(`
local vp = ARGV[1]
local px = tonumber(ARGV[2])
local header = {ARGV[3], ARGV[4]}
local i = 5
local function current(tag) return redis.call('GET', vp .. tag) or '' end
local n = tonumber(ARGV[i]) i = i + 1
for _ = 1, n do
  local tag, version = ARGV[i], ARGV[i + 1]
  i = i + 2
  if current(tag) ~= version then return 0 end
  header[#header + 1] = tag
  header[#header + 1] = version
end
n = tonumber(ARGV[i]) i = i + 1
for _ = 1, n do
  if current(ARGV[i]) ~= ARGV[i + 1] then return 0 end
  i = i + 2
end
n = tonumber(ARGV[i]) i = i + 1
for _ = 1, n do
  header[#header + 1] = ARGV[i]
  header[#header + 1] = current(ARGV[i])
  i = i + 1
end
redis.call('SET', KEYS[1], table.concat(header, '\\t') .. '\\n' .. ARGV[i], 'PX', px)
local ml = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if px > ml then redis.call('SET', KEYS[2], px) end
return 1
`)

/**
 * invalidate: KEYS[1] max-lifetime key; ARGV: version-key prefix, entry-key prefix, token,
 * floor ms, nTags, tag*, nKeys, key*, channel, message. Gives each tag the new token, for at least
 * as long as any entry can live (so an entry holding an older version can never meet that version
 * again), deletes the keys and publishes the message unless the channel is ''.
 */
export const INVALIDATE_SCRIPT = script(`
local vp, ep, token = ARGV[1], ARGV[2], ARGV[3]
local px = math.max(tonumber(redis.call('GET', KEYS[1]) or '0') or 0, tonumber(ARGV[4]))
local i = 5
local n = tonumber(ARGV[i]) i = i + 1
for _ = 1, n do
  redis.call('SET', vp .. ARGV[i], token, 'PX', px)
  i = i + 1
end
n = tonumber(ARGV[i]) i = i + 1
local keys = {}
for _ = 1, n do
  keys[#keys + 1] = ep .. ARGV[i]
  i = i + 1
end
for j = 1, #keys, 500 do redis.call('UNLINK', unpack(keys, j, math.min(j + 499, #keys))) end
if ARGV[i] ~= '' then redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
return 1
`)

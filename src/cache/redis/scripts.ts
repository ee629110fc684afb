import { createHash } from 'node:crypto'
import type { RedisConnection } from './connection.ts'

/**
 * The Lua scripts of the L2, and how they are called. Each runs in one round trip and only
 * touches keys of one slot group under the cache's prefix (layout.ts); the entry format they read
 * and write is in entry.ts, the versioned tags and the server epoch they check in docs/design.md.
 * Version keys of the tags stored in an entry are only known after reading it, so the scripts
 * build them from the version-key prefix passed in ARGV[1].
 *
 * Versions are ordered per group (docs/design.md, "Ordered versions"): every version a script
 * writes is a value of the group's sequence key (decimal, no leading zero), which only grows: an
 * invalidation advances it, a capture reads it (S0) and gives the versions it creates that value.
 * Values stay strings in Lua (a Lua number prints with 14 digits) and are compared by length, then
 * as text.
 */
export interface LuaScript {
  readonly source: string
  readonly sha: string
}

function script(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

/**
 * The sequence of a group. `ordered(v)`: `v` is a sequence value. `sequence(key, current)`: the
 * value of the sequence (`current`, when already read), started at Redis's clock in microseconds
 * (exact as a Lua number until the year 2255) when missing (first use, evicted) or not a sequence value.
 */
const SEQUENCE = `
local find = string.find
local function ordered(v)
  return v and find(v, '^[1-9]%d*$') ~= nil
end
local function sequence(key, current)
  if current == nil then current = redis.call('GET', key) end
  if ordered(current) then return current end
  local t = redis.call('TIME')
  current = string.format('%d', tonumber(t[1]) * 1000000 + tonumber(t[2]))
  redis.call('SET', key, current)
  return current
end
`

/**
 * Shared helpers. `versions`: the values of these keys, `false` for a missing one (in chunks:
 * unpack has a stack limit). `ensure`: the value of a key, set to `candidate` (for `px` ms, when
 * given) if it is missing. `captured`: the versions of these keys and the value S0 of the sequence
 * (read with them), each missing version created with S0 for `px` ms, so a load holds a version
 * that no eviction can bring back.
 */
const HELPERS = `${SEQUENCE}
local function versions(keys)
  local out = {}
  for i = 1, #keys, 500 do
    local chunk = redis.call('MGET', unpack(keys, i, math.min(i + 499, #keys)))
    for j = 1, #chunk do out[#out + 1] = chunk[j] end
  end
  return out
end
local function ensure(key, candidate, px)
  local current = redis.call('GET', key)
  if current then return current end
  if px then redis.call('SET', key, candidate, 'PX', px) else redis.call('SET', key, candidate) end
  return candidate
end
local function captured(keys, seq, px)
  keys[#keys + 1] = seq
  local current = versions(keys)
  local s0 = sequence(seq, current[#keys])
  current[#keys] = nil
  keys[#keys] = nil
  for i = 1, #keys do
    if not current[i] then
      redis.call('SET', keys[i], s0, 'PX', px)
      current[i] = s0
    end
  end
  return current, s0
end
`

/**
 * get: KEYS[1] entry, KEYS[2] epoch, KEYS[3] lock, KEYS[4] lock waiters, KEYS[5] the key's load
 * fence, KEYS[6] the group's sequence, KEYS[7..] version keys of the tags to capture; ARGV[1]
 * version-key prefix, ARGV[2] candidate (the value of an epoch or fence this call creates), ARGV[3]
 * lock token ('' = do not lock), ARGV[4] lock ms, ARGV[5] the caller's clock (ms), ARGV[6] which
 * header time ends the entry for this read ('2' staleUntil, '3' graceUntil), ARGV[7] ms a created
 * fence or version lives (the longest load that may still store), ARGV[8] '1' to capture ('' when
 * no load follows the read: nothing is captured or created, and the replies below end after lock
 * or raw). Returns {1, raw} for a valid fresh entry (nothing is captured: no load follows it),
 * {1, raw, epoch, fence, captured..., S0} for a valid entry past its fresh time (a refresh follows
 * it); otherwise {0, lock, epoch, fence, captured..., S0}, S0 being the sequence value (a version
 * the capture creates gets it), where lock is 1 when this call took the lock (SET NX PX), 0
 * when another holder has it (the waiters key is then set, so the holder's release announces
 * itself), -1 when no lock was asked. An entry is valid when every version in its header is the
 * current one: a missing version (never invalidated, evicted, expired) is never current. An entry
 * that is not valid, or whose header is unreadable, or that is not a string, is deleted; one past
 * its end for this read (kept for others' grace) is a miss and stays.
 * Every key is in one slot group (see KeyLayout), and so are the version keys built from ARGV[1].
 */
export const GET_SCRIPT = script(`
local raw = redis.pcall('GET', KEYS[1])
if type(raw) == 'table' and raw.err then
  redis.call('DEL', KEYS[1])
  raw = false
end
-- The hit path first, with nothing defined it does not use: a fresh hit returns before the helpers.
local fields
if raw then
  local valid = false
  fields = {}
  local nl = string.find(raw, '\\n', 1, true)
  if nl then
    local pos = 1
    while pos <= nl do
      local tab = string.find(raw, '\\t', pos, true)
      if not tab or tab > nl then tab = nl end
      fields[#fields + 1] = string.sub(raw, pos, tab - 1)
      pos = tab + 1
    end
    if #fields >= 3 and #fields % 2 == 1 and tonumber(fields[1]) and tonumber(fields[2]) and tonumber(fields[3]) then
      local keys = {}
      for i = 4, #fields, 2 do keys[#keys + 1] = ARGV[1] .. fields[i] end
      valid = true
      -- MGET in chunks: unpack has a stack limit.
      for from = 1, #keys, 500 do
        local chunk = redis.call('MGET', unpack(keys, from, math.min(from + 499, #keys)))
        for j = 1, #chunk do
          local i = from + j - 1
          if not chunk[j] or chunk[j] ~= fields[2 * i + 3] then valid = false break end
        end
        if not valid then break end
      end
    end
  end
  if valid then
    local now = tonumber(ARGV[5])
    if tonumber(fields[tonumber(ARGV[6])]) > now and (tonumber(fields[1]) > now or ARGV[8] ~= '1') then
      return {1, raw}
    end
  else
    redis.call('DEL', KEYS[1])
    raw = false
  end
end
${HELPERS}
local function capture(head)
  if ARGV[8] ~= '1' then return head end
  local keys = {}
  for i = 7, #KEYS do keys[#keys + 1] = KEYS[i] end
  local px = tonumber(ARGV[7])
  head[#head + 1] = ensure(KEYS[2], ARGV[2])
  head[#head + 1] = ensure(KEYS[5], ARGV[2], px)
  local current, s0 = captured(keys, KEYS[6], px)
  for _, version in ipairs(current) do head[#head + 1] = version end
  head[#head + 1] = s0
  return head
end
-- Still set: a valid entry past its fresh time, a refresh follows (or past its end: a miss).
if raw and tonumber(fields[tonumber(ARGV[6])]) > tonumber(ARGV[5]) then return capture({1, raw}) end
local lock = -1
if ARGV[3] ~= '' then
  if redis.call('SET', KEYS[3], ARGV[3], 'NX', 'PX', ARGV[4]) then
    lock = 1
  else
    lock = 0
    redis.call('SET', KEYS[4], '1', 'PX', ARGV[4])
  end
end
return capture({0, lock})
`)

/**
 * capture: KEYS[1] epoch, KEYS[2] load fence, KEYS[3] the group's sequence, KEYS[4..] version keys;
 * ARGV[1] candidate (of a created epoch or fence), ARGV[2] ms a created fence or version lives.
 * Returns {epoch, fence, versions..., S0}, missing ones created (a version with S0, the sequence value).
 */
export const CAPTURE_SCRIPT = script(`${HELPERS}
local keys = {}
for i = 4, #KEYS do keys[#keys + 1] = KEYS[i] end
local px = tonumber(ARGV[2])
local out = {ensure(KEYS[1], ARGV[1]), ensure(KEYS[2], ARGV[1], px)}
local current, s0 = captured(keys, KEYS[3], px)
for _, version in ipairs(current) do out[#out + 1] = version end
out[#out + 1] = s0
return out
`)

/**
 * set: KEYS[1] entry, KEYS[2] max-lifetime key, KEYS[3] epoch, KEYS[4] load fence, KEYS[5] the
 * group's sequence; ARGV: version-key prefix, px, freshUntil, staleUntil, graceUntil, epoch, fence,
 * S0 (each '' = not checked), ms a created version lives at least, nCaptured, (tag, version)*,
 * nGuards, (tag, version)*, nLate, tag*, payload.
 * Stores nothing and returns 0 if the epoch, the fence or a captured version is not the one
 * captured (moved, or missing: deleted, evicted, expired), or if a late tag's version is a
 * sequence value above S0 (bumped during the load). The guards stand in for the late tags whose
 * version cannot tell, and are checked (the same way as captured versions) only when there is one:
 * a late version that is missing (created now, with the sequence's current value, which is at or
 * above every token given so far, so no stale entry holds it) or not a sequence value (an older
 * release's token); and always without S0, or when the sequence is behind S0 (lost since the
 * capture, with the tokens it had counted). Otherwise stores the entry with the captured and late
 * tags (guards are not stored), makes every version it stores live at least as long as the entry,
 * deletes the fence (the load it guarded is done; it is deleted too when a store past the fence
 * check is refused), raises the max lifetime, returns 1. Missing late versions are created even
 * when it refuses, so the next load of the same rows is judged by order.
 */
export const SET_SCRIPT = script(`${HELPERS}
-- Sequence value a is above b.
local function later(a, b)
  return #a > #b or (#a == #b and a > b)
end
local vp = ARGV[1]
local px = tonumber(ARGV[2])
local header = {ARGV[3], ARGV[4], ARGV[5]}
if ARGV[7] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[7] then return 0 end
local function refuse()
  if ARGV[7] ~= '' then redis.call('DEL', KEYS[4]) end
  return 0
end
if ARGV[6] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[6] then return refuse() end
local created = math.max(px, tonumber(ARGV[9]))
local i = 10
local n = tonumber(ARGV[i]) i = i + 1
for _ = 1, n do
  local tag, version = ARGV[i], ARGV[i + 1]
  i = i + 2
  if redis.call('GET', vp .. tag) ~= version then return refuse() end
  header[#header + 1] = tag
  header[#header + 1] = version
end
local guards = i
i = i + 1 + 2 * tonumber(ARGV[i])
n = tonumber(ARGV[i]) i = i + 1
local s0 = ordered(ARGV[8]) and ARGV[8] or nil
local guarded = not s0
if n > 0 then
  local keys = {}
  for k = 1, n do keys[k] = vp .. ARGV[i + k - 1] end
  keys[n + 1] = KEYS[5]
  local found = versions(keys)
  local now = sequence(KEYS[5], found[n + 1])
  -- Behind the capture: the sequence lost values since, and a version at or below S0 may be newer.
  if s0 and later(s0, now) then
    s0 = nil
    guarded = true
  end
  local bumped = false
  local length = s0 and #s0
  for k = 1, n do
    local version = found[k]
    if not version then
      guarded = true
      version = now
      redis.call('SET', keys[k], version, 'PX', created)
    elseif not s0 or find(version, '.', 1, true) then
      -- Every token of an older release has a dot (instance.counter); no sequence value has one.
      guarded = true
    elseif #version > length or (#version == length and version > s0) then
      bumped = true
    end
    header[#header + 1] = ARGV[i]
    header[#header + 1] = version
    i = i + 1
  end
  if bumped then return refuse() end
end
if guarded then
  for g = guards + 1, guards + 2 * tonumber(ARGV[guards]), 2 do
    if redis.call('GET', vp .. ARGV[g]) ~= ARGV[g + 1] then return refuse() end
  end
end
for t = 4, #header, 2 do
  local key = vp .. header[t]
  local left = redis.call('PTTL', key)
  if left >= 0 and left < px then redis.call('PEXPIRE', key, px) end
end
redis.call('SET', KEYS[1], table.concat(header, '\\t') .. '\\n' .. ARGV[i], 'PX', px)
if ARGV[7] ~= '' then redis.call('DEL', KEYS[4]) end
local ml = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if px > ml then redis.call('SET', KEYS[2], px) end
return 1
`)

/**
 * unlock: KEYS[1] lock, KEYS[2] lock waiters; ARGV[1] token, ARGV[2] channel, ARGV[3] message.
 * Compare-and-delete: only the holder's token releases the lock (a holder whose lock expired and
 * was taken over releases nothing). When someone waited, publishes the message so waiters read
 * the value at once instead of at their next poll. Returns 1 when released.
 */
export const UNLOCK_SCRIPT = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('DEL', KEYS[2]) == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return 1
`)

/**
 * invalidate: KEYS[1] max-lifetime key, KEYS[2] the group's sequence; ARGV: version-key prefix,
 * entry-key prefix, floor ms, nTags, tag*, nKeys, key*, channel, message. Advances the sequence to
 * the larger of its value + 1 and the clock, and gives each tag that value (its tags share it), for
 * at least as long as any entry can live; deletes the keys and their load fences (a load of one of
 * them in flight then cannot store) and publishes the message unless the channel is ''. Following
 * the clock keeps a token above every earlier one even when the sequence lost its last values (an
 * eviction; a failover whose replica had not received them), so a token is never given twice.
 */
export const INVALIDATE_SCRIPT = script(`
local vp, ep = ARGV[1], ARGV[2]
local i = 4
local n = tonumber(ARGV[i]) i = i + 1
if n > 0 then
  local px = math.max(tonumber(redis.call('GET', KEYS[1]) or '0') or 0, tonumber(ARGV[3]))
  -- The clock in microseconds (as SEQUENCE's), unless the sequence is at or past it already.
  local last = tonumber(redis.call('GET', KEYS[2]) or '')
  local t = redis.call('TIME')
  local token = tonumber(t[1]) * 1000000 + tonumber(t[2])
  if last and last >= token then token = last + 1 end
  token = string.format('%d', token)
  redis.call('SET', KEYS[2], token)
  for _ = 1, n do
    redis.call('SET', vp .. ARGV[i], token, 'PX', px)
    i = i + 1
  end
end
n = tonumber(ARGV[i]) i = i + 1
local keys = {}
for _ = 1, n do
  keys[#keys + 1] = ep .. ARGV[i]
  keys[#keys + 1] = ep .. '#f:' .. ARGV[i]
  i = i + 1
end
for j = 1, #keys, 500 do redis.call('UNLINK', unpack(keys, j, math.min(j + 499, #keys))) end
if ARGV[i] ~= '' then redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
return 1
`)

/** EVALSHA, and EVAL once when the server does not know the script yet (a restart, a new server). */
export async function evalScript(
  redis: RedisConnection,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args)
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return redis.eval(script.source, keys.length, ...keys, ...args)
  }
}

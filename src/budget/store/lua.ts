// The Redis budget books as Lua scripts: each grant, settle, credit, release and expiry is one
// script, so it is atomic in Redis. Times are Redis's own clock (TIME), one clock per region.
// Region hash fields: alloc, leased, spent, stranded; day totals granted, released, returned, returnedUp
// (granted = leased + stranded + spent + released + returned + returnedUp); "l:<lease id>" = "<granted>:<expires ms>:<state>"
// (state live | stranded | closed | upped; a closed or upped lease adds ":<returned>:<handed up>": audits of who spent
// what, and a repeated settle (its first reply lost) answers the same hand-up, so it is given back once; upped = closed by
// SETTLE_UP, its remainder went straight to global); "x:<id>" = a transfer or release already applied.
// Global hash fields: budget, allocated, "r:<region>" allocated to it, "x:<id>" transfers, "lr:<lease id>" a lease
// remainder returned straight to global, "lrt:<region>" their total; a zset per region lists the returns not yet
// acknowledged by the region.
// Expiry index: one sorted set per region, member "<books key>\n<lease id>", score = expiry ms.

/** Books keys live for this long after their last write (a campaign day plus late notices). */
export const BOOKS_TTL_SEC = 3 * 86_400;

const NOW = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
const NUM = `local function num(f) return tonumber(redis.call('HGET', KEYS[1], f) or '0') end`;
const AVAIL = `local function avail() return num('alloc') - num('leased') - num('spent') - num('stranded') end`;
const TOUCH = `redis.call('EXPIRE', KEYS[1], ${BOOKS_TTL_SEC})`;

/** KEYS: books, expiry zset. ARGV: lease id, want, ttl ms, min (grant nothing below it). -> {granted, available} */
export const CLAIM = `${NOW}
${NUM}
${AVAIL}
local f = 'l:' .. ARGV[1]
local existing = redis.call('HGET', KEYS[1], f)
if existing then return {tonumber(string.match(existing, '^(%d+)')), avail()} end
local want = tonumber(ARGV[2])
local granted = math.min(want, avail())
if granted <= 0 or avail() < tonumber(ARGV[4]) then return {0, avail()} end
redis.call('HSET', KEYS[1], f, granted .. ':' .. (now + tonumber(ARGV[3])) .. ':live')
redis.call('HINCRBY', KEYS[1], 'leased', granted)
redis.call('HINCRBY', KEYS[1], 'granted', granted)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), KEYS[1] .. '\\n' .. ARGV[1])
${TOUCH}
return {granted, avail()}`;

// The shared steps of SETTLE and SETTLE_UP (ARGV: lease id, returned).
/** Reads lease ARGV[1] (f, lease, granted, exp, state); unknown: {0, 0}. */
const READ_LEASE = `local f = 'l:' .. ARGV[1]
local lease = redis.call('HGET', KEYS[1], f)
if not lease then return {0, 0} end
local granted, exp, state = string.match(lease, '^(%d+):(%d+):(%a+)')
granted = tonumber(granted)`;
/** Takes the live or stranded lease off the books: what was not returned is spent. */
const TAKE_OFF_LEASE = `local returned = tonumber(ARGV[2])
if returned > granted then return redis.error_reply('returned ' .. returned .. ' > granted ' .. granted) end
if state == 'live' then redis.call('HINCRBY', KEYS[1], 'leased', -granted) else redis.call('HINCRBY', KEYS[1], 'stranded', -granted) end
redis.call('HINCRBY', KEYS[1], 'spent', granted - returned)`;
/** Drops the lease from the expiry index; with no live lease left, the idle allocation is handed up (up). */
const HAND_UP_IDLE = `redis.call('ZREM', KEYS[2], KEYS[1] .. '\\n' .. ARGV[1])
local up = 0
if num('leased') == 0 and avail() > 0 then
  up = avail()
  redis.call('HINCRBY', KEYS[1], 'alloc', -up)
end`;

/** KEYS: books, expiry zset. ARGV: lease id, returned. -> {settled 0|1, up} */
export const SETTLE = `${NUM}
${AVAIL}
${READ_LEASE}
if state == 'closed' or state == 'upped' then return {0, tonumber(string.match(lease, ':(%d+)$') or '0')} end
${TAKE_OFF_LEASE}
redis.call('HINCRBY', KEYS[1], 'returned', returned)
${HAND_UP_IDLE}
redis.call('HSET', KEYS[1], f, granted .. ':' .. exp .. ':closed:' .. returned .. ':' .. up)
${TOUCH}
return {1, up}`;

/** KEYS: books, expiry zset. ARGV: lease id, remainder given to global. -> {1 settled | 0 repeat or unknown | -1 conflict, up}.
 *  The lease (live or stranded) leaves the books, its remainder leaves alloc (returned upward), the rest is spent:
 *  available is unchanged, so the remainder is never spendable here. */
export const SETTLE_UP = `${NUM}
${AVAIL}
${READ_LEASE}
if state == 'upped' then return {0, tonumber(string.match(lease, ':(%d+)$') or '0')} end
if state == 'closed' then return {-1, 0} end
${TAKE_OFF_LEASE}
redis.call('HINCRBY', KEYS[1], 'alloc', -returned)
redis.call('HINCRBY', KEYS[1], 'returnedUp', returned)
${HAND_UP_IDLE}
redis.call('HSET', KEYS[1], f, granted .. ':' .. exp .. ':upped:' .. returned .. ':' .. up)
${TOUCH}
return {1, up}`;

/** KEYS: books. ARGV: id, amount, field (alloc to credit, spent to release: -amount), delta[, total field, its delta]. -> 1 applied | 0 */
export const APPLY_ONCE = `if redis.call('HSETNX', KEYS[1], 'x:' .. ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[3], tonumber(ARGV[4]))
if ARGV[5] then redis.call('HINCRBY', KEYS[1], ARGV[5], tonumber(ARGV[6])) end
${TOUCH}
return 1`;

/** KEYS: expiry zset, hand-up zset. ARGV: grace ms, batch. -> {leases stranded, index entries processed}. A campaign left with no live
 *  lease hands its idle allocation up: alloc shrinks now, "u:<lease id>" and the hand-up zset remember it
 *  until the caller has given it to global (HANDUPS, ACK_HANDUP). */
export const EXPIRE = `${NOW}
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[2]))
local n = 0
for _, m in ipairs(members) do
  local books, id = string.match(m, '^(.*)\\n(.*)$')
  local lease = redis.call('HGET', books, 'l:' .. id)
  if lease then
    local granted, exp, state = string.match(lease, '^(%d+):(%d+):(%a+)')
    if state == 'live' then
      redis.call('HINCRBY', books, 'leased', -tonumber(granted))
      redis.call('HINCRBY', books, 'stranded', tonumber(granted))
      redis.call('HSET', books, 'l:' .. id, granted .. ':' .. exp .. ':stranded')
      n = n + 1
      local function bnum(f) return tonumber(redis.call('HGET', books, f) or '0') end
      local avail = bnum('alloc') - bnum('leased') - bnum('spent') - bnum('stranded')
      if bnum('leased') == 0 and avail > 0 then
        redis.call('HINCRBY', books, 'alloc', -avail)
        redis.call('HSET', books, 'u:' .. id, avail)
        redis.call('ZADD', KEYS[2], now, m)
      end
    end
  end
  redis.call('ZREM', KEYS[1], m)
end
return {n, #members}`;

/** KEYS: global books. ARGV: transfer id, region, want, budget. -> {granted, unallocated} */
export const GRANT = `redis.call('HSETNX', KEYS[1], 'budget', ARGV[4])
local function num(f) return tonumber(redis.call('HGET', KEYS[1], f) or '0') end
local done = redis.call('HGET', KEYS[1], 'x:' .. ARGV[1])
if done then return {tonumber(done), num('budget') - num('allocated')} end
local granted = math.max(0, math.min(tonumber(ARGV[3]), num('budget') - num('allocated')))
redis.call('HSET', KEYS[1], 'x:' .. ARGV[1], granted)
redis.call('HINCRBY', KEYS[1], 'allocated', granted)
redis.call('HINCRBY', KEYS[1], 'r:' .. ARGV[2], granted)
${TOUCH}
return {granted, num('budget') - num('allocated')}`;

/** KEYS: global books. ARGV: transfer id, region, amount. -> 1 applied | 0 */
export const GIVE_BACK = `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local held = tonumber(redis.call('HGET', KEYS[1], 'r:' .. ARGV[2]) or '0')
local amount = tonumber(ARGV[3])
if amount > held then return redis.error_reply('region ' .. ARGV[2] .. ' gives back ' .. amount .. ' but holds ' .. held) end
if redis.call('HSETNX', KEYS[1], 'x:' .. ARGV[1], amount) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'allocated', -amount)
redis.call('HINCRBY', KEYS[1], 'r:' .. ARGV[2], -amount)
${TOUCH}
return 1`;

/** KEYS: global books, the region's lease-return zset. ARGV: lease id, region, amount, zset member. -> 1 applied | 0 */
export const RETURN_LEASE = `${NOW}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'lr:' .. ARGV[1]) == 1 then return 0 end
local held = tonumber(redis.call('HGET', KEYS[1], 'r:' .. ARGV[2]) or '0')
local amount = tonumber(ARGV[3])
if amount > held then return redis.error_reply('region ' .. ARGV[2] .. ' gives back ' .. amount .. ' but holds ' .. held) end
redis.call('HSET', KEYS[1], 'lr:' .. ARGV[1], amount)
redis.call('HINCRBY', KEYS[1], 'allocated', -amount)
redis.call('HINCRBY', KEYS[1], 'r:' .. ARGV[2], -amount)
redis.call('HINCRBY', KEYS[1], 'lrt:' .. ARGV[2], amount)
redis.call('ZADD', KEYS[2], now, ARGV[4])
${TOUCH}
return 1`;

/**
 * A listing of pending entries: KEYS: a zset of members "<books key>, newline, <id>". ARGV: limit. -> flat list
 * member, amount, member, amount ... where amount is the books' `${field}id` (0 when gone).
 */
const pendingAmounts = (field: string) => `local out = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)) do
  local books, id = string.match(m, '^(.*)\\n(.*)$')
  out[#out + 1] = m
  out[#out + 1] = redis.call('HGET', books, '${field}' .. id) or '0'
end
return out`;

/** KEYS: a region's lease-return zset. ARGV: limit. -> flat list member, amount, member, amount ... */
export const LEASE_RETURNS = pendingAmounts("lr:");

/** KEYS: hand-up zset. ARGV: limit. -> flat list member, up, member, up ... */
export const HANDUPS = pendingAmounts("u:");

/** KEYS: hand-up zset, books. ARGV: member, lease id. */
export const ACK_HANDUP = `redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], 'u:' .. ARGV[2])
return 1`;

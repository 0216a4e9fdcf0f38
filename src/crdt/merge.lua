-- walrus active-active merge script (one body for every op family; see docs/active-active.md).
--
-- KEYS[1] = the user key, KEYS[2] = its sidecar hash (walrus:m:{tag}:key), KEYS[3] = its
-- counter contributions (walrus:c:{tag}:key), all in one slot.
-- ARGV = op, stamp, expiry mode, expiry abs ms, stream id of the stamp, op args...
--   op      SET DEL INCRBY SADD SREM ZADD ZREM ZINCRBY HSET HDEL HINCRBY XADD EXPIRE PERSIST GC
--   stamp   "<hlc>.<op index>-<origin>" (fixed-width prefix: byte order == causal/LWW order)
--   expiry  "" none, "A" absolute ms in ARGV[4], "P" no expiry (PERSIST, SET without TTL),
--           written last-writer-wins at the op's stamp.
--
-- Sidecar fields: t family (r c s z h x), x clear stamp (last DEL), xi stream id of x,
-- e/es expiry ms ("0" = none) and its stamp, g gc floor (ops older are ignored),
-- m:<elem> element base "+<stamp>" / "-<stamp>" (zset: "+<stamp>|<score>").
-- Counter contributions (INCRBY, HINCRBY, ZINCRBY) are members "<#elem>:<elem><stamp> <delta>"
-- of the zset KEYS[3], all with score 0, so they sort by bytes: per element, by stamp. The
-- member itself is the dedup record of the op. Registers and counters use elem "". Every rule below is a function of the SET of ops received (not their order):
-- element value = max-stamp base (if newer than x) + contributions newer than that base.

local K, M, C = KEYS[1], KEYS[2], KEYS[3]
-- KEYS[4] (optional, the applier's record ops): the dead-letter outbox hash of the record's
-- source partition (src/apply/outbox.h); the last two ARGV are then the record's outbox field
-- (its offset) and value prefix ("<wall ms>|rejected|"). An op that fails writes its outbox entry
-- here, atomically with everything else of the transaction, and returns the error.
local OB = KEYS[4]
local op, st, emode, eabs, sid = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local A0 = 6 -- first op argument

-- Byte-wise a < b (Lua's < uses strcoll, which depends on the server's locale).
local function lt(a, b)
  if a == b then return false end
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local names = {r = 'register (SET/DEL)', c = 'counter (INCR family)', s = 'set',
               z = 'sorted set', h = 'hash', x = 'stream'}

local meta = redis.call('HMGET', M, 't', 'x', 'g', 'xi')
local fam, clear, floor, clear_id = meta[1], meta[2], meta[3], meta[4]

local function family(f)
  if fam and fam ~= f then
    return 'WALRUS-CRDT key holds a ' .. names[fam] .. ' and cannot take a ' .. names[f] ..
               ' op (mixing families on one key is refused in crdt mode)'
  end
  if not fam then redis.call('HSET', M, 't', f); fam = f end
  return nil
end

-- Too old to matter: covered by a DEL or by the GC floor.
local function stale(s)
  return (clear and not lt(clear, s)) or (floor and not lt(floor, s))
end

local function base_of(elem)
  local b = redis.call('HGET', M, 'm:' .. elem)
  if not b then return nil end
  local bar = string.find(b, '|', 1, true)
  if bar then return string.sub(b, 1, 1), string.sub(b, 2, bar - 1), string.sub(b, bar + 1) end
  return string.sub(b, 1, 1), string.sub(b, 2), nil
end

local function cprefix(elem) return #elem .. ':' .. elem end

-- Splits a contribution member into elem, stamp, delta.
local function parse_member(m)
  local colon = string.find(m, ':', 1, true)
  local n = tonumber(string.sub(m, 1, colon - 1))
  local elem = string.sub(m, colon + 1, colon + n)
  local rest = string.sub(m, colon + n + 1)
  local sp = string.find(rest, ' ', 1, true)
  return elem, string.sub(rest, 1, sp - 1), string.sub(rest, sp + 1)
end

-- The contributions of an element, in stamp order: {{stamp, delta}, ...}.
local function contribs(elem)
  local p = cprefix(elem)
  local out = {}
  for _, m in ipairs(redis.call('ZRANGEBYLEX', C, '[' .. p, '[' .. p .. '\255')) do
    local _, s, d = parse_member(m)
    out[#out + 1] = {s, d}
  end
  return out
end

-- Forgets contributions older than stamp s; returns the kept ones.
local function drop_older(elem, s)
  local p = cprefix(elem)
  redis.call('ZREMRANGEBYLEX', C, '[' .. p, '(' .. p .. s)
  return contribs(elem)
end

-- Records a contribution. Returns recorded (false for a duplicate or one covered by the
-- element's base) and newest (no newer contribution of the element is known).
local function add_contrib(elem, delta)
  if stale(st) then return false end
  local _, bs = base_of(elem)
  if bs and not lt(bs, st) then return false end
  local p = cprefix(elem)
  local member = p .. st .. ' ' .. delta
  if redis.call('ZSCORE', C, member) then return false end
  local top = redis.call('ZREVRANGEBYLEX', C, '[' .. p .. '\255', '[' .. p, 'LIMIT', 0, 1)
  local newest = #top == 0 or lt(select(2, parse_member(top[1])), st)
  redis.call('ZADD', C, 0, member)
  return true, newest
end

-- Sets the Redis value of one element from its sidecar state.
local function materialize(elem)
  local flag, _, score = base_of(elem)
  local list = contribs(elem)
  local present = flag == '+' or #list > 0
  if fam == 'c' or fam == 'r' then
    if fam == 'c' then
      redis.call('DEL', K)
      for _, c in ipairs(list) do redis.call('INCRBY', K, c[2]) end
    elseif flag ~= '+' then
      redis.call('DEL', K)
    end
  elseif fam == 's' then
    if present then redis.call('SADD', K, elem) else redis.call('SREM', K, elem) end
  elseif fam == 'h' then
    if flag ~= '+' then
      redis.call('HDEL', K, elem)
      for _, c in ipairs(list) do redis.pcall('HINCRBY', K, elem, c[2]) end
    end
  elseif fam == 'z' then
    if not present then redis.call('ZREM', K, elem); return end
    if #list == 0 then redis.call('ZADD', K, score, elem); return end
    local v = (flag == '+') and tonumber(score) or 0
    for _, c in ipairs(list) do v = v + tonumber(c[2]) end
    redis.call('ZADD', K, string.format('%.17g', v), elem)
  end
end

-- A new base (value or removal) for an element, if newer than what is there.
-- apply(kept) writes the Redis value given the contributions that survive.
local function set_base(elem, flag, score, apply)
  if stale(st) then return false end
  local bflag, bs = base_of(elem)
  if bs then
    if lt(st, bs) then return false end
    -- Equal stamps only come from a redelivery; add wins if they ever differ.
    if bs == st and not (bflag == '-' and flag == '+') then return false end
  end
  local v = flag .. st
  if score then v = v .. '|' .. score end
  redis.call('HSET', M, 'm:' .. elem, v)
  apply(drop_older(elem, st))
  return true
end

local function write_expiry()
  if emode == '' then return end
  local es = redis.call('HGET', M, 'es')
  if es and not lt(es, st) then return end
  redis.call('HSET', M, 'e', emode == 'A' and eabs or '0', 'es', st)
end

local function apply_expiry()
  local e = redis.call('HGET', M, 'e')
  if e and e ~= '0' then
    redis.call('PEXPIREAT', K, e)
  elseif e then
    redis.call('PERSIST', K)
  end
end

-- DEL: everything older than the stamp goes; newer elements and contributions stay.
local function clear_key()
  if clear and not lt(clear, st) then return end
  if floor and not lt(floor, st) then return end
  redis.call('HSET', M, 'x', st, 'xi', sid)
  clear, clear_id = st, sid
  if fam == 'x' then
    -- rebuilt rather than XTRIM MINID, which can leave older entries behind in a stream
    -- that had entries deleted from its middle (see xadd)
    local keep = redis.call('XRANGE', K, sid, '+')
    redis.call('DEL', K)
    for _, ent in ipairs(keep) do redis.call('XADD', K, ent[1], unpack(ent[2])) end
    return
  end
  local touched = {}
  for _, m in ipairs(redis.call('ZRANGE', C, 0, -1)) do
    local elem, s = parse_member(m)
    if lt(s, st) then
      redis.call('ZREM', C, m)
      touched[elem] = true
    end
  end
  local all = redis.call('HGETALL', M)
  for i = 1, #all, 2 do
    local f, v = all[i], all[i + 1]
    if string.sub(f, 1, 2) == 'm:' then
      local bar = string.find(v, '|', 1, true)
      if lt(string.sub(v, 2, bar and bar - 1 or #v), st) then
        redis.call('HDEL', M, f)
        touched[string.sub(f, 3)] = true
      end
    end
  end
  for elem in pairs(touched) do materialize(elem) end
  if fam == nil or fam == 'r' then
    if redis.call('HEXISTS', M, 'm:') == 0 then redis.call('DEL', K) end
  end
end

-- Stream ids "ms-seq" compared numerically (seq may exceed 2^53: compare as decimal text).
local function id_lt(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if #am ~= #bm then return #am < #bm end
  if am ~= bm then return lt(am, bm) end
  if #as ~= #bs then return #as < #bs end
  return lt(as, bs)
end

local function xadd(fields)
  if stale(st) or (clear_id and not id_lt(clear_id, sid)) then return end
  if #redis.call('XRANGE', K, sid, sid) > 0 then return end -- duplicate
  local top = redis.call('XREVRANGE', K, '+', '-', 'COUNT', 1)
  if #top == 0 or id_lt(top[1][1], sid) then
    local info = redis.pcall('XADD', K, sid, unpack(fields))
    if type(info) == 'table' and info.err then
      -- last-generated-id above every entry (entries trimmed by a DEL): rewind it.
      redis.call('XSETID', K, #top > 0 and top[1][1] or '0-1')
      redis.call('XADD', K, sid, unpack(fields))
    end
    return
  end
  -- Arrived after newer entries: take them out, insert in place, put them back.
  local later = redis.call('XRANGE', K, '(' .. sid, '+')
  for _, ent in ipairs(later) do redis.call('XDEL', K, ent[1]) end
  local below = redis.call('XREVRANGE', K, '+', '-', 'COUNT', 1)
  redis.call('XSETID', K, #below > 0 and below[1][1] or '0-1')
  redis.call('XADD', K, sid, unpack(fields))
  for _, ent in ipairs(later) do redis.call('XADD', K, ent[1], unpack(ent[2])) end
end

-- GC (periodic sweep, `walrus apply --gc-horizon`): forget tombstones and contributions older
-- than the horizon stamp ARGV[2]; ops older than it are ignored from now on (floor g). A key
-- that is gone (deleted, or expired before the horizon) whose sidecar holds nothing newer than
-- the horizon loses its sidecars altogether: from then on an op older than the horizon would
-- apply as new, which is why the horizon must exceed every replication delay. Returns the number
-- of entries removed (sidecar fields and contributions).
local function gc()
  if floor and not lt(floor, st) then return 0 end
  local removed = 0
  local all = redis.call('HGETALL', M)
  for i = 1, #all, 2 do
    local f, v = all[i], all[i + 1]
    local kind, elem = string.sub(f, 1, 2), string.sub(f, 3)
    if kind == 'm:' and string.sub(v, 1, 1) == '-' and lt(string.sub(v, 2), st) and
        #contribs(elem) == 0 then
      removed = removed + redis.call('HDEL', M, f)
    end
  end
  -- Contributions older than the horizon: integer sums stay as they are in the value; zset
  -- scores are folded into the base in stamp order, so the score stays bit-identical.
  local folded = {}
  for _, m in ipairs(redis.call('ZRANGE', C, 0, -1)) do
    local elem, s, d = parse_member(m)
    if lt(s, st) then
      removed = removed + redis.call('ZREM', C, m)
      if fam == 'z' then
        if not folded[elem] then
          local flag, _, score = base_of(elem)
          folded[elem] = (flag == '+') and tonumber(score) or 0
        end
        folded[elem] = folded[elem] + tonumber(d)
      end
    end
  end
  for elem, v in pairs(folded) do
    local _, bs = base_of(elem)
    redis.call('HSET', M, 'm:' .. elem, '+' .. (bs or '') .. '|' .. string.format('%.17g', v))
  end
  if clear and lt(clear, st) then removed = removed + redis.call('HDEL', M, 'x', 'xi') end
  -- A dead key: gone from Redis, no contributions, every stamp older than the horizon and no
  -- expiry that has not fired before it (an expiry still ahead decides the fate of later writes).
  if redis.call('EXISTS', K) == 0 and redis.call('EXISTS', C) == 0 then
    local horizon_ms = tonumber(string.sub(st, 1, 12), 16)
    local dead = true
    local left = redis.call('HGETALL', M)
    for i = 1, #left, 2 do
      local f, v = left[i], left[i + 1]
      local bar = string.find(v, '|', 1, true)
      if f == 'x' or
          (string.sub(f, 1, 2) == 'm:' and not lt(string.sub(v, 2, bar and bar - 1 or #v), st)) or
          (f == 'es' and not lt(v, st)) or
          (f == 'e' and v ~= '0' and not (tonumber(v) < horizon_ms)) then
        dead = false
        break
      end
    end
    if dead then
      redis.call('DEL', M)
      return removed + #left / 2
    end
  end
  redis.call('HSET', M, 'g', st)
  return removed
end

local function main()
local err
local a = {}
for i = A0, #ARGV - (OB and 2 or 0) do a[#a + 1] = ARGV[i] end

if op == 'SET' then
  err = family('r')
  if not err then
    set_base('', '+', nil, function() redis.call('SET', K, a[1]) end)
    write_expiry()
  end
elseif op == 'DEL' then
  clear_key()
elseif op == 'INCRBY' then
  err = family('c')
  if not err and add_contrib('', a[1]) then
    local r = redis.pcall('INCRBY', K, a[1])
    if type(r) == 'table' and r.err then return redis.error_reply(r.err) end
  end
  if not err then write_expiry() end
elseif op == 'SADD' or op == 'SREM' then
  err = family('s')
  if not err then
    local flag = (op == 'SADD') and '+' or '-'
    for _, m in ipairs(a) do
      set_base(m, flag, nil, function()
        if flag == '+' then redis.call('SADD', K, m) else redis.call('SREM', K, m) end
      end)
    end
    write_expiry()
  end
elseif op == 'HSET' or op == 'HDEL' or op == 'HINCRBY' then
  err = family('h')
  if not err then
    if op == 'HSET' then
      for i = 1, #a, 2 do
        local f, v = a[i], a[i + 1]
        set_base(f, '+', nil, function(kept)
          redis.call('HSET', K, f, v)
          for _, c in ipairs(kept) do redis.pcall('HINCRBY', K, f, c[2]) end
        end)
      end
    elseif op == 'HDEL' then
      for _, f in ipairs(a) do
        set_base(f, '-', nil, function() materialize(f) end)
      end
    elseif add_contrib(a[1], a[2]) then
      redis.pcall('HINCRBY', K, a[1], a[2])
    end
    write_expiry()
  end
elseif op == 'ZADD' or op == 'ZREM' or op == 'ZINCRBY' then
  err = family('z')
  if not err then
    if op == 'ZADD' then
      for i = 1, #a, 2 do
        local s, m = a[i], a[i + 1]
        set_base(m, '+', s, function() materialize(m) end)
      end
    elseif op == 'ZREM' then
      for _, m in ipairs(a) do set_base(m, '-', nil, function() materialize(m) end) end
    else
      local added, newest = add_contrib(a[2], a[1])
      -- the newest contribution extends the stamp-ordered sum; an older one re-sums it
      if added and newest then
        redis.call('ZINCRBY', K, a[1], a[2])
      elseif added then
        materialize(a[2])
      end
    end
    write_expiry()
  end
elseif op == 'XADD' then
  err = family('x')
  if not err then
    xadd(a)
    write_expiry()
  end
elseif op == 'EXPIRE' or op == 'PERSIST' then
  write_expiry()
elseif op == 'GC' then
  return gc()
else
  return redis.error_reply('WALRUS-CRDT unknown op ' .. op)
end
if err then return redis.error_reply(err) end
apply_expiry()
return 'OK'
end

if not OB then return main() end
-- Errors raised by redis.call (e.g. WRONGTYPE on a key written outside walrus) and error
-- replies (family conflicts, INCRBY overflow) alike go to the outbox. Writes the op made before
-- failing stay (Lua scripts do not roll back), exactly as without the outbox.
local ok, res = pcall(main)
local msg
if not ok then
  msg = type(res) == 'table' and res.err or tostring(res)
elseif type(res) == 'table' and res.err then
  msg = res.err
else
  return res
end
redis.call('HSET', OB, ARGV[#ARGV - 1], ARGV[#ARGV] .. msg)
return redis.error_reply(msg)

-- Frontdoor state store, part 1: call context, keys, JSON, records, events, timers, transitions.
--
-- A Redis Functions library. The Python loader puts first the ``#!lua`` line, the event bus's
-- ``fd_publish`` (cti.bus.redis.PUBLISH_LUA) and generated constants (FUNCTION_NAME, TRANSITIONS,
-- TERMINAL_CONTACT, OFFER_END_EVENT), then concatenates the parts. Everything is defined once, at
-- load; a call only sets the context below (``begin``) and runs one operation. Redis runs one
-- function at a time, so the context is never shared between two calls.
--
-- keys: the centre stream's counter and stream keys.
-- args: op, now, settings, then the op's own arguments (from args[FIRST_ARG]); settings is
--       "offer_timeout_ms wrap_up_timeout_ms decision_log retention_ms stream_maxlen trim prefix"
--       (every argument costs the Python client time to send).

local FIRST_ARG = 4
local CALL, P, NOW, OFFER_TIMEOUT, WRAP_TIMEOUT, DECISION_LOG, RETENTION, MAXLEN, TRIM
local K_SEQ, K_STREAM, K_TIMERS, K_QUEUED, K_AGENTS, K_OFFER_SEQ
local cache -- one Lua table per record per call (see ``load``)
local emitted -- seq, type, data of each event this call appended, flat (see the dispatcher)

local function begin(keys, args)
  CALL = redis.call -- not reachable while the library loads
  K_SEQ, K_STREAM = keys[1], keys[2]
  NOW = tonumber(args[2])
  local ot, wt, dl, rt
  ot, wt, dl, rt, MAXLEN, TRIM, P = string.match(args[3], "^(%d+) (%d+) (%d+) (%d+) (%d+) ([~=]) (.*)$")
  OFFER_TIMEOUT, WRAP_TIMEOUT, DECISION_LOG, RETENTION = tonumber(ot), tonumber(wt), tonumber(dl), tonumber(rt)
  K_TIMERS, K_QUEUED, K_AGENTS, K_OFFER_SEQ = P .. ":timers", P .. ":queued", P .. ":agents", P .. ":offer_seq"
  cache = { c = {}, a = {}, o = {}, dirty = {} }
  emitted = {}
end

local function kc(id) return P .. ":c:" .. id end
local function ka(id) return P .. ":a:" .. id end
local function ko(id) return P .. ":o:" .. id end
local function kco(id) return P .. ":co:" .. id end
local function kd(id) return P .. ":d:" .. id end
local function kwait(target) return P .. ":wait:" .. target end
local function kidle(target) return P .. ":idle:" .. target end

-- Errors: raised as tables and turned into error replies "CODE detail" by the dispatcher. Every
-- operation validates before it writes, because Redis does not roll back a failed script.
local function fail(code, detail) error({ fd = code .. " " .. detail }, 0) end

-- Integers as decimal text: Lua's own number-to-string keeps only 14 significant digits.
local function istr(n) return string.format("%d", n) end

-- Byte-wise string order (as Python compares str and Redis orders members), whatever the locale.
local function bytes_lt(a, b)
  if a == b then return false end
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- JSON is built by concatenation, so lists stay lists and integers stay exact. In Redis's Lua every
-- call and every intermediate string costs, and the events are most of a decision's work: one
-- concatenation per event is several times faster than a generic encoder.
local function q(s) -- a JSON string; strings that need no escaping (nearly all) are quoted directly
  if string.find(s, '[%c"\\]') == nil then return '"' .. s .. '"' end
  return cjson.encode(s)
end

local function qn(s) -- a JSON string or null
  if s == nil then return "null" end
  return q(s)
end

local function strs(t) -- a JSON list of strings
  if #t == 0 then return "[]" end
  local quoted = {}
  for i, s in ipairs(t) do quoted[i] = q(s) end
  return "[" .. table.concat(quoted, ",") .. "]"
end

local function emit(typ, data) -- data: the JSON object's text
  local seq = fd_publish(K_SEQ, K_STREAM, MAXLEN, TRIM, typ, istr(NOW), data)
  local n = #emitted
  emitted[n + 1], emitted[n + 2], emitted[n + 3] = seq, typ, data
end

-- Records: one Lua table per contact/agent/offer per call (an identity cache, like the objects of
-- the memory store). ``put`` changes fields of the table only; ``flush`` writes every changed
-- record with one HSET (and one HDEL) when the operation has succeeded, however often it changed.
local keyfn = { c = kc, a = ka, o = ko }

local function load(kind, id)
  local rec = cache[kind][id]
  if rec ~= nil then return rec end
  local flat = CALL("HGETALL", keyfn[kind](id))
  if #flat == 0 then return nil end
  rec = { _key = keyfn[kind](id) }
  for i = 1, #flat, 2 do rec[flat[i]] = flat[i + 1] end
  cache[kind][id] = rec
  return rec
end

local function put(rec, ...) -- field, value, field, value...; nil deletes the field
  local n = select("#", ...)
  local args = { ... }
  local changed = rec._changed
  if changed == nil then
    changed = {}
    rec._changed = changed
    cache.dirty[#cache.dirty + 1] = rec
  end
  for i = 1, n, 2 do
    local f, v = args[i], args[i + 1]
    if type(v) == "number" then v = istr(v) end
    rec[f] = v
    changed[f] = true
  end
end

local function create(kind, id, ...) -- a new record (its hash must not exist), fields as for put
  local rec = { _key = keyfn[kind](id) }
  cache[kind][id] = rec
  put(rec, ...)
  return rec
end

local function forget(kind, id) -- its hash was deleted: nothing of it is to be written
  local rec = cache[kind][id]
  if rec ~= nil then rec._changed = {} end
  cache[kind][id] = nil
end

local function flush()
  for _, rec in ipairs(cache.dirty) do
    local set, del = {}, {}
    for f in pairs(rec._changed) do
      local v = rec[f]
      if v == nil then
        del[#del + 1] = f
      else
        set[#set + 1] = f
        set[#set + 1] = v
      end
    end
    if #set > 0 then CALL("HSET", rec._key, unpack(set)) end
    if #del > 0 then CALL("HDEL", rec._key, unpack(del)) end
    rec._changed = nil
  end
  cache.dirty = {}
end

-- A record as the reply: one JSON object (one bulk string is far cheaper for the Python client to
-- read than an array of fields). The fields holding JSON are inlined; the rest are strings.
local JSON_FIELDS = { targets = true, plan = true, attrs = true }
local function record_json(rec)
  local parts = {}
  for f, v in pairs(rec) do
    if string.sub(f, 1, 1) ~= "_" then
      if JSON_FIELDS[f] then
        parts[#parts + 1] = '"' .. f .. '":' .. v
      else
        parts[#parts + 1] = '"' .. f .. '":' .. q(v)
      end
    end
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function targets(rec)
  if rec._targets == nil then rec._targets = cjson.decode(rec.targets) end
  return rec._targets
end

local function must_contact(id)
  local c = load("c", id)
  if c == nil then fail("FD404", "contact_not_found no contact " .. id) end
  return c
end

local function must_agent(id)
  local a = load("a", id)
  if a == nil then fail("FD404", "agent_not_found no agent " .. id) end
  return a
end

local function must_offer(id)
  local o = load("o", id)
  if o == nil then fail("FD404", "offer_not_found no offer " .. id) end
  return o
end

local function advance(machine, event, current)
  local to = TRANSITIONS[machine][event][current]
  if to == nil then fail("FDILLEGAL", machine .. "|" .. current .. "|" .. event) end
  return to
end

local function set_timer(key, due) CALL("ZADD", K_TIMERS, istr(due), key) end
local function clear_timer(key) CALL("ZREM", K_TIMERS, key) end

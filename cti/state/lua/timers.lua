-- Part 4: timers, reads and the function the library registers.

local function fire(kind, id)
  if kind == "offer" then
    local o = load("o", id)
    if o == nil then return end
    local c, a = end_offer(o, "time_out")
    not_ready_after_offer(a, "missed")
    release_agent(a)
    requeue(c, "offer_timed_out")
  elseif kind == "wrap" then
    local a = load("a", id)
    local c = a ~= nil and a.contact_id ~= nil and load("c", a.contact_id)
    if c then close(c, "timeout") end
  elseif kind == "stage" then
    local c = load("c", id)
    if c == nil then return end
    local added = apply_stages(c)
    if #added > 0 and c.state == "queued" then
      emit("contact.widened", '{"contact":' .. q(c.id) .. ',"added":' .. strs(added) .. ',"targets":' .. c.targets .. "}")
      route_contact(c)
    end
  elseif kind == "purge" then
    for _, oid in ipairs(CALL("LRANGE", kco(id), 0, -1)) do
      CALL("DEL", ko(oid))
      forget("o", oid)
    end
    CALL("DEL", kc(id), kd(id), kco(id))
    forget("c", id)
  end
end

-- Claim and fire due timers one at a time, in (due, key) order, like the memory store's heap: a
-- timer set while firing that is already due fires in the same call. Each is written out as it
-- fires, so a timer that failed (a bug) leaves those before it complete, and is not tried again.
OPS.fire_due = function(limit)
  limit = tonumber(limit)
  local fired = 0
  while fired < limit do
    local top = CALL("ZRANGE", K_TIMERS, "-inf", istr(NOW), "BYSCORE", "LIMIT", 0, 1)
    if #top == 0 then break end
    CALL("ZREM", K_TIMERS, top[1])
    fired = fired + 1
    local sep = string.find(top[1], ":", 1, true)
    fire(string.sub(top[1], 1, sep - 1), string.sub(top[1], sep + 1))
    flush()
  end
  return fired
end

-- reads: one consistent snapshot per call -----------------------------------------------------
local function records(kfn, ids) -- a JSON list of the records
  local out = {}
  for i, id in ipairs(ids) do
    local fields = CALL("HGETALL", kfn(id))
    local rec = {}
    for j = 1, #fields, 2 do rec[fields[j]] = fields[j + 1] end
    out[i] = record_json(rec)
  end
  return "[" .. table.concat(out, ",") .. "]"
end

OPS.agents = function() return records(ka, CALL("SMEMBERS", K_AGENTS)) end

OPS.waiting = function(target_arg)
  local target = opt(target_arg)
  local key = K_QUEUED
  if target ~= nil then key = kwait(target) end
  return records(kc, CALL("ZRANGE", key, 0, -1))
end

OPS.decisions = function(cid)
  must_contact(cid)
  return "[" .. table.concat(CALL("LRANGE", kd(cid), 0, -1), ",") .. "]"
end

-- dispatch --------------------------------------------------------------------------------------
-- The reply: { the operation's result, NOW, then seq, type, data of each event appended }, so the
-- calling node hands its own events to its subscriptions without reading them back.
redis.register_function(FUNCTION_NAME, function(keys, args)
  local handler = OPS[args[1]]
  if handler == nil then return redis.error_reply("FDBADOP unknown operation " .. tostring(args[1])) end
  begin(keys, args)
  local ok, result = pcall(handler, unpack(args, FIRST_ARG))
  if ok then flush() end
  cache = nil
  if ok then
    if result == nil then result = false end
    local reply = { result, istr(NOW) }
    for i = 1, #emitted do reply[i + 2] = emitted[i] end
    emitted = nil
    return reply
  end
  emitted = nil
  if type(result) == "table" and result.fd ~= nil then return redis.error_reply(result.fd) end
  error(result, 0)
end)

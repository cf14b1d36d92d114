-- Part 2: indexing, matching, offers, stages. Mirrors the private helpers of MemoryStateStore.
-- A contact is in the waiting sets (and K_QUEUED) iff queued; an agent in the idle sets iff
-- available and idle (field ``indexed``). Where the memory store indexes and then matches, the
-- routes below match first and index only if nothing matched: the same outcome, without writing
-- and at once deleting the entries of a contact or agent that is offered straight away.

local function index_contact(c)
  local score = c.score
  for _, t in ipairs(targets(c)) do CALL("ZADD", kwait(t), score, c.id) end
  CALL("ZADD", K_QUEUED, score, c.id)
end

local function unindex_contact(c)
  for _, t in ipairs(targets(c)) do CALL("ZREM", kwait(t), c.id) end
  CALL("ZREM", K_QUEUED, c.id)
end

local function index_agent(a)
  for _, t in ipairs(targets(a)) do CALL("ZADD", kidle(t), a.idle_since, a.id) end
  put(a, "indexed", "1")
end

local function unindex_agent(a)
  if a.indexed == nil then return end
  for _, t in ipairs(targets(a)) do CALL("ZREM", kidle(t), a.id) end
  put(a, "indexed", nil)
end

-- The lowest (score, member) across the targets' sets, its target, and every target's top.
local function best(keyf, tlist)
  local best_id, best_score, best_target
  local tops = {}
  for _, t in ipairs(tlist) do
    local top = CALL("ZRANGE", keyf(t), 0, 0, "WITHSCORES")
    if #top > 0 then
      local id, score = top[1], tonumber(top[2])
      tops[#tops + 1] = { t, id, score }
      if best_id == nil or score < best_score or (score == best_score and bytes_lt(id, best_id)) then
        best_id, best_score, best_target = id, score, t
      end
    end
  end
  return best_id, best_target, tops
end

local function offer_contact(c, a, target, rule, candidates)
  local cstate = advance("contact", "offer", c.state)
  local engine = advance("agent", "offer", a.engine)
  unindex_contact(c)
  unindex_agent(a)
  local oid = c.id .. ".o" .. istr(CALL("INCR", K_OFFER_SEQ))
  local expires = NOW + OFFER_TIMEOUT
  create("o", oid, "id", oid, "contact_id", c.id, "agent_id", a.id, "state", "pending",
    "created_at", NOW, "expires_at", expires, "rule", rule)
  CALL("RPUSH", kco(c.id), oid)
  put(c, "state", cstate, "offer_id", oid, "agent_id", a.id)
  put(a, "engine", engine, "offer_id", oid, "contact_id", c.id)
  set_timer("offer:" .. oid, expires)
  local decision = '{"at":' .. istr(NOW) .. ',"rule":' .. q(rule) .. ',"target":' .. q(target) .. ',"winner":'
    .. q(a.id) .. ',"offer":' .. q(oid) .. ',"candidates":[' .. table.concat(candidates, ",") .. "]}"
  if DECISION_LOG > 0 and CALL("RPUSH", kd(c.id), decision) > DECISION_LOG then
    CALL("LTRIM", kd(c.id), -DECISION_LOG, -1)
  end
  emit("offer.created", '{"offer":' .. q(oid) .. ',"contact":' .. q(c.id) .. ',"agent":' .. q(a.id)
    .. ',"queue":' .. q(c.queue) .. ',"expires_at":' .. istr(expires) .. ',"decision":' .. decision .. "}")
end

local function rule_for(target, default)
  if string.sub(target, 1, 1) == "@" then return "named_worker" end
  return default
end

-- A contact became routable: the longest-idle agent serving one of its targets, or it waits.
local function route_contact(c)
  local aid, target, tops = best(kidle, targets(c))
  if aid == nil then
    index_contact(c)
    return
  end
  local candidates = {}
  for i, top in ipairs(tops) do
    candidates[i] = '{"target":' .. q(top[1]) .. ',"agent":' .. q(top[2]) .. ',"idle_since":' .. istr(top[3]) .. "}"
  end
  offer_contact(c, load("a", aid), target, rule_for(target, "longest_idle_agent"), candidates)
end

-- An agent became routable: the first waiting contact in the global order it can serve, or it idles.
local function route_agent(a)
  local cid, target, tops = best(kwait, targets(a))
  if cid == nil then
    index_agent(a)
    return
  end
  local candidates = {}
  for i, top in ipairs(tops) do
    candidates[i] = '{"target":' .. q(top[1]) .. ',"contact":' .. q(top[2]) .. ',"score":' .. istr(top[3]) .. "}"
  end
  offer_contact(load("c", cid), a, target, rule_for(target, "first_waiting_contact"), candidates)
end

local function make_routable(a)
  if a.status == "available" and a.engine == "idle" then
    put(a, "idle_since", NOW)
    route_agent(a)
  end
end

local function requeue(c, reason)
  put(c, "state", advance("contact", "requeue", c.state), "offer_id", nil, "agent_id", nil)
  emit("contact.requeued", '{"contact":' .. q(c.id) .. ',"queue":' .. q(c.queue) .. ',"reason":' .. q(reason) .. "}")
  route_contact(c)
end

local function release_agent(a)
  put(a, "engine", advance("agent", "release", a.engine), "offer_id", nil, "contact_id", nil)
  emit("agent.engine", '{"agent":' .. q(a.id) .. ',"engine":' .. q(a.engine) .. ',"status":' .. q(a.status) .. "}")
  make_routable(a)
end

-- Add the targets of every plan stage now due; schedule the next one. Returns the added targets.
local function apply_stages(c)
  local stages = cjson.decode(c.plan)
  local enqueued_at = tonumber(c.enqueued_at)
  local elapsed = NOW - enqueued_at
  local nxt = tonumber(c.next_stage)
  local current = targets(c)
  local added = {}
  local changed = false
  while nxt < #stages and stages[nxt + 1][1] <= elapsed do
    for _, t in ipairs(stages[nxt + 1][2]) do
      local present = false
      for _, have in ipairs(current) do
        if have == t then present = true break end
      end
      if not present then
        current[#current + 1] = t
        added[#added + 1] = t
        changed = true
      end
    end
    nxt = nxt + 1
  end
  if changed then
    c._targets = current
    put(c, "targets", strs(current), "next_stage", nxt)
  else
    put(c, "next_stage", nxt)
  end
  if nxt < #stages then
    set_timer("stage:" .. c.id, enqueued_at + stages[nxt + 1][1]) -- replaces the last one
  else
    clear_timer("stage:" .. c.id)
  end
  return added
end

local function terminate(c)
  put(c, "ended_at", NOW)
  unindex_contact(c)
  clear_timer("stage:" .. c.id)
  set_timer("purge:" .. c.id, NOW + RETENTION)
end

-- End a pending offer (validated first); returns its contact and agent.
local function end_offer(o, how)
  local state = advance("offer", how, o.state)
  local c, a = load("c", o.contact_id), load("a", o.agent_id)
  put(o, "state", state)
  clear_timer("offer:" .. o.id)
  emit(OFFER_END_EVENT[how], '{"offer":' .. q(o.id) .. ',"contact":' .. q(c.id) .. ',"agent":' .. q(a.id)
    .. ',"queue":' .. q(c.queue) .. "}")
  return c, a
end

local function not_ready_after_offer(a, reason)
  put(a, "status", "not_ready", "reason", reason, "status_since", NOW)
  emit("agent.status", '{"agent":' .. q(a.id) .. ',"status":"not_ready","reason":' .. q(reason) .. ',"engine":"idle"}')
end

local function to_wrap_up(c, by)
  local cstate = advance("contact", "end_talk", c.state)
  local a = load("a", c.agent_id)
  local engine = advance("agent", "wrap_up", a.engine)
  put(c, "state", cstate)
  put(a, "engine", engine)
  local wrap_until = NOW + WRAP_TIMEOUT
  set_timer("wrap:" .. a.id, wrap_until)
  emit("contact.wrap_up", '{"contact":' .. q(c.id) .. ',"agent":' .. q(a.id) .. ',"queue":' .. q(c.queue)
    .. ',"by":' .. q(by) .. ',"wrap_up_until":' .. istr(wrap_until) .. "}")
end

local function close(c, by)
  local cstate = advance("contact", "close", c.state)
  local a = load("a", c.agent_id)
  advance("agent", "release", a.engine)
  put(c, "state", cstate)
  clear_timer("wrap:" .. a.id)
  terminate(c)
  emit("contact.closed", '{"contact":' .. q(c.id) .. ',"agent":' .. q(a.id) .. ',"queue":' .. q(c.queue)
    .. ',"by":' .. q(by) .. "}")
  release_agent(a)
end

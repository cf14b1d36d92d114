-- Part 3: the operations of the StateStore port. Each returns the record the Python method returns
-- as JSON (``record_json``), or a count, or a JSON list for the reads.

local OPS = {}

local function agent_owns(c, aid)
  if c.agent_id ~= aid then fail("FD403", "not_your_contact this contact is not with this agent") end
end

local function opt(s) -- optional string argument: "-" none, "+text" text
  if s == "-" then return nil end
  return string.sub(s, 2)
end

-- agents ----------------------------------------------------------------------------------------
OPS.register_agent = function(aid, targets_json)
  local a = load("a", aid)
  if a == nil then
    a = create("a", aid, "id", aid, "targets", targets_json, "status", "logged_out", "engine", "idle",
      "idle_since", 0, "status_since", NOW)
    CALL("SADD", K_AGENTS, aid)
    return record_json(a)
  end
  if a.indexed ~= nil then
    unindex_agent(a)
    a._targets = nil
    put(a, "targets", targets_json)
    route_agent(a) -- under the new targets, same idle_since
  else
    a._targets = nil
    put(a, "targets", targets_json)
  end
  return record_json(a)
end

OPS.set_status = function(aid, event, reason_arg, only_if_arg)
  local a = must_agent(aid)
  local only_if = opt(only_if_arg)
  if only_if ~= nil and a.status ~= only_if then return record_json(a) end
  local reason = opt(reason_arg)
  local new = advance("agent status", event, a.status)
  if new == "logged_out" and a.engine ~= "idle" then
    fail("FD409", "agent_busy cannot log out with a contact in hand")
  end
  local changed = new ~= a.status or reason ~= a.reason
  if new ~= "not_ready" then reason = nil end
  put(a, "status", new, "reason", reason)
  if changed then
    put(a, "status_since", NOW)
    emit("agent.status", '{"agent":' .. q(a.id) .. ',"status":' .. q(a.status) .. ',"reason":' .. qn(a.reason)
      .. ',"engine":' .. q(a.engine) .. "}")
  end
  if new == "available" then
    if a.indexed == nil then make_routable(a) end
  else
    unindex_agent(a)
  end
  return record_json(a)
end

-- contacts --------------------------------------------------------------------------------------
OPS.enqueue = function(cid, queue, priority, enqueued_at, score, plan_json, attrs_json)
  local existing = CALL("HGET", kc(cid), "state")
  if existing and not TERMINAL_CONTACT[existing] then
    fail("FD409", "contact_exists contact " .. cid .. " is already in progress")
  end
  local state = advance("contact", "enqueue", "ivr")
  if existing then -- a finished contact of the same id: start afresh (its purge is off)
    CALL("DEL", kc(cid))
    clear_timer("purge:" .. cid)
  end
  local stage0 = cjson.decode(plan_json)[1][2]
  local c = create("c", cid, "id", cid, "queue", queue, "priority", priority, "enqueued_at", enqueued_at,
    "score", score, "state", state, "targets", strs(stage0), "plan", plan_json, "next_stage", "1",
    "attrs", attrs_json)
  c._targets = stage0
  apply_stages(c)
  emit("contact.queued", '{"contact":' .. q(cid) .. ',"queue":' .. q(queue) .. ',"priority":' .. istr(tonumber(priority))
    .. ',"enqueued_at":' .. istr(tonumber(enqueued_at)) .. ',"targets":' .. c.targets .. ',"attrs":' .. attrs_json .. "}")
  route_contact(c)
  return record_json(c)
end

OPS.accept = function(oid, aid)
  local o = must_offer(oid)
  if o.agent_id ~= aid then fail("FD403", "not_your_offer this offer is for another agent") end
  local ostate = advance("offer", "accept", o.state)
  local c, a = load("c", o.contact_id), load("a", aid)
  local cstate = advance("contact", "connect", c.state)
  local engine = advance("agent", "connect", a.engine)
  put(o, "state", ostate)
  put(c, "state", cstate)
  put(a, "engine", engine, "offer_id", nil)
  clear_timer("offer:" .. oid)
  clear_timer("stage:" .. c.id)
  emit("offer.accepted", '{"offer":' .. q(oid) .. ',"contact":' .. q(c.id) .. ',"agent":' .. q(aid)
    .. ',"queue":' .. q(c.queue) .. ',"waited_ms":' .. istr(NOW - tonumber(c.enqueued_at)) .. "}")
  return record_json(c)
end

OPS.reject = function(oid, aid)
  local o = must_offer(oid)
  if o.agent_id ~= aid then fail("FD403", "not_your_offer this offer is for another agent") end
  local c, a = end_offer(o, "reject")
  not_ready_after_offer(a, "rejected")
  release_agent(a)
  requeue(c, "rejected")
  return record_json(c)
end

OPS.hangup = function(cid)
  local c = must_contact(cid)
  local state = c.state
  if state == "queued" or state == "offered" or state == "ivr" then
    local cstate = advance("contact", "abandon", state)
    local a = nil
    if state == "offered" and c.offer_id ~= nil then
      local _
      _, a = end_offer(load("o", c.offer_id), "cancel")
    end
    put(c, "state", cstate)
    terminate(c)
    emit("contact.abandoned", '{"contact":' .. q(c.id) .. ',"queue":' .. q(c.queue)
      .. ',"waited_ms":' .. istr(NOW - tonumber(c.enqueued_at)) .. ',"was":' .. q(state) .. "}")
    if a ~= nil then release_agent(a) end
    return record_json(c)
  end
  if state == "connected" or state == "held" or state == "consulting" then
    to_wrap_up(c, "caller")
    return record_json(c)
  end
  fail("FD409", "contact_not_active contact is " .. state .. ": nothing to hang up")
end

local function talk_step(event, event_type)
  return function(cid, aid)
    local c = must_contact(cid)
    agent_owns(c, aid)
    put(c, "state", advance("contact", event, c.state))
    emit(event_type, '{"contact":' .. q(c.id) .. ',"agent":' .. q(aid) .. "}")
    return record_json(c)
  end
end
OPS.hold = talk_step("hold", "contact.held")
OPS.resume = talk_step("resume", "contact.resumed")

OPS.end_call = function(cid, aid)
  local c = must_contact(cid)
  agent_owns(c, aid)
  to_wrap_up(c, "agent")
  return record_json(c)
end

OPS.finish_wrap_up = function(cid, aid)
  local c = must_contact(cid)
  agent_owns(c, aid)
  close(c, "agent")
  return record_json(c)
end

local function must_wait(c, what)
  if c.state ~= "queued" then
    fail("FD409", "contact_not_waiting only a waiting contact can be " .. what)
  end
end

OPS.move = function(cid, queue, plan_json)
  local c = must_contact(cid)
  must_wait(c, "moved")
  unindex_contact(c) -- from the old targets
  local stage0 = cjson.decode(plan_json)[1][2]
  c._targets = stage0
  put(c, "queue", queue, "plan", plan_json, "targets", strs(stage0), "next_stage", 1)
  apply_stages(c)
  emit("contact.moved", '{"contact":' .. q(c.id) .. ',"queue":' .. q(queue) .. ',"targets":' .. c.targets .. "}")
  route_contact(c)
  return record_json(c)
end

OPS.set_priority = function(cid, priority, base_score)
  local c = must_contact(cid)
  must_wait(c, "reprioritised")
  put(c, "priority", priority, "score", tonumber(base_score) + tonumber(c.enqueued_at))
  emit("contact.priority", '{"contact":' .. q(c.id) .. ',"priority":' .. istr(tonumber(priority)) .. "}")
  route_contact(c)
  return record_json(c)
end

-- link-flap: a mesh link that keeps going down and up disturbs routing for
-- everyone. Count each link's flaps; after 3 within 10 minutes, keep it
-- down for 15 minutes, then bring it back.
--
-- The flaps are counted on the kernel's link.down events, each of which
-- reaches the policy however short the flap was: a policy polling the
-- interfaces every 10 s would miss any flap shorter than that. The release
-- needs a clock, not an event, so a second policy of this file does it.
local FLAPS, WINDOW, PENALTY = 3, duration("10m"), duration("15m")
local MESH = "mesh" -- links whose name contains this are damped

-- The links link-flap took down, and when: both policies of this file see
-- this table; link-flap-release keeps it in its state across restarts of
-- the worker and reloads of the file.
local damped = {}

policy "link-flap" {
  description = "damp flapping mesh links",
  on = "link.down",
  -- when does the bookkeeping and says whether there is anything to do;
  -- act does it.
  when = function(node, ev)
    local n, now = ev.iface, os.time()
    if not n or not string.find(n, MESH, 1, true) or damped[n] then
      return false -- not a mesh link, or our own iface.down
    end
    state.flaps = state.flaps or {}
    local recent = {}
    for _, t in ipairs(state.flaps[n] or {}) do
      if now - t < WINDOW then recent[#recent + 1] = t end
    end
    recent[#recent + 1] = now
    state.flaps[n] = recent
    return #recent >= FLAPS
  end,
  act = function(node, ev)
    local n = ev.iface
    iface.down(n)
    damped[n] = os.time()
    alert("warning", "%s flapped %d times in %d minutes: down for %d minutes",
      n, #state.flaps[n], WINDOW / 60, PENALTY / 60)
    state.flaps[n] = nil
  end,
}

policy "link-flap-release" {
  description = "bring damped mesh links back after their penalty",
  every = "1m",
  when = function(node)
    state.damped = state.damped or {}
    for n, t in pairs(damped) do state.damped[n] = t end
    local now, due = os.time(), false
    for n, t in pairs(state.damped) do
      damped[n] = t -- again after a restart of the worker
      due = due or now - t >= PENALTY
    end
    return due
  end,
  act = function(node)
    local now = os.time()
    for n, t in pairs(state.damped) do
      if now - t >= PENALTY then
        iface.up(n)
        state.damped[n], damped[n] = nil, nil
        log("%s: penalty over, link up again", n)
      end
    end
  end,
}

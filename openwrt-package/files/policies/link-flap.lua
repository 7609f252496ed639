-- link-flap: a mesh link that keeps going down and up disturbs routing for
-- everyone. Count each link's flaps; after 3 within 10 minutes, keep it
-- down for 15 minutes, then bring it back.
local FLAPS, WINDOW, PENALTY = 3, duration("10m"), duration("15m")
local MESH = "mesh" -- links whose name contains this are damped

policy "link-flap" {
  description = "damp flapping mesh links",
  every = "10s",
  -- when does the bookkeeping and says whether there is anything to do;
  -- act does it.
  when = function(node)
    local now = os.time()
    state.last, state.flaps, state.damped = state.last or {}, state.flaps or {}, state.damped or {}
    state.down, state.up = {}, {}
    for _, i in ipairs(node.interfaces or {}) do
      local n = i.name
      if string.find(n, MESH, 1, true) then
        if state.damped[n] then
          if now - state.damped[n] >= PENALTY then state.up[#state.up + 1] = n end
        elseif state.last[n] == "up" and i.state == "down" then
          local recent = {}
          for _, t in ipairs(state.flaps[n] or {}) do
            if now - t < WINDOW then recent[#recent + 1] = t end
          end
          recent[#recent + 1] = now
          state.flaps[n] = recent
          if #recent >= FLAPS then state.down[#state.down + 1] = n end
        end
        state.last[n] = i.state
      end
    end
    return #state.down + #state.up > 0
  end,
  act = function(node)
    for _, n in ipairs(state.down) do
      iface.down(n)
      state.damped[n] = os.time()
      alert("warning", "%s flapped %d times in %d minutes: down for %d minutes",
        n, #state.flaps[n], WINDOW / 60, PENALTY / 60)
    end
    for _, n in ipairs(state.up) do
      iface.up(n)
      state.damped[n], state.flaps[n] = nil, nil
      log("%s: penalty over, link up again", n)
    end
  end,
}

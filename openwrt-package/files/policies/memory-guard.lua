-- memory-guard: when the node runs short of memory, cap the sliver that
-- uses the most at what it holds now; when it is critical, stop it.
local LOW, CRITICAL = 15, 5 -- percent of memory available

local function available_percent(node)
  local m = node.system.memory
  return 100 * m.available_bytes / m.total_bytes
end

policy "memory-guard" {
  description = "cap or stop the hungriest sliver under memory pressure",
  every    = "20s",
  hold     = "40s",
  cooldown = "5m",
  priority = 15,
  when = function(node)
    return available_percent(node) < LOW
  end,
  act = function(node)
    local hungriest
    for _, s in ipairs(node.slivers or {}) do
      if s.state == "started" and (hungriest == nil or s.memory_bytes > hungriest.memory_bytes) then
        hungriest = s
      end
    end
    if not hungriest then return end
    local avail = available_percent(node)
    if avail < CRITICAL then
      sliver.stop(hungriest.name)
      alert("critical", "%.1f%% memory available: stopped %s", avail, hungriest.name)
    else
      sliver.limit(hungriest.name, { memory_bytes = hungriest.memory_bytes })
      alert("warning", "%.1f%% memory available: capped %s at %d MiB", avail,
        hungriest.name, math.floor(hungriest.memory_bytes / 1048576))
    end
  end,
}

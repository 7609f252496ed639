-- cpu-guard: when the node stays loaded, halve the CPU of the slivers that
-- use the most, and tell the admins.
policy "cpu-guard" {
  description = "throttle busy slivers while the node is overloaded",
  every    = "30s",
  hold     = "2m",          -- the load must stay high for 2 minutes
  cooldown = "10m",         -- then act at most every 10 minutes
  priority = 10,
  when = function(node)
    -- load per core, so the policy fits any router
    return node.system.load[1] / (node.system.cpu.count or 1) > 2
  end,
  act = function(node)
    local throttled = 0
    for _, s in ipairs(node.slivers or {}) do
      if s.state == "started" and (s.cpu_percent or 0) > 50 then
        sliver.limit(s.name, { cpu = 0.5 })
        throttled = throttled + 1
      end
    end
    alert("warning", "load %.1f on %d cores: throttled %d busy slivers",
      node.system.load[1], node.system.cpu.count or 1, throttled)
  end,
}

-- demo-load: cpu-guard (openwrt-package/files/policies/cpu-guard.lua) at
-- demo speed. When the node's load per core stays above 2 for 4 seconds,
-- cap every started sliver at half a core, and tell the admins. The demo
-- sends it to one node in a signed desired document.
policy "demo-load" {
  description = "cap the slivers while the node is overloaded (demo speed)",
  every    = "2s",
  hold     = "4s",
  cooldown = "1m",
  priority = 20,
  when = function(node)
    return node.system.load[1] / (node.system.cpu.count or 1) > 2
  end,
  act = function(node)
    local capped = 0
    for _, s in ipairs(node.slivers or {}) do
      if s.state == "started" then
        sliver.limit(s.name, { cpu = 0.5 })
        capped = capped + 1
      end
    end
    alert("warning", "load %.1f on %d cores: capped %d slivers at half a core",
      node.system.load[1], node.system.cpu.count or 1, capped)
  end,
}

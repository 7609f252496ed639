policy "cpu-guard" {
  every    = "30s",
  when     = function(node) return node.system.load[1] > 8 end,
  hold     = "2m",
  cooldown = "10m",
  act      = function(node)
    alert("warning", "load %.1f", node.system.load[1])
  end,
}

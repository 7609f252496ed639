-- A node whose flash is nearly full goes to safe state (its slivers come
-- down to deployed) before it runs out.
policy "flash-safe" {
  act = function(fleet)
    for _, n in ipairs(fleet.nodes) do
      if n.has_telemetry and n.flash_used_percent > 90 and n.node_state ~= "safe" then
        node.set_state(n.id, "safe")
      end
    end
  end,
}

-- A node that stays overloaded (its load above 4 on every evaluation for
-- 10 minutes: overloaded for a while, not a spike) hands its fleet slivers
-- to the next candidate node of their group; then the policy waits half
-- an hour before it moves anything again.
--
-- hold is the policy's, over its condition: it counts while some node is
-- overloaded. act moves off the nodes whose 1- and 5-minute loads are
-- both above 4, so a node that only just spiked is left alone.
local function overloaded(n)
  return n.has_telemetry and n.load[1] > 4 and n.load[2] > 4
end

policy "move-off-overloaded" {
  hold     = "10m",
  cooldown = "30m",
  when = function(fleet)
    for _, n in ipairs(fleet.nodes) do
      if overloaded(n) then return true end
    end
    return false
  end,
  act = function(fleet)
    for _, n in ipairs(fleet.nodes) do
      if overloaded(n) then
        for _, s in ipairs(n.slivers) do
          if s.remote and fleet.slices[s.slice] and fleet.slices[s.slice].count > 0 then
            slice.move(s.slice, n.id)
          end
        end
      end
    end
  end,
}

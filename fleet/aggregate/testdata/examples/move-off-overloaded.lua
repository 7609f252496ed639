-- A node that stays overloaded (its 15-minute load above 4: overloaded for
-- a while, not a spike) hands its fleet slivers to the next candidate
-- node of their group.
policy "move-off-overloaded" {
  when = function(fleet)
    for _, n in ipairs(fleet.nodes) do
      if n.has_telemetry and n.load[3] > 4 then return true end
    end
    return false
  end,
  act = function(fleet)
    for _, n in ipairs(fleet.nodes) do
      if n.has_telemetry and n.load[3] > 4 then
        for _, s in ipairs(n.slivers) do
          if s.remote and fleet.slices[s.slice] and fleet.slices[s.slice].count > 0 then
            slice.move(s.slice, n.id)
          end
        end
      end
    end
  end,
}

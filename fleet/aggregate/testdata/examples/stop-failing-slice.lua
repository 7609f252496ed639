-- A slice whose slivers fail on more than a third of its nodes is stopped
-- (its slivers asked down to deployed) until someone looks.
policy "stop-failing-slice" {
  act = function(fleet)
    for name, s in pairs(fleet.slices) do
      local placed = #s.placed
      if placed > 0 and s.failed * 3 > placed then
        slice.stop(name)
        alert("slice %s: %d of %d slivers failed: stopped", name, s.failed, placed)
      end
    end
  end,
}

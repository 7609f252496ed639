-- The cpu-guard condition and action over a node-like table.
local node = { system = { load = { 4.5, 3.0, 2.0 }, cpu = { count = 2 } },
  slivers = { { name = "s3", cpu_percent = 80 }, { name = "s4", cpu_percent = 10 } } }
function bench()
  local n = 0
  if node.system.load[1] / node.system.cpu.count > 2 then
    for _, s in ipairs(node.slivers) do if s.cpu_percent > 50 then n = n + 1 end end
  end
  return n
end

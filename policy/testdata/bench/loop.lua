-- Arithmetic in a loop.
function bench()
  local s = 0
  for i = 1, 100000 do s = s + i % 7 end
  return s
end

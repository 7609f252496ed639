-- Table building and reading.
function bench()
  local t = {}
  for i = 1, 5000 do t[i] = { id = i, name = "s" .. i } end
  local n = 0
  for _, v in ipairs(t) do if v.id % 3 == 0 then n = n + 1 end end
  return n
end

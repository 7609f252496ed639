-- String formatting, matching and concatenation.
function bench()
  local parts = {}
  for i = 1, 2000 do
    local s = string.format("eth%d rx=%d", i, i * 1000)
    if s:find("rx=%d+0") then parts[#parts + 1] = s:upper() end
  end
  return #table.concat(parts, ",")
end

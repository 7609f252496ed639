-- expect: error
policy "hostile" { every = "1s", act = function(node)
  local t = {}
  for i = 1, 1000000 do t[i] = i end
  local n = select("#", unpack(t))
end }

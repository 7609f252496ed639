-- expect: error exceeds the limit
policy "hostile" { every = "1s", act = function(node)
  local big, t = ("x"):rep(1000000), {}
  for i = 1, 100 do t[i] = big end
  local s = table.concat(t)
end }

-- expect: budget
policy "hostile" { every = "1s", act = function(node)
  local keep = {}
  for i = 1, 1e6 do keep[i] = ("x"):rep(1e6) .. i end
end }

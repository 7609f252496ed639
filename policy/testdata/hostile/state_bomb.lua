-- expect: error state is larger than
policy "hostile" { every = "1s", act = function(node)
  for i = 1, 100 do state[i] = ("x"):rep(10000) end
end }

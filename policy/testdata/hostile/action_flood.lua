-- expect: error more than 64 actions
policy "hostile" { every = "1s", act = function(node)
  for i = 1, 1e6 do alert("info", "flood %d", i) end
end }

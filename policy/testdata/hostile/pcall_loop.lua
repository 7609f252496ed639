-- expect: cpu
policy "hostile" { every = "1s", act = function(node)
  while true do pcall(function() while true do end end) end
end }

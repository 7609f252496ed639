-- expect: cpu
policy "hostile" { every = "1s", act = function(node)
  xpcall(function() error("x") end, function(e) while true do end end)
end }

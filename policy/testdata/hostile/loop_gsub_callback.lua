-- expect: cpu
policy "hostile" { every = "1s", act = function(node)
  string.gsub("abc", ".", function(c) while true do end end)
end }

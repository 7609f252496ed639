-- expect: error exceeds the limit
policy "hostile" { every = "1s", act = function(node)
  local s = ("x"):rep(100000)
  s = s:gsub(".", ("y"):rep(1000))
end }

-- expect: budget
policy "hostile" { every = "1s", act = function(node)
  local s = "x"
  while true do s = s .. s end
end }

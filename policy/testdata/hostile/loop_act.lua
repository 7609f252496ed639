-- expect: cpu
policy "hostile" { every = "1s", act = function(node) local i = 0 while true do i = i + 1 end end }

-- expect: cpu
policy "hostile" { every = "1s", act = function(node) for i = 1, math.huge do end end }

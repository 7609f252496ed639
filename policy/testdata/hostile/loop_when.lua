-- expect: cpu
policy "hostile" { every = "1s", when = function(node) while true do end end, act = function() end }

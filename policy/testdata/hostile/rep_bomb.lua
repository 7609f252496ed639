-- expect: error exceeds the limit
policy "hostile" { every = "1s", act = function(node) local s = string.rep("x", 2^31) end }

-- expect: error exceeds the limit
string = nil
policy "hostile" { every = "1s", act = function(node) local s = ("x"):rep(1e9) end }

-- expect: error stack overflow
local function f(n) return f(n + 1) + 1 end
policy "hostile" { every = "1s", act = function(node) f(1) end }

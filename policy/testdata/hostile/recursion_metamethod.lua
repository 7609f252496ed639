-- expect: error stack overflow
local t
t = setmetatable({}, { __index = function(_, k) return t[k .. "x"] end })
policy "hostile" { every = "1s", act = function(node) return t.a end }

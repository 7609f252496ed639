-- expect: cpu
local t = setmetatable({}, { __index = function(t, k) while true do end end })
policy "hostile" { every = "1s", act = function(node) return t.x end }

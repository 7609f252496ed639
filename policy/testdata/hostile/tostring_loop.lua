-- expect: cpu
local obj = setmetatable({}, { __tostring = function() while true do end end })
policy "hostile" { every = "1s", act = function(node) log("%s", tostring(obj)) end }

-- expect: error error object is a table value
local bad = setmetatable({}, { __tostring = function() while true do end end })
policy "hostile" { every = "1s", act = function(node) error(bad) end }

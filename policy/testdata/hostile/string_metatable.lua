-- expect: error attempt to index
-- The string metatable is out of reach: getmetatable("") is a plain string.
local mt = getmetatable("")
mt.__index.rep = function() while true do end end
policy "hostile" { every = "1s", act = function(node) end }

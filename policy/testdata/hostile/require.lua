-- expect: error require is not available
local os2 = require("os")

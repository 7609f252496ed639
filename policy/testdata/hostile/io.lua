-- expect: error io is not available
policy "hostile" { every = "1s", act = function(node) local f = io.open("/etc/shadow") end }

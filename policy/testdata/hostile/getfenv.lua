-- expect: error getfenv is not available
policy "hostile" { every = "1s", act = function(node) local g = getfenv(print) end }

-- expect: error width or precision too long
policy "hostile" { every = "1s", act = function(node) local s = string.format("%99999999d", 1) end }

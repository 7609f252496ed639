-- expect: error
policy "hostile" { every = "1s", act = function(node) if then end }

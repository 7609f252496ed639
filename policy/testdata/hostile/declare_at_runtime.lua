-- expect: error policies are declared when the file loads
policy "hostile" { every = "1s", act = function(node) policy "other" { every = "1s", act = function() end } end }

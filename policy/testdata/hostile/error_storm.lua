-- expect: quarantine
-- Fails every time, with a huge message: truncated, then quarantined.
policy "hostile" { every = "1s", act = function(node) error(string.rep("storm ", 100000)) end }

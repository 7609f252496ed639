package policy

func (w *worker) test(d *dec) error { return nil }

//go:build !linux

package telemetry

// appendNodeMetrics writes nothing where there is no /proc.
func appendNodeMetrics(*promWriter, string) {}
